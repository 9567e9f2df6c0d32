"""GET /admin/users: every account with filters, pages and counts from one query."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.bookings.tickets import new_ticket_code
from boxoffice.events.models import Event, EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.admin.support import EVENTS, USERS, book
from tests.factories import Caller, make_event, make_user, signed_in


async def listed(client: httpx.AsyncClient, admin: Caller, **params: str | int) -> Any:
    response = await client.get(USERS, headers=admin.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def emails(page: Any) -> list[str]:
    return [item["email"] for item in page["items"]]


async def test_lists_every_user_in_id_order_with_counts(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db, email="ann@example.com", role=Role.ORGANIZER)
    bob = await make_user(db, email="bob@example.com", is_active=False)

    page = await listed(client, admin)

    assert page["total"] == 3
    assert (page["limit"], page["offset"]) == (20, 0)
    assert [item["id"] for item in page["items"]] == [admin.id, ann.id, bob.id]
    assert page["items"][2] == {
        "id": bob.id,
        "email": "bob@example.com",
        "full_name": bob.full_name,
        "role": "attendee",
        "is_active": False,
        "email_verified": True,
        "notify_reminders": True,
        "notify_changes": True,
        "created_at": page["items"][2]["created_at"],
        "bookings_count": 0,
        "events_count": 0,
    }


async def test_filters_by_role(client: httpx.AsyncClient, db: AsyncSession, admin: Caller) -> None:
    await make_user(db, email="ann@example.com", role=Role.ORGANIZER)
    await make_user(db, email="bob@example.com")

    page = await listed(client, admin, role="organizer")

    assert emails(page) == ["ann@example.com"]
    assert page["total"] == 1


async def test_filters_by_is_active(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    await make_user(db, email="ann@example.com")
    await make_user(db, email="banned@example.com", is_active=False)

    banned = await listed(client, admin, is_active="false")
    active = await listed(client, admin, is_active="true")

    assert emails(banned) == ["banned@example.com"]
    assert "banned@example.com" not in emails(active)
    assert active["total"] == 2


async def test_q_matches_email_or_full_name_case_insensitively(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    await make_user(db, email="jazz.fan@example.com", full_name="Ann Lee")
    await make_user(db, email="bob@example.com", full_name="Bob JAZZMAN")
    await make_user(db, email="carol@example.com", full_name="Carol Rock")

    page = await listed(client, admin, q="JaZz")

    assert emails(page) == ["jazz.fan@example.com", "bob@example.com"]


async def test_q_takes_percent_and_underscore_literally(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    await make_user(db, email="a_b@example.com", full_name="Under Score")
    await make_user(db, email="axb@example.com", full_name="100% Real")
    await make_user(db, email="plain@example.com", full_name="100 Percent")

    underscore = await listed(client, admin, q="a_b")
    percent = await listed(client, admin, q="0%")

    assert emails(underscore) == ["a_b@example.com"]
    assert emails(percent) == ["axb@example.com"]


async def test_filters_combine(client: httpx.AsyncClient, db: AsyncSession, admin: Caller) -> None:
    await make_user(db, email="ann.org@example.com", role=Role.ORGANIZER)
    await make_user(db, email="ann.gone@example.com", role=Role.ORGANIZER, is_active=False)
    await make_user(db, email="ann.att@example.com")

    page = await listed(client, admin, q="ann", role="organizer", is_active="true")

    assert emails(page) == ["ann.org@example.com"]


async def test_pages_through_users_with_the_total_of_all(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    users = [await make_user(db) for _ in range(4)]

    page = await listed(client, admin, limit=2, offset=2)

    assert [item["id"] for item in page["items"]] == [users[1].id, users[2].id]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)


async def test_bookings_count_counts_every_booking_of_any_status(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    attendee = await signed_in(db, settings, Role.ATTENDEE)
    kept = await book(client, attendee, (await make_event(db, organizer)).id)
    dropped = await book(client, attendee, (await make_event(db, organizer)).id)
    await client.delete(f"/api/v1/bookings/{dropped['id']}", headers=attendee.headers)
    full = await make_event(db, organizer, capacity=1)
    await book(client, await signed_in(db, settings, Role.ATTENDEE), full.id)
    await book(client, attendee, full.id, wait=True)

    page = await listed(client, admin, q=attendee.user.email)

    assert kept["status"] == "confirmed"
    assert page["items"][0]["bookings_count"] == 3


async def test_events_count_leaves_out_deleted_events(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    await make_event(db, organizer, status=EventStatus.DRAFT)
    await make_event(db, organizer, status=EventStatus.CANCELLED)
    doomed = await make_event(db, organizer)
    deleted = await client.delete(f"{EVENTS}/{doomed.id}", headers=admin.headers)

    page = await listed(client, admin, role="organizer")

    assert deleted.status_code == 204
    assert page["items"][0]["events_count"] == 2


@contextmanager
def counted_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def _users_with_history(db: AsyncSession, count: int) -> None:
    """`count` users, each organizing an event and holding a booking for it."""
    for _ in range(count):
        user = await make_user(db, role=Role.ORGANIZER)
        organized = await make_event(db, user)
        db.add(
            Booking(
                event_id=organized.id,
                user_id=user.id,
                seats=1,
                status=BookingStatus.CONFIRMED,
                active=True,
                ticket_code=new_ticket_code(),
            )
        )
        await db.execute(update(Event).where(Event.id == organized.id).values(seats_booked=1))
    await db.commit()


async def _statements_to_list_everyone(
    app: FastAPI, client: httpx.AsyncClient, admin: Caller
) -> list[str]:
    with counted_statements(app.state.engine) as statements:
        page = await listed(client, admin, limit=100)
    assert all(
        (item["bookings_count"], item["events_count"]) == (1, 1) for item in page["items"][1:]
    )
    return statements


async def test_statements_to_list_users_do_not_grow_with_their_number(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    await _users_with_history(db, 3)
    for_three = await _statements_to_list_everyone(app, client, admin)
    await _users_with_history(db, 27)

    for_thirty = await _statements_to_list_everyone(app, client, admin)

    assert len(for_thirty) == len(for_three)
    # The counts come from the very statement that reads the page of users.
    counting = [s for s in for_thirty if "FROM bookings" in s or "FROM events" in s]
    assert len(counting) == 1
    assert "FROM users" in counting[0]


async def test_unknown_role_filter_is_a_validation_error(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    response = await client.get(USERS, headers=admin.headers, params={"role": "superuser"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_page_size_over_100_is_a_validation_error(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    response = await client.get(USERS, headers=admin.headers, params={"limit": 101})

    assert response.status_code == 422
