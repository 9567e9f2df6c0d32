"""Erasure (SPEC §13): by the person with their password, or by an admin. One transaction frees
the seats (the waiting list is served), refunds what was paid, ends sessions and queued mail,
and leaves the account's history whole but anonymous: nothing anywhere names the person."""

from typing import TypeVar

import httpx
import pytest
from sqlalchemy import String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from boxoffice import audit
from boxoffice.audit import AuditAction, AuditEntry
from boxoffice.bookings.models import Booking
from boxoffice.db import Base
from boxoffice.events.models import Event
from boxoffice.notifications.models import Notification, NotificationStatus
from boxoffice.payments.models import Refund
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.bookings.invariants import assert_seats_exact
from tests.factories import PASSWORD, Caller, make_event, make_user, signed_in
from tests.payments.test_holds import book, paid_event

ME, LOGIN = "/api/v1/users/me", "/api/v1/auth/login"
EMAIL, NAME = "quillon.erasable@example.com", "Quillon Vexworth-Erasable"


@pytest.fixture
async def organizer(db: AsyncSession, settings: Settings) -> Caller:
    return await signed_in(db, settings, Role.ORGANIZER)


@pytest.fixture
async def person(db: AsyncSession, settings: Settings) -> Caller:
    return await signed_in(db, settings, Role.ATTENDEE, email=EMAIL, full_name=NAME)


@pytest.fixture
async def admin(db: AsyncSession, settings: Settings) -> Caller:
    return await signed_in(db, settings, Role.ADMIN)


async def erase(client: httpx.AsyncClient, who: Caller, password: str = PASSWORD) -> httpx.Response:
    return await client.request("DELETE", ME, headers=who.headers, json={"password": password})


T = TypeVar("T", bound=Base)


async def stored(db: AsyncSession, model: type[T], *where: ColumnElement[bool]) -> list[T]:
    query = select(model).where(*where).execution_options(populate_existing=True)
    found = list((await db.scalars(query)).all())
    await db.commit()
    return found


async def test_erasure_replaces_address_and_name_and_the_account_cannot_log_in(
    client: httpx.AsyncClient, db: AsyncSession, person: Caller
) -> None:
    answer = await erase(client, person)

    assert answer.status_code == 204, answer.text
    (user,) = await stored(db, User, User.id == person.id)
    assert (user.email, user.full_name, user.is_active) == (
        f"erased-{person.id}@invalid",
        "Deleted user",
        False,
    )
    assert (await client.get(ME, headers=person.headers)).status_code == 401
    for email in (EMAIL, user.email):
        refused = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_credentials"


async def test_a_wrong_password_erases_nothing(client: httpx.AsyncClient, person: Caller) -> None:
    answer = await erase(client, person, "not my password")

    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_credentials")
    assert (await client.get(ME, headers=person.headers)).json()["email"] == EMAIL


async def test_erasure_frees_the_seats_serves_the_line_and_refunds(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    organizer: Caller,
    person: Caller,
) -> None:
    event = await paid_event(db, organizer, capacity=2)
    booking = await book(client, person, event, 2)
    path = f"/api/v1/bookings/{booking['id']}"
    await client.post(f"{path}/payments", headers=person.headers, json={"provider": "manual"})
    assert (await client.post(f"{path}/mark-paid", headers=organizer.headers)).status_code == 200
    waiting = await signed_in(db, settings, Role.ATTENDEE)
    in_line = await book(client, waiting, event, 1, join_waitlist=True)
    assert in_line["status"] == "waitlisted"

    assert (await erase(client, person)).status_code == 204

    (mine,) = await stored(db, Booking, Booking.id == booking["id"])
    assert mine.status == "cancelled"
    served = (await stored(db, Booking, Booking.id == in_line["id"]))[0]
    assert served.status in ("pending", "offered")
    (refund,) = await stored(db, Refund)
    assert (refund.amount_minor, refund.reason, refund.status) == (5000, "cancelled", "owed")
    await assert_seats_exact(db, event.id)


async def test_mail_queued_to_the_erased_address_is_never_sent(
    client: httpx.AsyncClient, db: AsyncSession, organizer: Caller, person: Caller
) -> None:
    event = await make_event(db, organizer.user)
    await book(client, person, event)

    assert (await erase(client, person)).status_code == 204

    theirs = await stored(db, Notification, Notification.user_id == person.id)
    assert theirs
    assert all(n.status is NotificationStatus.CANCELLED for n in theirs)


