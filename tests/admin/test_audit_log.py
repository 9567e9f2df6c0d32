"""GET /admin/audit-log: who did what to which, newest first, filterable."""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.admin.support import AUDIT_LOG, BOOKINGS, EVENTS, book, user_path
from tests.factories import Caller, make_event, make_user, signed_in


async def audit_log(client: httpx.AsyncClient, admin: Caller, **params: str | int) -> Any:
    response = await client.get(AUDIT_LOG, headers=admin.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def without_times(page: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in entry.items() if k not in ("id", "at")} for entry in page["items"]]


async def test_role_change_ban_and_unban_are_logged_with_actor_and_target(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db)
    path = user_path(ann.id)
    await client.patch(path, headers=admin.headers, json={"role": "organizer"})
    await client.patch(path, headers=admin.headers, json={"is_active": False})
    await client.patch(path, headers=admin.headers, json={"is_active": True})

    page = await audit_log(client, admin)

    user = {"actor_id": admin.id, "target_type": "user", "target_id": ann.id}
    assert without_times(page) == [
        {**user, "action": "user.unbanned", "detail": {}},
        {**user, "action": "user.banned", "detail": {"cancelled_bookings": []}},
        {**user, "action": "user.role_changed", "detail": {"from": "attendee", "to": "organizer"}},
    ]
    assert page["total"] == 3


async def test_ban_entry_names_the_bookings_it_cancelled(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    ann = await signed_in(db, settings, Role.ATTENDEE)
    booking = await book(client, ann, (await make_event(db, await make_user(db))).id)

    await client.delete(user_path(ann.id), headers=admin.headers)

    [entry] = (await audit_log(client, admin))["items"]
    assert (entry["action"], entry["detail"]) == (
        "user.banned",
        {"cancelled_bookings": [booking["id"]]},
    )


async def test_admin_cancelling_an_event_is_logged(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), title="Jazz Night")

    await client.post(f"{EVENTS}/{event.id}/cancel", headers=admin.headers)

    assert without_times(await audit_log(client, admin)) == [
        {
            "actor_id": admin.id,
            "action": "event.cancelled",
            "target_type": "event",
            "target_id": event.id,
            "detail": {"title": "Jazz Night"},
        }
    ]


async def test_organizer_cancelling_own_event_is_logged_too(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer.user)

    await client.post(f"{EVENTS}/{event.id}/cancel", headers=organizer.headers)

    [entry] = (await audit_log(client, admin))["items"]
    assert (entry["actor_id"], entry["action"]) == (organizer.id, "event.cancelled")


async def test_admin_cancelling_someones_booking_is_logged(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    ann = await signed_in(db, settings, Role.ATTENDEE)
    booking = await book(client, ann, event.id)

    await client.delete(f"{BOOKINGS}/{booking['id']}", headers=admin.headers)

    assert without_times(await audit_log(client, admin)) == [
        {
            "actor_id": admin.id,
            "action": "booking.cancelled_by_admin",
            "target_type": "booking",
            "target_id": booking["id"],
            "detail": {"event_id": event.id, "holder_id": ann.id},
        }
    ]


async def test_holder_cancelling_own_booking_is_not_an_admin_action(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    ann = await signed_in(db, settings, Role.ATTENDEE)
    booking = await book(client, ann, (await make_event(db, await make_user(db))).id)

    cancelled = await client.delete(f"{BOOKINGS}/{booking['id']}", headers=ann.headers)

    assert cancelled.json()["status"] == "cancelled"
    assert (await audit_log(client, admin))["items"] == []


async def test_entries_are_newest_first_with_time_and_id(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    users = [await make_user(db) for _ in range(3)]
    for user in users:
        await client.delete(user_path(user.id), headers=admin.headers)

    items = (await audit_log(client, admin))["items"]

    assert [entry["target_id"] for entry in items] == [u.id for u in reversed(users)]
    assert [entry["id"] for entry in items] == sorted((e["id"] for e in items), reverse=True)
    assert items[0]["at"] >= items[-1]["at"]
    assert items[0]["at"].endswith(("Z", "+00:00"))


async def test_filters_by_actor(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    other = await signed_in(db, settings, Role.ADMIN)
    ann, bob = await make_user(db), await make_user(db)
    await client.delete(user_path(ann.id), headers=admin.headers)
    await client.delete(user_path(bob.id), headers=other.headers)

    page = await audit_log(client, admin, actor_id=other.id)

    assert [(e["actor_id"], e["target_id"]) for e in page["items"]] == [(other.id, bob.id)]
    assert page["total"] == 1


async def test_filters_by_action(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db)
    await client.patch(user_path(ann.id), headers=admin.headers, json={"role": "organizer"})
    await client.delete(user_path(ann.id), headers=admin.headers)

    page = await audit_log(client, admin, action="user.role_changed")

    assert [e["action"] for e in page["items"]] == ["user.role_changed"]


async def test_pages_through_entries(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    users = [await make_user(db) for _ in range(5)]
    for user in users:
        await client.delete(user_path(user.id), headers=admin.headers)

    page = await audit_log(client, admin, limit=2, offset=1)

    assert [e["target_id"] for e in page["items"]] == [users[3].id, users[2].id]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)


@pytest.mark.parametrize(
    "params",
    [{"action": "user.deleted"}, {"actor_id": "abc"}, {"actor_id": 0}, {"limit": 0}],
    ids=["unknown action", "actor not a number", "actor zero", "limit zero"],
)
async def test_invalid_filter_is_a_validation_error(
    client: httpx.AsyncClient, admin: Caller, params: dict[str, str | int]
) -> None:
    response = await client.get(AUDIT_LOG, headers=admin.headers, params=params)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
