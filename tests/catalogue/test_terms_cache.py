"""The per-process cache of sales terms: read once per event, replaced when reloaded, the least
recently used event dropped first. (That stale terms never sell is the ledger's: tests/bookings.)
"""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.catalogue import terms
from boxoffice.catalogue.terms import Terms, TermsCache


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The events whose terms were read from the database, in order; event 404 has none."""
    read: list[int] = []

    async def load(_: AsyncSession, event_id: int) -> Terms | None:
        read.append(event_id)
        return None if event_id == 404 else Terms(len(read), "EUR", ())

    monkeypatch.setattr(terms, "load", load)
    return read


async def test_an_event_s_terms_are_read_once_and_kept(reads: list[int]) -> None:
    cache = TermsCache()
    session = AsyncSession()

    first = await cache.current(session, 1)
    again = await cache.current(session, 1)

    assert reads == [1]
    assert first is not None
    assert first is again


async def test_reloading_replaces_what_was_kept(reads: list[int]) -> None:
    cache = TermsCache()
    session = AsyncSession()
    before = await cache.current(session, 1)

    reloaded = await cache.reload(session, 1)
    kept = await cache.current(session, 1)

    assert reads == [1, 1]
    assert reloaded is kept is not before
    assert kept is not None
    assert kept.version == 2


async def test_an_event_that_is_gone_is_not_kept(reads: list[int]) -> None:
    cache = TermsCache()
    session = AsyncSession()

    assert await cache.current(session, 404) is None
    assert await cache.current(session, 404) is None
    assert reads == [404, 404]


async def test_the_least_recently_used_event_goes_first(reads: list[int]) -> None:
    cache = TermsCache(max_events=2)
    session = AsyncSession()
    for event_id in (1, 2, 1, 3):
        await cache.current(session, event_id)

    await cache.current(session, 1)
    await cache.current(session, 2)

    # 2 was the least recently used when 3 came; 1 stayed.
    assert reads == [1, 2, 3, 2]


async def test_reloading_a_kept_event_drops_no_other(reads: list[int]) -> None:
    cache = TermsCache(max_events=2)
    session = AsyncSession()
    await cache.current(session, 1)
    await cache.current(session, 2)

    await cache.reload(session, 2)
    await cache.current(session, 1)

    assert reads == [1, 2, 2]
