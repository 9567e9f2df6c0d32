"""PATCH /admin/users/{id} with `role`: promotions and demotions, never of oneself."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from boxoffice.users.schemas import UserRead
from tests.admin.support import EVENTS, audit_entries, event_body, stored_user, user_path
from tests.factories import Caller, make_event, make_user, signed_in


async def test_promotion_answers_the_changed_user(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db, email="ann@example.com")

    response = await client.patch(
        user_path(ann.id), headers=admin.headers, json={"role": "organizer"}
    )

    assert response.status_code == 200
    assert set(response.json()) == set(UserRead.model_fields)
    assert (response.json()["role"], response.json()["is_active"]) == ("organizer", True)
    assert (await stored_user(db, ann.id)).role is Role.ORGANIZER


async def test_new_role_applies_to_the_live_token_at_once(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    ann = await signed_in(db, settings, Role.ATTENDEE)
    before = await client.post(EVENTS, headers=ann.headers, json=event_body())

    await client.patch(user_path(ann.id), headers=admin.headers, json={"role": "organizer"})

    after = await client.post(EVENTS, headers=ann.headers, json=event_body())
    assert (before.status_code, after.status_code) == (403, 201)


async def test_promoted_admin_can_use_admin_routes(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    ann = await signed_in(db, settings, Role.ORGANIZER)

    await client.patch(user_path(ann.id), headers=admin.headers, json={"role": "admin"})

    assert (await client.get(user_path(admin.id), headers=ann.headers)).status_code == 200


async def test_admin_can_demote_another_admin(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    other = await signed_in(db, settings, Role.ADMIN)

    response = await client.patch(
        user_path(other.id), headers=admin.headers, json={"role": "attendee"}
    )

    assert response.json()["role"] == "attendee"
    assert (await client.get(user_path(admin.id), headers=other.headers)).status_code == 403


async def test_demoted_organizer_keeps_their_events_and_admins_can_still_edit_them(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer.user)

    await client.patch(user_path(organizer.id), headers=admin.headers, json={"role": "attendee"})

    shown = await client.get(f"{EVENTS}/{event.id}")
    assert (shown.status_code, shown.json()["organizer_id"]) == (200, organizer.id)
    own_edit = await client.patch(
        f"{EVENTS}/{event.id}", headers=organizer.headers, json={"title": "Mine still?"}
    )
    assert own_edit.status_code == 403
    admin_edit = await client.patch(
        f"{EVENTS}/{event.id}", headers=admin.headers, json={"title": "Edited by an admin"}
    )
    assert (admin_edit.status_code, admin_edit.json()["title"]) == (200, "Edited by an admin")


async def test_setting_the_same_role_again_changes_nothing_and_is_not_audited(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db, role=Role.ORGANIZER)
    entries_before = await audit_entries(db)

    response = await client.patch(
        user_path(ann.id), headers=admin.headers, json={"role": "organizer"}
    )

    assert (response.status_code, response.json()["role"]) == (200, "organizer")
    assert await audit_entries(db) == entries_before


async def test_empty_change_is_200_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    ann = await make_user(db)

    response = await client.patch(user_path(ann.id), headers=admin.headers, json={})

    assert (response.status_code, response.json()["role"]) == (200, "attendee")
    assert await audit_entries(db) == []


@pytest.mark.parametrize("role", ["attendee", "organizer"])
async def test_admin_cannot_demote_themself(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller, role: str
) -> None:
    response = await client.patch(user_path(admin.id), headers=admin.headers, json={"role": role})

    assert response.status_code == 409
    assert response.json()["code"] == "cannot_modify_self"
    assert (await stored_user(db, admin.id)).role is Role.ADMIN
    assert await audit_entries(db) == []


async def test_admin_may_restate_their_own_role_and_activity(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    response = await client.patch(
        user_path(admin.id), headers=admin.headers, json={"role": "admin", "is_active": True}
    )

    assert (response.status_code, response.json()["role"]) == (200, "admin")


async def test_changing_an_unknown_user_is_not_found(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    response = await client.patch(
        user_path(admin.id + 1000), headers=admin.headers, json={"role": "organizer"}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"role": "superuser"},
        {"role": None},
        {"is_active": None},
        {"is_active": "maybe"},
        {"email": "new@example.com"},
        {"role": "organizer", "password_hash": "x"},
    ],
    ids=["unknown role", "null role", "null is_active", "not a boolean", "email", "extra field"],
)
async def test_invalid_change_is_a_validation_error_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller, body: dict[str, object]
) -> None:
    ann = await make_user(db, email="ann@example.com")

    response = await client.patch(user_path(ann.id), headers=admin.headers, json=body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    stored = await stored_user(db, ann.id)
    assert (stored.role, stored.email, stored.is_active) == (Role.ATTENDEE, "ann@example.com", True)
