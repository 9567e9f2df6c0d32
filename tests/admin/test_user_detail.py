"""GET /admin/users/{id}: the account, its counts, and its latest bookings and events."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.events.models import EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.admin.support import BOOKINGS, EVENTS, book, user_path
from tests.factories import Caller, make_event, make_user, signed_in


async def test_shows_the_user_with_counts_and_recent_items(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER, email="org@example.com")
    event = await make_event(db, organizer)
    attendee = await signed_in(
        db, settings, Role.ATTENDEE, email="ann@example.com", full_name="Ann Lee"
    )
    booking = await book(client, attendee, event.id, 2)

    response = await client.get(user_path(attendee.id), headers=admin.headers)

    assert response.status_code == 200
    shown = response.json()
    assert {key: shown[key] for key in ("id", "email", "full_name", "role", "is_active")} == {
        "id": attendee.id,
        "email": "ann@example.com",
        "full_name": "Ann Lee",
        "role": "attendee",
        "is_active": True,
    }
    assert (shown["bookings_count"], shown["events_count"]) == (1, 0)
    assert shown["recent_bookings"] == [booking]
    assert shown["recent_events"] == []


async def test_recent_bookings_are_the_last_ten_newest_first(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    attendee = await signed_in(db, settings, Role.ATTENDEE)
    made = [await book(client, attendee, (await make_event(db, organizer)).id) for _ in range(12)]

    shown = (await client.get(user_path(attendee.id), headers=admin.headers)).json()

    assert [b["id"] for b in shown["recent_bookings"]] == [b["id"] for b in reversed(made)][:10]
    assert shown["bookings_count"] == 12


async def test_recent_bookings_show_cancelled_and_waitlisted_ones_as_bookings_do(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    attendee = await signed_in(db, settings, Role.ATTENDEE)
    dropped = await book(client, attendee, (await make_event(db, organizer)).id)
    await client.delete(f"{BOOKINGS}/{dropped['id']}", headers=attendee.headers)
    full = await make_event(db, organizer, capacity=1)
    await book(client, await signed_in(db, settings, Role.ATTENDEE), full.id)
    waiting = await book(client, attendee, full.id, wait=True)

    shown = (await client.get(user_path(attendee.id), headers=admin.headers)).json()

    as_holder_sees = [
        (await client.get(f"{BOOKINGS}/{b['id']}", headers=attendee.headers)).json()
        for b in (waiting, dropped)
    ]
    assert shown["recent_bookings"] == as_holder_sees
    assert [b["status"] for b in shown["recent_bookings"]] == ["waitlisted", "cancelled"]
    assert shown["recent_bookings"][0]["waitlist_position"] == 1


async def test_recent_events_are_the_last_ten_organized_of_any_status(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    statuses = [EventStatus.DRAFT, EventStatus.PUBLISHED, EventStatus.CANCELLED] * 4
    made = [await make_event(db, organizer, status=status) for status in statuses]

    shown = (await client.get(user_path(organizer.id), headers=admin.headers)).json()

    assert [e["id"] for e in shown["recent_events"]] == [e.id for e in reversed(made)][:10]
    newest = (await client.get(f"{EVENTS}/{made[-1].id}", headers=admin.headers)).json()
    assert shown["recent_events"][0] == newest
    assert shown["events_count"] == 12


async def test_recent_events_leave_out_deleted_ones(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    kept = await make_event(db, organizer)
    doomed = await make_event(db, organizer)
    await client.delete(f"{EVENTS}/{doomed.id}", headers=admin.headers)

    shown = (await client.get(user_path(organizer.id), headers=admin.headers)).json()

    assert [e["id"] for e in shown["recent_events"]] == [kept.id]
    assert shown["events_count"] == 1


async def test_unknown_user_is_not_found(client: httpx.AsyncClient, admin: Caller) -> None:
    response = await client.get(user_path(admin.id + 1000), headers=admin.headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", str(2**31), "1.5"])
async def test_id_that_cannot_be_one_is_a_validation_error(
    client: httpx.AsyncClient, admin: Caller, bad_id: str
) -> None:
    response = await client.get(user_path(bad_id), headers=admin.headers)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
