"""One Alembic history for every engine: upgrade from empty gives exactly the models' schema,
and upgrading a database that holds data keeps the data."""

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from boxoffice import migrations
from boxoffice.db import UTCDateTime
from boxoffice.models import Base
from boxoffice.settings import Settings
from tests import engines


@pytest.fixture
async def empty_database(engine_name: str) -> AsyncIterator[str]:
    url = await engines.create_database(engine_name)
    yield url
    await engines.drop_database(engine_name, url)


@pytest.fixture
async def models_database(engine_name: str) -> AsyncIterator[str]:
    """A database made straight from the models (`create_all`), the schema the code expects."""
    url = await engines.create_database(engine_name)
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()
    yield url
    await engines.drop_database(engine_name, url)


T = TypeVar("T")


async def _inspect(url: str, look: Callable[[Connection], T]) -> T:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        result = await connection.run_sync(look)
    await engine.dispose()
    return result


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _sql(text: object) -> str:
    # Whitespace is the one difference allowed: both sides are read back by the same engine,
    # which stores (PostgreSQL, MariaDB) or echoes (SQLite) the text it was given.
    return re.sub(r"\s+", " ", str(text)).strip()


def _constraints(connection: Connection) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Per table of the models: its CHECK constraints, unique constraints and indexes (with
    their expressions and partial-index conditions), as the engine reports them.

    Alembic's autogenerate comparison ignores CHECK constraints and, on some engines, unique
    ones; this reads them all."""
    inspector = inspect(connection)
    found: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for table in Base.metadata.sorted_tables:
        name = table.name
        checks = [(c["name"], _sql(c["sqltext"])) for c in inspector.get_check_constraints(name)]
        uniques = [
            (u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(name)
        ]
        indexes = [
            (
                i["name"],
                tuple(i["column_names"]),
                bool(i["unique"]),
                tuple(_sql(e) for e in i.get("expressions") or ()),
                tuple(
                    sorted(
                        (key, _sql(value))
                        for key, value in (i.get("dialect_options") or {}).items()
                        if key.endswith("_where")
                    )
                ),
            )
            for i in inspector.get_indexes(name)
        ]
        found[name] = {
            "checks": sorted(checks, key=repr),
            "uniques": sorted(uniques, key=repr),
            "indexes": sorted(indexes, key=repr),
        }
    return found


def _named_in_models(kind: type[sa.Constraint]) -> set[str]:
    return {
        str(constraint.name)
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, kind) and constraint.name
    }


def _reflected_names(reflected: dict[str, dict[str, list[tuple[Any, ...]]]], part: str) -> set[str]:
    return {entry[0] for table in reflected.values() for entry in table[part]}


def _flat(reflected: dict[str, dict[str, list[tuple[Any, ...]]]]) -> set[tuple[Any, ...]]:
    return {
        (table, part, *entry)
        for table, parts in reflected.items()
        for part, entries in parts.items()
        for entry in entries
    }


async def test_upgrade_from_empty_matches_the_models(empty_database: str) -> None:
    await asyncio.to_thread(migrations.upgrade, Settings(database_url=empty_database))

    assert await _inspect(empty_database, _schema_differences) == []


async def test_upgrade_from_empty_has_the_models_checks_unique_constraints_and_indexes(
    empty_database: str, models_database: str
) -> None:
    await asyncio.to_thread(migrations.upgrade, Settings(database_url=empty_database))

    migrated = await _inspect(empty_database, _constraints)
    modelled = await _inspect(models_database, _constraints)

    # The engine reports every named CHECK and unique constraint of the models, so the
    # comparison below cannot pass by reading nothing.
    assert _reflected_names(modelled, "checks") == _named_in_models(sa.CheckConstraint)
    assert _named_in_models(sa.UniqueConstraint) <= _reflected_names(
        modelled, "uniques"
    ) | _reflected_names(modelled, "indexes")
    assert {
        "only after the upgrade": _flat(migrated) - _flat(modelled),
        "only in the models": _flat(modelled) - _flat(migrated),
    } == {"only after the upgrade": set(), "only in the models": set()}


async def test_downgrade_to_base_removes_everything_and_upgrade_works_again(
    empty_database: str,
) -> None:
    settings = Settings(database_url=empty_database)
    await asyncio.to_thread(migrations.upgrade, settings)

    await asyncio.to_thread(migrations.downgrade, settings, "base")

    assert await _inspect(empty_database, _tables) == {"alembic_version"}
    await asyncio.to_thread(migrations.upgrade, settings)
    assert await _inspect(empty_database, _schema_differences) == []


# The tables as revision 0001 made them: written here, not taken from the models, which follow
# head. Only the columns the rows below fill.
AT = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)
USERS = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("full_name", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("role", sa.String),
    sa.column("is_active", sa.Boolean),
    sa.column("created_at", UTCDateTime),
)
EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("organizer_id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("description", sa.Text),
    sa.column("location", sa.String),
    sa.column("timezone", sa.String),
    sa.column("starts_at", UTCDateTime),
    sa.column("ends_at", UTCDateTime),
    sa.column("capacity", sa.Integer),
    sa.column("seats_booked", sa.Integer),
    sa.column("waitlist_count", sa.Integer),
    sa.column("status", sa.String),
    sa.column("created_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
    sa.column("deleted_at", UTCDateTime),
)
BOOKINGS = sa.table(
    "bookings",
    sa.column("id", sa.Integer),
    sa.column("event_id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("seats", sa.Integer),
    sa.column("status", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("ticket_code", sa.String),
    sa.column("created_at", UTCDateTime),
    sa.column("cancelled_at", UTCDateTime),
    sa.column("checked_in_at", UTCDateTime),
)
AUDIT_LOG = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("at", UTCDateTime),
    sa.column("actor_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("target_type", sa.String),
    sa.column("target_id", sa.Integer),
    sa.column("detail", sa.Text),
)
ROWS: dict[str, tuple[sa.TableClause, list[dict[str, Any]]]] = {
    "users": (
        USERS,
        [
            {
                "id": user_id,
                "email": f"user{user_id}@example.com",
                "full_name": f"Ünïcode {role} ✓",
                "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
                "role": role,
                "is_active": user_id != 3,
                "created_at": AT,
            }
            for user_id, role in ((1, "organizer"), (2, "attendee"), (3, "attendee"), (4, "admin"))
        ],
    ),
    "events": (
        EVENTS,
        [
            {
                "id": 10,
                "organizer_id": 1,
                "title": "Concert — 10% off",
                "description": "line one\nline two",
                "location": "Hall A",
                "timezone": "Europe/Berlin",
                "starts_at": datetime(2027, 1, 2, 18, 0, tzinfo=UTC),
                "ends_at": datetime(2027, 1, 2, 21, 0, tzinfo=UTC),
                "capacity": 2,
                "seats_booked": 2,
                "waitlist_count": 1,
                "status": "published",
                "created_at": AT,
                "updated_at": AT,
                "deleted_at": None,
            },
            {
                "id": 11,
                "organizer_id": 1,
                "title": "Deleted draft",
                "description": "",
                "location": "Nowhere",
                "timezone": "UTC",
                "starts_at": datetime(2027, 2, 1, 9, 0, tzinfo=UTC),
                "ends_at": None,
                "capacity": 100000,
                "seats_booked": 0,
                "waitlist_count": 0,
                "status": "cancelled",
                "created_at": AT,
                "updated_at": AT,
                "deleted_at": AT,
            },
        ],
    ),
    "bookings": (
        BOOKINGS,
        [
            {
                "id": 100,
                "event_id": 10,
                "user_id": 2,
                "seats": 2,
                "status": "confirmed",
                "active": True,
                "ticket_code": "ABCDEFGHJKLMNPQR",
                "created_at": AT,
                "cancelled_at": None,
                "checked_in_at": AT,
            },
            {
                "id": 101,
                "event_id": 10,
                "user_id": 3,
                "seats": 1,
                "status": "waitlisted",
                "active": True,
                "ticket_code": "BCDEFGHJKLMNPQRS",
                "created_at": AT,
                "cancelled_at": None,
                "checked_in_at": None,
            },
            {
                "id": 102,
                "event_id": 10,
                "user_id": 3,
                "seats": 10,
                "status": "cancelled",
                "active": None,
                "ticket_code": "CDEFGHJKLMNPQRST",
                "created_at": AT,
                "cancelled_at": AT,
                "checked_in_at": None,
            },
        ],
    ),
    "audit_log": (
        AUDIT_LOG,
        [
            {
                "id": 1000,
                "at": AT,
                "actor_id": 4,
                "action": "user.banned",
                "target_type": "user",
                "target_id": 3,
                "detail": '{"reason": "spam"}',
            },
            {
                "id": 1001,
                "at": AT,
                "actor_id": None,
                "action": "event.deleted",
                "target_type": "event",
                "target_id": 11,
                "detail": "{}",
            },
        ],
    ),
}


def _insert_rows(connection: Connection) -> None:
    for table, rows in ROWS.values():
        connection.execute(sa.insert(table), rows)
    connection.commit()


def _read_rows(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [
            dict(row._mapping)
            for row in connection.execute(sa.select(table).order_by(table.c.id)).all()
        ]
        for name, (table, _) in ROWS.items()
    }


async def test_upgrading_a_database_with_data_from_the_first_revision_keeps_it(
    empty_database: str,
) -> None:
    settings = Settings(database_url=empty_database)
    await asyncio.to_thread(migrations.upgrade, settings, "0001")
    await _inspect(empty_database, _insert_rows)

    await asyncio.to_thread(migrations.upgrade, settings)

    assert await _inspect(empty_database, _read_rows) == {
        name: rows for name, (_, rows) in ROWS.items()
    }
    assert await _inspect(empty_database, _schema_differences) == []


def _catalogue_rows(connection: Connection) -> dict[str, Any]:
    types = connection.execute(
        sa.text(
            "SELECT id, event_id, name, price_minor, min_per_booking, max_per_booking, hidden,"
            " position FROM ticket_types ORDER BY event_id"
        )
    ).all()
    tickets = connection.execute(
        sa.text(
            "SELECT booking_id, ticket_type_id, code, unit_price_minor, checked_in_at"
            " FROM tickets ORDER BY booking_id, id"
        )
    ).all()
    events = connection.execute(
        sa.text("SELECT id, currency, seats_held, catalogue_version FROM events ORDER BY id")
    ).all()
    bookings = connection.execute(
        sa.text("SELECT id, total_price_minor, currency FROM bookings ORDER BY id")
    ).all()
    return {"types": types, "tickets": tickets, "events": events, "bookings": bookings}


async def test_ticket_types_arrive_with_a_general_admission_per_event_and_a_ticket_per_seat(
    empty_database: str,
) -> None:
    """Revision 0004 on the data of revision 0001: every event sells one free type, every
    booking holds one ticket of it per seat (each with a code of its own), and every count and
    booking code stays (the test above checks those)."""
    settings = Settings(database_url=empty_database)
    await asyncio.to_thread(migrations.upgrade, settings, "0001")
    await _inspect(empty_database, _insert_rows)

    await asyncio.to_thread(migrations.upgrade, settings)

    found = await _inspect(empty_database, _catalogue_rows)
    type_of = {row.event_id: row.id for row in found["types"]}
    assert [tuple(row)[1:] for row in found["types"]] == [
        (10, "General admission", 0, 1, 10, False, 0),
        (11, "General admission", 0, 1, 10, False, 0),
    ]
    bookings = ROWS["bookings"][1]
    assert [(t.booking_id, t.ticket_type_id, t.unit_price_minor) for t in found["tickets"]] == [
        (b["id"], type_of[b["event_id"]], 0) for b in bookings for _ in range(b["seats"])
    ]
    codes = [t.code for t in found["tickets"]]
    assert len(set(codes)) == len(codes) == sum(b["seats"] for b in bookings)
    assert not set(codes) & {b["ticket_code"] for b in bookings}
    checked_in = {t.booking_id for t in found["tickets"] if t.checked_in_at is not None}
    assert checked_in == {b["id"] for b in bookings if b["checked_in_at"] is not None}
    assert [(e.id, e.currency, e.seats_held) for e in found["events"]] == [
        (10, "EUR", 0),
        (11, "EUR", 0),
    ]
    assert len({e.catalogue_version for e in found["events"]}) == 2
    assert [tuple(b) for b in found["bookings"]] == [(b["id"], 0, "EUR") for b in bookings]


def _door_rows(connection: Connection) -> dict[str, Any]:
    lists = connection.execute(
        sa.text("SELECT id, event_id, name, allow_reentry FROM check_in_lists ORDER BY id")
    ).all()
    inside = connection.execute(
        sa.text(
            "SELECT check_in_presence.check_in_list_id, tickets.booking_id,"
            " check_in_presence.inside, check_in_presence.entries"
            " FROM check_in_presence JOIN tickets ON tickets.id = check_in_presence.ticket_id"
            " ORDER BY tickets.id"
        )
    ).all()
    bookings = connection.execute(
        sa.text("SELECT id, created_at, cancelled_at, updated_at FROM bookings ORDER BY id")
    ).all()
    return {"lists": lists, "inside": inside, "bookings": bookings}


async def test_the_door_arrives_with_a_main_entrance_per_event_and_everyone_checked_in_inside(
    empty_database: str,
) -> None:
    """Revision 0006 on the data of revision 0001: each event's Main entrance, through which
    every seat checked in before counts as inside; each booking's `updated_at` its last change
    known."""
    settings = Settings(database_url=empty_database)
    await asyncio.to_thread(migrations.upgrade, settings, "0001")
    await _inspect(empty_database, _insert_rows)

    await asyncio.to_thread(migrations.upgrade, settings)

    found = await _inspect(empty_database, _door_rows)
    assert [tuple(row)[1:] for row in found["lists"]] == [
        (10, "Main entrance", True),
        (11, "Main entrance", True),
    ]
    list_of = {row.event_id: row.id for row in found["lists"]}
    bookings = ROWS["bookings"][1]
    assert [tuple(row) for row in found["inside"]] == [
        (list_of[b["event_id"]], b["id"], True, 1)
        for b in bookings
        if b["checked_in_at"] is not None
        for _ in range(b["seats"])
    ]
    assert found["inside"], "the data of revision 0001 checks nobody in: nothing was tested"
    assert [row.updated_at for row in found["bookings"]] == [
        row.cancelled_at or row.created_at for row in found["bookings"]
    ]


def _account_rows(connection: Connection) -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in connection.execute(
            sa.text(
                "SELECT id, email_verified, notify_reminders, notify_changes FROM users ORDER BY id"
            )
        ).all()
    ]


async def test_accounts_made_before_verification_count_as_verified(empty_database: str) -> None:
    """Revision 0007 on the data of revision 0001: every existing account (banned or not) is
    verified and gets reminders and changes; an account made afterwards by the code starts
    unverified (tests/accounts)."""
    settings = Settings(database_url=empty_database)
    await asyncio.to_thread(migrations.upgrade, settings, "0001")
    await _inspect(empty_database, _insert_rows)

    await asyncio.to_thread(migrations.upgrade, settings)

    assert await _inspect(empty_database, _account_rows) == [
        (user["id"], True, True, True) for user in ROWS["users"][1]
    ]
