"""Bans (PATCH is_active=false, or DELETE): the account stops working at once, its upcoming
bookings end and give their seats to the waiting lists, and every record stays."""

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.admin.support import (
    BOOKINGS,
    EVENTS,
    ME,
    audit_entries,
    book,
    past_booking,
    stored_booking,
    stored_user,
    user_path,
)
from tests.bookings.invariants import assert_seats_exact
from tests.factories import PASSWORD, Caller, make_event, make_user, signed_in

LOGIN, REFRESH = "/api/v1/auth/login", "/api/v1/auth/refresh"


async def ban(client: httpx.AsyncClient, admin: Caller, user_id: int) -> httpx.Response:
    return await client.patch(user_path(user_id), headers=admin.headers, json={"is_active": False})


async def log_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": PASSWORD})


async def test_ban_answers_the_inactive_user(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db)

    response = await ban(client, admin, ann.id)

    assert (response.status_code, response.json()["is_active"]) == (200, False)
    assert not (await stored_user(db, ann.id)).is_active


async def test_banned_users_live_access_token_is_refused_at_once(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    ann = await signed_in(db, settings, Role.ATTENDEE)
    assert (await client.get(ME, headers=ann.headers)).status_code == 200

    await ban(client, admin, ann.id)

    refused = await client.get(ME, headers=ann.headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"


async def test_banned_users_refresh_token_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db, email="ann@example.com")
    pair = (await log_in(client, "ann@example.com")).json()

    await ban(client, admin, ann.id)

    refused = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"


async def test_banned_user_cannot_log_in(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db, email="ann@example.com")

    await ban(client, admin, ann.id)

    refused = await log_in(client, "ann@example.com")
    assert refused.status_code == 403
    assert refused.json()["code"] == "account_disabled"


async def test_lifting_a_ban_lets_the_user_log_in_but_old_tokens_stay_dead(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db, email="ann@example.com")
    old = (await log_in(client, "ann@example.com")).json()
    await ban(client, admin, ann.id)

    response = await client.patch(
        user_path(ann.id), headers=admin.headers, json={"is_active": True}
    )

    assert (response.status_code, response.json()["is_active"]) == (200, True)
    old_headers = {"Authorization": f"Bearer {old['access_token']}"}
    assert (await client.get(ME, headers=old_headers)).status_code == 401
    assert (
        await client.post(REFRESH, json={"refresh_token": old["refresh_token"]})
    ).status_code == 401
    assert (await log_in(client, "ann@example.com")).status_code == 200


async def test_ban_cancels_upcoming_bookings_and_leaves_past_ones(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    ann = await signed_in(db, settings, Role.ATTENDEE)
    confirmed = await book(client, ann, (await make_event(db, organizer)).id, 2)
    full = await make_event(db, organizer, capacity=1)
    await book(client, await signed_in(db, settings, Role.ATTENDEE), full.id)
    waiting = await book(client, ann, full.id, wait=True)
    attended = await past_booking(db, ann.user, organizer)

    await ban(client, admin, ann.id)

    for upcoming in (confirmed, waiting):
        cancelled = await stored_booking(db, upcoming["id"])
        assert cancelled.status is BookingStatus.CANCELLED
        assert cancelled.cancelled_at is not None
    assert (await stored_booking(db, attended.id)).status is BookingStatus.CONFIRMED
    full_id, other_id = full.id, int(str(confirmed["event_id"]))
    assert (await assert_seats_exact(db, other_id)).seats_booked == 0
    assert (await assert_seats_exact(db, full_id)).waitlist_count == 0


async def test_ban_gives_the_seats_to_the_waiting_list(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=2)
    banned = await signed_in(db, settings, Role.ATTENDEE)
    await book(client, banned, event.id, 2)
    patient = await signed_in(db, settings, Role.ATTENDEE)
    waiting = await book(client, patient, event.id, 2, wait=True)

    await ban(client, admin, banned.id)

    promoted = await client.get(f"{BOOKINGS}/{waiting['id']}", headers=patient.headers)
    assert (promoted.json()["status"], promoted.json()["waitlist_position"]) == ("confirmed", None)
    shown = (await client.get(f"{EVENTS}/{event.id}")).json()
    assert (shown["seats_booked"], shown["waitlist_count"]) == (2, 0)
    await assert_seats_exact(db, event.id)


async def test_ban_keeps_every_record(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer.user)
    ann = await signed_in(db, settings, Role.ATTENDEE, email="ann@example.com")
    await book(client, ann, (await make_event(db, organizer.user)).id)

    await ban(client, admin, ann.id)
    await ban(client, admin, organizer.id)

    ann_shown = (await client.get(user_path(ann.id), headers=admin.headers)).json()
    assert (ann_shown["email"], ann_shown["is_active"]) == ("ann@example.com", False)
    assert ann_shown["bookings_count"] == 1
    assert [b["status"] for b in ann_shown["recent_bookings"]] == ["cancelled"]
    organizer_shown = (await client.get(user_path(organizer.id), headers=admin.headers)).json()
    assert organizer_shown["events_count"] == 2
    assert (await client.get(f"{EVENTS}/{event.id}")).status_code == 200


async def test_banning_again_is_200_and_not_audited_again(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db)
    await ban(client, admin, ann.id)

    again = await ban(client, admin, ann.id)

    assert (again.status_code, again.json()["is_active"]) == (200, False)
    assert [entry.action for entry in await audit_entries(db)] == ["user.banned"]


async def test_admin_can_ban_another_admin(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    other = await signed_in(db, settings, Role.ADMIN)

    await ban(client, admin, other.id)

    assert (await client.get(user_path(admin.id), headers=other.headers)).status_code == 401


async def test_admin_cannot_ban_themself(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    response = await ban(client, admin, admin.id)

    assert response.status_code == 409
    assert response.json()["code"] == "cannot_modify_self"
    assert (await stored_user(db, admin.id)).is_active
    assert (await client.get(ME, headers=admin.headers)).status_code == 200


async def test_role_change_and_ban_in_one_request_do_both(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db, role=Role.ORGANIZER)

    response = await client.patch(
        user_path(ann.id), headers=admin.headers, json={"role": "attendee", "is_active": False}
    )

    assert (response.json()["role"], response.json()["is_active"]) == ("attendee", False)
    actions = sorted(entry.action for entry in await audit_entries(db))
    assert actions == ["user.banned", "user.role_changed"]


async def test_delete_bans_the_user(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=2)
    ann = await signed_in(db, settings, Role.ATTENDEE)
    booking = await book(client, ann, event.id, 2)

    response = await client.delete(user_path(ann.id), headers=admin.headers)

    assert (response.status_code, response.content) == (204, b"")
    assert not (await stored_user(db, ann.id)).is_active
    assert (await client.get(ME, headers=ann.headers)).status_code == 401
    assert (await stored_booking(db, booking["id"])).status is BookingStatus.CANCELLED
    assert (await assert_seats_exact(db, event.id)).seats_booked == 0
    assert [entry.action for entry in await audit_entries(db)] == ["user.banned"]


async def test_delete_erases_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    ann = await signed_in(db, settings, Role.ATTENDEE, email="ann@example.com")
    booking = await book(client, ann, (await make_event(db, await make_user(db))).id)

    await client.delete(user_path(ann.id), headers=admin.headers)

    assert (await stored_user(db, ann.id)).email == "ann@example.com"
    kept = (await db.scalars(select(Booking).where(Booking.user_id == ann.id))).all()
    assert [b.id for b in kept] == [booking["id"]]
    listed = (await client.get(user_path(ann.id), headers=admin.headers)).json()
    assert listed["bookings_count"] == 1


async def test_deleting_a_banned_user_again_is_204(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db, is_active=False)

    response = await client.delete(user_path(ann.id), headers=admin.headers)

    assert response.status_code == 204


async def test_admin_cannot_delete_themself(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    response = await client.delete(user_path(admin.id), headers=admin.headers)

    assert response.status_code == 409
    assert response.json()["code"] == "cannot_modify_self"
    assert (await stored_user(db, admin.id)).is_active


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_banning_an_unknown_user_is_not_found(
    client: httpx.AsyncClient, admin: Caller, method: str
) -> None:
    response = await client.request(
        method, user_path(admin.id + 1000), headers=admin.headers, json={"is_active": False}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_delete_with_an_id_that_cannot_be_one_is_a_validation_error(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    response = await client.delete(user_path("abc"), headers=admin.headers)

    assert response.status_code == 422
