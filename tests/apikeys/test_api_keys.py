"""API keys (SPEC §12): shown once and stored hashed, acting as their owner everywhere a login
does, stopped at once by a revocation, an expiry, a ban or an erasure."""

import hashlib
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.apikeys.models import ApiKey
from boxoffice.apikeys.service import MAX_KEYS_PER_USER
from boxoffice.db import utcnow
from boxoffice.events.models import EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.events.support import EVENTS, new_event
from tests.factories import PASSWORD, Caller, make_event, signed_in
from tests.test_errors import assert_problem

KEYS = "/api/v1/users/me/api-keys"
ME = "/api/v1/users/me"


def key_path(key_id: object) -> str:
    return f"{KEYS}/{key_id}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def make_key(
    client: httpx.AsyncClient, owner: Caller, name: str = "script", **body: object
) -> dict[str, object]:
    response = await client.post(KEYS, headers=owner.headers, json={"name": name, **body})
    assert response.status_code == 201, response.text
    made: dict[str, object] = response.json()
    return made


async def stored(db: AsyncSession, key_id: object) -> ApiKey:
    db.expire_all()
    key = (await db.scalars(select(ApiKey).where(ApiKey.id == key_id))).one()
    await db.commit()
    return key


@pytest.fixture
async def attendee(db: AsyncSession, settings: Settings) -> Caller:
    return await signed_in(db, settings, Role.ATTENDEE)


async def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(
    client: httpx.AsyncClient, db: AsyncSession, attendee: Caller
) -> None:
    made = await make_key(client, attendee, "nightly export")

    assert set(made) == {"id", "name", "key", "created_at", "expires_at"}
    key = str(made["key"])
    assert key.startswith("bxk_")
    assert len(key) > 40
    row = await stored(db, made["id"])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {row.name, row.key_hash}
    listed = (await client.get(KEYS, headers=attendee.headers)).json()
    assert listed == {
        "items": [
            {
                "id": made["id"],
                "name": "nightly export",
                "created_at": made["created_at"],
                "expires_at": None,
                "last_used_at": None,
            }
        ]
    }


async def test_a_key_acts_as_its_owner(client: httpx.AsyncClient, attendee: Caller) -> None:
    made = await make_key(client, attendee)

    response = await client.get(ME, headers=bearer(str(made["key"])))

    assert response.status_code == 200
    assert response.json()["id"] == attendee.id


async def test_an_organizers_key_creates_an_event(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    key = str((await make_key(client, organizer))["key"])

    response = await client.post(EVENTS, headers=bearer(key), json=new_event())

    assert response.status_code == 201, response.text


async def test_an_attendees_key_books_and_may_not_create_events(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, attendee: Caller
) -> None:
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer.user, status=EventStatus.PUBLISHED)
    key = str((await make_key(client, attendee))["key"])

    booked = await client.post(
        "/api/v1/bookings", headers=bearer(key), json={"event_id": event.id, "seats": 2}
    )
    refused = await client.post(EVENTS, headers=bearer(key), json=new_event())

    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "confirmed"
    assert_problem(refused, 403, "forbidden")


async def test_a_revoked_key_is_refused_at_once(
    client: httpx.AsyncClient, attendee: Caller
) -> None:
    made = await make_key(client, attendee)
    assert (await client.get(ME, headers=bearer(str(made["key"])))).status_code == 200

    revoked = await client.delete(key_path(made["id"]), headers=attendee.headers)

    assert revoked.status_code == 204
    assert_problem(await client.get(ME, headers=bearer(str(made["key"]))), 401, "invalid_token")
    assert (await client.get(KEYS, headers=attendee.headers)).json() == {"items": []}
    assert_problem(
        await client.delete(key_path(made["id"]), headers=attendee.headers), 404, "not_found"
    )


async def test_an_expired_key_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, attendee: Caller
) -> None:
    made = await make_key(client, attendee, expires_at=(utcnow() + timedelta(days=1)).isoformat())
    await db.execute(
        update(ApiKey).where(ApiKey.id == made["id"]).values(expires_at=utcnow() - timedelta(1))
    )
    await db.commit()

    assert_problem(await client.get(ME, headers=bearer(str(made["key"]))), 401, "invalid_token")


async def test_an_expiry_in_the_past_is_refused(
    client: httpx.AsyncClient, attendee: Caller
) -> None:
    response = await client.post(
        KEYS,
        headers=attendee.headers,
        json={"name": "late", "expires_at": (utcnow() - timedelta(minutes=1)).isoformat()},
    )

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"loc": ["body", "expires_at"], "msg": "must be in the future: the key would never work"}
    ]


async def test_an_unknown_key_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(ME, headers=bearer("bxk_" + "A" * 43))

    assert_problem(response, 401, "invalid_token")