async def test_an_organizer_with_booked_upcoming_events_cannot_leave(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await make_event(db, organizer.user)
    await book(client, await signed_in(db, settings, Role.ATTENDEE), event)

    answer = await erase(client, organizer)

    assert (answer.status_code, answer.json()["code"]) == (409, "has_upcoming_events")
    assert (await client.get(ME, headers=organizer.headers)).status_code == 200


async def test_an_organizers_unbooked_upcoming_events_go_with_them(
    client: httpx.AsyncClient, db: AsyncSession, organizer: Caller
) -> None:
    event = await make_event(db, organizer.user)

    assert (await erase(client, organizer)).status_code == 204

    (gone,) = await stored(db, Event, Event.id == event.id)
    assert gone.deleted_at is not None
    assert (await client.get(f"/api/v1/events/{event.id}")).status_code == 404


async def test_admin_erases_a_user(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller, person: Caller
) -> None:
    answer = await client.post(f"/api/v1/admin/users/{person.id}/erase", headers=admin.headers)

    assert answer.status_code == 204, answer.text
    shown = (await client.get(f"/api/v1/admin/users/{person.id}", headers=admin.headers)).json()
    assert (shown["full_name"], shown["is_active"]) == ("Deleted user", False)
    (entry,) = await stored(db, AuditEntry, AuditEntry.action == AuditAction.USER_ERASED)
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "user", person.id)
    assert EMAIL not in str(entry.detail)
    assert NAME not in str(entry.detail)


async def test_admin_cannot_erase_themself_nor_nobody(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    himself = await client.post(f"/api/v1/admin/users/{admin.id}/erase", headers=admin.headers)
    nobody = await client.post("/api/v1/admin/users/999999/erase", headers=admin.headers)

    assert (himself.status_code, himself.json()["code"]) == (409, "cannot_modify_self")
    assert nobody.status_code == 404


async def test_attendees_cannot_erase_others(
    client: httpx.AsyncClient, db: AsyncSession, person: Caller
) -> None:
    other = await make_user(db)
    answer = await client.post(f"/api/v1/admin/users/{other.id}/erase", headers=person.headers)

    assert answer.status_code == 403


async def test_erasure_scrubs_earlier_audit_entries_about_the_person(
    client: httpx.AsyncClient, db: AsyncSession, person: Caller
) -> None:
    await audit.record(
        db,
        AuditAction.USER_ROLE_CHANGED,
        actor_id=None,
        target_id=person.id,
        note=f"{NAME} <{EMAIL}>",
    )
    await db.commit()

    assert (await erase(client, person)).status_code == 204

    (entry,) = await stored(db, AuditEntry, AuditEntry.action == AuditAction.USER_ROLE_CHANGED)
    assert entry.detail == {"note": "[erased] <[erased]>"}


async def test_no_text_anywhere_in_the_database_names_the_erased_person(
    client: httpx.AsyncClient,
    db: AsyncSession,
    organizer: Caller,
    person: Caller,
) -> None:
    """Every text column of every table, after a life of bookings, payments, mail and an error
    message that quotes the address."""
    event = await paid_event(db, organizer, capacity=3)
    booking = await book(client, person, event, 1)
    path = f"/api/v1/bookings/{booking['id']}"
    await client.post(f"{path}/payments", headers=person.headers, json={"provider": "manual"})
    await client.post(f"{path}/mark-paid", headers=organizer.headers)
    await book(client, person, await make_event(db, organizer.user))
    await client.post(LOGIN, json={"email": EMAIL, "password": PASSWORD})
    await client.patch(ME, headers=person.headers, json={"full_name": NAME})
    for notification in await stored(db, Notification, Notification.user_id == person.id):
        notification.last_error = f"550 <{EMAIL}>: mailbox of {NAME} unavailable"
        db.add(notification)
    await db.commit()
    assert await _texts_naming(db, EMAIL)
    assert await _texts_naming(db, NAME)

    assert (await erase(client, person)).status_code == 204

    assert await _texts_naming(db, EMAIL) == []
    assert await _texts_naming(db, NAME) == []


async def _texts_naming(db: AsyncSession, needle: str) -> list[str]:
    """`table.column` of every text value that contains the needle, case-insensitively."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text) and not hasattr(column.type, "impl"):
                continue
            values = (await db.execute(select(column))).scalars().all()
            if any(needle.lower() in str(v).lower() for v in values if v is not None):
                found.append(f"{table.name}.{column.name}")
    await db.commit()
    return found
