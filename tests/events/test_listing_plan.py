"""At 100,000 events the public listing is still an index scan: EXPLAIN of what the API runs."""

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Executable, Select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from boxoffice.catalogue import repository as catalogue_repository
from boxoffice.db import count_of, utcnow
from boxoffice.events import repository
from boxoffice.events.models import Event
from boxoffice.events.schemas import EventFilters, EventSort
from boxoffice.users.models import Role
from tests.factories import make_user

EVENTS = 100_000


class Explain(Executable, ClauseElement):
    """`EXPLAIN <statement>`, with the statement's parameters bound as the API binds them."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(Explain, "postgresql")
def _explain(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN " + compiler.process(element.statement, **kw)


async def plan_of(db: AsyncSession, statement: Select[Any]) -> str:
    return "\n".join((await db.scalars(Explain(statement))).all())


async def fill_events(db: AsyncSession) -> None:
    """100,000 events over two years around now: a tenth drafts, a tenth cancelled, 2% deleted."""
    organizer = await make_user(db, role=Role.ORGANIZER)
    await db.execute(
        text(
            """
            INSERT INTO events (organizer_id, title, description, location, timezone,
                                starts_at, ends_at, capacity, seats_booked, seats_held,
                                waitlist_count, currency, catalogue_version,
                                status, created_at, updated_at, deleted_at)
            SELECT :organizer_id, 'Event ' || g, 'Description ' || g, 'Hall ' || (g % 50),
                   'UTC', start, start + interval '2 hours', 100, g % 100, 0, 0, 'EUR', 0,
                   CASE g % 10 WHEN 0 THEN 'draft' WHEN 1 THEN 'cancelled' ELSE 'published' END,
                   start - interval '60 days', start - interval '60 days',
                   CASE WHEN g % 50 = 2 THEN start - interval '30 days' END
            FROM generate_series(1, :events) AS g,
                 LATERAL (SELECT (now() AT TIME ZONE 'UTC') - interval '365 days'
                                 + g * interval '630 seconds' AS start) AS s
            """
        ),
        {"organizer_id": organizer.id, "events": EVENTS},
    )
    await db.commit()


async def analyze(db: AsyncSession) -> None:
    await db.execute(text("ANALYZE events"))
    await db.commit()


@pytest.mark.engines("postgresql")
@pytest.mark.parametrize("sort", ["starts_at", "-starts_at"])
async def test_listing_page_is_an_index_scan_at_100000_events(
    db: AsyncSession, sort: EventSort
) -> None:
    await fill_events(db)
    await analyze(db)
    listing = repository.listing(EventFilters(sort=sort), now=utcnow(), owner=None)

    plan = await plan_of(db, repository.shown(listing).limit(20).offset(0))

    print(f"\nlisting page plan ({sort}):\n{plan}")  # noqa: T201 - docs/events-listing-plan.md
    direction = "Backward " if sort.startswith("-") else ""
    assert f"Index Scan {direction}using ix_events_listing on events" in plan
    assert "Seq Scan on events" not in plan
    assert "Sort" not in plan, "the index gives the order: no sort of every upcoming event"


@pytest.mark.engines("postgresql")
async def test_listing_total_is_an_index_only_scan_once_vacuumed(
    app: FastAPI, db: AsyncSession
) -> None:
    # Counting 40% of the table, PostgreSQL reads the heap (a Seq Scan) until VACUUM has marked
    # its pages all-visible; from then on, as autovacuum keeps it, the index alone answers.
    await fill_events(db)
    async with app.state.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) events"))
    listing = repository.listing(EventFilters(), now=utcnow(), owner=None)

    plan = await plan_of(db, count_of(listing))

    print(f"\nlisting total plan:\n{plan}")  # noqa: T201 - docs/events-listing-plan.md
    assert "Index Only Scan using ix_events_listing on events" in plan
    assert "Seq Scan on events" not in plan


@pytest.mark.engines("postgresql")
async def test_a_pages_ticket_types_are_found_through_their_index(db: AsyncSession) -> None:
    await fill_events(db)
    await db.execute(
        text(
            """
            INSERT INTO ticket_types (event_id, name, description, price_minor, min_per_booking,
                                      max_per_booking, hidden, position, created_at)
            SELECT id, 'Type ' || n, '', 100 * n, 1, 10, n = 3, n, created_at
            FROM events, generate_series(1, 3) AS n
            """
        )
    )
    await db.execute(text("ANALYZE ticket_types"))
    await db.commit()
    await analyze(db)
    listing = repository.listing(EventFilters(), now=utcnow(), owner=None)
    page = (await db.scalars(listing.with_only_columns(Event.id).limit(20))).all()
    await db.commit()

    plan = await plan_of(
        db, catalogue_repository.TYPES_WITH_QUOTAS.params(event_ids=page, unfiltered_ids=[])
    )

    print(f"\npage's ticket types plan:\n{plan}")  # noqa: T201 - docs/events-listing-plan.md
    assert "ix_ticket_types_event" in plan
    assert "Seq Scan on ticket_types" not in plan