async def test_another_users_key_is_not_found_and_keeps_working(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, attendee: Caller
) -> None:
    other = await signed_in(db, settings, Role.ATTENDEE)
    made = await make_key(client, other)

    response = await client.delete(key_path(made["id"]), headers=attendee.headers)

    assert_problem(response, 404, "not_found")
    assert (await client.get(ME, headers=bearer(str(made["key"])))).status_code == 200
    assert (await client.get(KEYS, headers=attendee.headers)).json() == {"items": []}


async def test_a_key_cannot_manage_keys_nor_log_out(
    client: httpx.AsyncClient, attendee: Caller
) -> None:
    made = await make_key(client, attendee)
    key = bearer(str(made["key"]))

    answers = [
        await client.post(KEYS, headers=key, json={"name": "another"}),
        await client.get(KEYS, headers=key),
        await client.delete(key_path(made["id"]), headers=key),
        await client.post("/api/v1/auth/logout", headers=key),
    ]

    for answer in answers:
        assert_problem(answer, 403, "forbidden")
    assert (await client.get(ME, headers=key)).status_code == 200


async def test_keys_in_force_are_capped(client: httpx.AsyncClient, attendee: Caller) -> None:
    made = [await make_key(client, attendee, f"key {n}") for n in range(MAX_KEYS_PER_USER)]

    refused = await client.post(KEYS, headers=attendee.headers, json={"name": "one more"})
    await client.delete(key_path(made[0]["id"]), headers=attendee.headers)
    after_revoking = await client.post(KEYS, headers=attendee.headers, json={"name": "one more"})

    body = assert_problem(refused, 409, "conflict")
    assert "revoke one" in str(body["detail"])
    assert after_revoking.status_code == 201


async def test_a_ban_stops_the_key_at_once_and_lifting_it_does_not_revive_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, attendee: Caller
) -> None:
    admin = await signed_in(db, settings, Role.ADMIN)
    key = bearer(str((await make_key(client, attendee))["key"]))
    user = f"/api/v1/admin/users/{attendee.id}"

    banned = await client.patch(user, headers=admin.headers, json={"is_active": False})
    while_banned = await client.get(ME, headers=key)
    await client.patch(user, headers=admin.headers, json={"is_active": True})

    assert banned.status_code == 200, banned.text
    assert_problem(while_banned, 401, "invalid_token")
    assert_problem(await client.get(ME, headers=key), 401, "invalid_token")


async def test_an_inactive_owner_is_refused_even_with_the_key_in_force(
    client: httpx.AsyncClient, db: AsyncSession, attendee: Caller
) -> None:
    # The key's row untouched: the owner's row alone must stop it (a ban in flight).
    key = bearer(str((await make_key(client, attendee))["key"]))
    attendee.user.is_active = False
    db.add(attendee.user)
    await db.commit()

    assert_problem(await client.get(ME, headers=key), 401, "invalid_token")


async def test_an_erasure_revokes_the_keys_and_the_export_lists_them_without_secrets(
    client: httpx.AsyncClient, db: AsyncSession, attendee: Caller
) -> None:
    made = await make_key(client, attendee, "backup")
    key = str(made["key"])

    exported = (await client.get(f"{ME}/export", headers=attendee.headers)).json()
    erased = await client.request(
        "DELETE", ME, headers=attendee.headers, json={"password": PASSWORD}
    )

    assert [k["name"] for k in exported["api_keys"]] == ["backup"]
    assert set(exported["api_keys"][0]) == {
        "id",
        "name",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    }
    assert erased.status_code == 204, erased.text
    assert_problem(await client.get(ME, headers=bearer(key)), 401, "invalid_token")
    assert (await stored(db, made["id"])).revoked_at is not None


async def test_last_use_is_noted_at_most_once_a_minute(
    client: httpx.AsyncClient, db: AsyncSession, attendee: Caller
) -> None:
    made = await make_key(client, attendee)
    key = bearer(str(made["key"]))

    await client.get(ME, headers=key)
    first = (await stored(db, made["id"])).last_used_at
    # As if that use had been 30 seconds ago: another use within the minute writes nothing.
    half_a_minute_ago = utcnow() - timedelta(seconds=30)
    await db.execute(
        update(ApiKey).where(ApiKey.id == made["id"]).values(last_used_at=half_a_minute_ago)
    )
    await db.commit()
    await client.get(ME, headers=key)
    within_the_minute = (await stored(db, made["id"])).last_used_at
    # ... and one after the minute notes it again.
    two_minutes_ago = utcnow() - timedelta(minutes=2)
    await db.execute(
        update(ApiKey).where(ApiKey.id == made["id"]).values(last_used_at=two_minutes_ago)
    )
    await db.commit()
    await client.post("/api/v1/bookings", headers=key, json={"event_id": 999_999, "seats": 1})
    after_the_minute = (await stored(db, made["id"])).last_used_at

    assert first is not None
    assert within_the_minute == half_a_minute_ago
    assert after_the_minute is not None
    assert after_the_minute > utcnow() - timedelta(seconds=30)
    listed = (await client.get(KEYS, headers=attendee.headers)).json()["items"]
    assert listed[0]["last_used_at"] is not None
