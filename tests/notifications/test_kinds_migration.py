"""Revision 0005's part of the outbox: the kinds of SPEC §10 come and go with it."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from boxoffice import migrations
from boxoffice.db import UTCDateTime
from boxoffice.settings import Settings
from tests import engines

# The table as revision 0003 made it: only the columns without a default.
NOTIFICATIONS = sa.table(
    "notifications",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("user_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("due_at", UTCDateTime),
    sa.column("created_at", UTCDateTime),
)
AT = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database_at_0005(engine_name: str) -> AsyncIterator[str]:
    url = await engines.create_database(engine_name)
    await asyncio.to_thread(migrations.upgrade, Settings(database_url=url), "0005")
    yield url
    await engines.drop_database(engine_name, url)


async def _run(url: str, statement: sa.Executable) -> list[tuple[object, ...]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(statement)
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


def _message(number: int, kind: str) -> dict[str, object]:
    return {
        "id": number,
        "kind": kind,
        "user_id": 1,
        "status": "pending",
        "attempts": 0,
        "due_at": AT,
        "created_at": AT,
    }


async def test_the_new_kinds_are_allowed_and_a_downgrade_drops_only_their_messages(
    database_at_0005: str,
) -> None:
    url = database_at_0005
    kinds = ["booking_confirmed", "booking_pending", "booking_expired", "waitlist_offer"]
    kinds += ["payment_received", "payment_refunded", "reminder"]
    await _run(
        url, sa.insert(NOTIFICATIONS).values([_message(i, k) for i, k in enumerate(kinds, 1)])
    )

    await asyncio.to_thread(migrations.downgrade, Settings(database_url=url), "0004")

    left = await _run(url, sa.select(NOTIFICATIONS.c.kind).order_by(NOTIFICATIONS.c.id))
    assert left == [("booking_confirmed",), ("reminder",)]
    with pytest.raises(sa.exc.DBAPIError):
        await _run(url, sa.insert(NOTIFICATIONS).values(_message(10, "booking_pending")))


async def test_an_unknown_kind_is_refused_by_the_database(database_at_0005: str) -> None:
    with pytest.raises(sa.exc.DBAPIError):
        await _run(database_at_0005, sa.insert(NOTIFICATIONS).values(_message(1, "newsletter")))
