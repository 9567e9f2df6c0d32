"""The refresh checks one by one: expiry, rotation chains, disabled accounts, unknown and already
revoked sessions. Written against the mutants that survived `make mutate` (docs/testing.md)."""

from datetime import timedelta

import httpx
import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.auth import tokens
from boxoffice.auth.models import AuthSession
from boxoffice.db import utcnow
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.auth.test_sessions import LOGOUT, ME, REFRESH, bearer, log_in
from tests.factories import PASSWORD, make_user

NO_LONGER_VALID = "the refresh token is no longer valid; log in again"


async def stored_sessions(db: AsyncSession, user_id: int) -> list[AuthSession]:
    db.expire_all()
    found = await db.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.created_at)
    )
    sessions = list(found.all())
    await db.commit()
    return sessions


async def refresh(client: httpx.AsyncClient, pair: dict[str, str]) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})


async def test_refreshing_extends_the_session_and_the_new_token_refreshes_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user_id = (await make_user(db, email="ann@example.com")).id
    first = await log_in(client, "ann@example.com")
    (before,) = await stored_sessions(db, user_id)
    # As if the login had been a day ago: a refresh must move the expiry out again.
    await db.execute(
        update(AuthSession)
        .where(AuthSession.id == before.id)
        .values(expires_at=before.expires_at - timedelta(days=1))
    )
    await db.commit()

    second = await refresh(client, first)
    third = await refresh(client, second.json())

    assert (second.status_code, third.status_code) == (200, 200)
    (after,) = await stored_sessions(db, user_id)
    lifetime = timedelta(days=settings.refresh_token_days)
    assert utcnow() + lifetime - timedelta(minutes=1) < after.expires_at <= utcnow() + lifetime
    assert (await client.get(ME, headers=bearer(third.json()))).status_code == 200


async def test_a_session_past_its_expiry_cannot_be_refreshed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user_id = (await make_user(db, email="ann@example.com")).id
    pair = await log_in(client, "ann@example.com")
    # The token itself is still valid; only the session says it is over.
    await db.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await db.commit()

    response = await refresh(client, pair)

    assert response.status_code == 401
    assert (response.json()["code"], response.json()["detail"]) == (
        "invalid_token",
        NO_LONGER_VALID,
    )


async def test_a_disabled_account_cannot_refresh_even_with_a_live_session(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user_id = (await make_user(db, email="ann@example.com")).id
    pair = await log_in(client, "ann@example.com")
    # Disabled without its sessions revoked, as a ban racing this refresh would leave it.
    await db.execute(update(User).where(User.id == user_id).values(is_active=False))
    await db.commit()

    response = await refresh(client, pair)

    assert response.status_code == 401
    assert (response.json()["code"], response.json()["detail"]) == (
        "invalid_token",
        "this account has been disabled",
    )


async def test_a_refresh_token_of_a_session_that_does_not_exist_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user_id = (await make_user(db, email="ann@example.com")).id
    token = tokens.issue(
        settings,
        type=tokens.TokenType.REFRESH,
        user_id=user_id,
        role=Role.ATTENDEE.value,
        session_id=tokens.new_id(),
        jti=tokens.new_id(),
        now=utcnow(),
    )

    response = await client.post(REFRESH, json={"refresh_token": token})

    assert response.status_code == 401
    assert (response.json()["code"], response.json()["detail"]) == (
        "invalid_token",
        NO_LONGER_VALID,
    )


async def test_replaying_into_a_revoked_family_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user_id = (await make_user(db, email="ann@example.com")).id
    first = await log_in(client, "ann@example.com")
    assert (await refresh(client, first)).status_code == 200
    reuse = await refresh(client, first)
    (revoked,) = await stored_sessions(db, user_id)
    revoked_at = revoked.revoked_at

    again = await refresh(client, first)

    assert (reuse.json()["code"], reuse.json()["detail"]) == (
        "invalid_token",
        "this refresh token was already used; every token of its session is revoked",
    )
    assert again.status_code == 401
    assert (again.json()["code"], again.json()["detail"]) == ("invalid_token", NO_LONGER_VALID)
    (still,) = await stored_sessions(db, user_id)
    assert revoked_at is not None
    assert still.revoked_at == revoked_at


async def test_ending_every_session_leaves_earlier_revocations_as_they_were(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user_id = (await make_user(db, email="ann@example.com")).id
    phone = await log_in(client, "ann@example.com")
    laptop = await log_in(client, "ann@example.com")
    assert (await client.post(LOGOUT, headers=bearer(phone))).status_code == 204
    logged_out_at = (await stored_sessions(db, user_id))[0].revoked_at
    assert logged_out_at is not None

    response = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(laptop),
        json={"current_password": PASSWORD, "new_password": "a brand new one"},
    )

    assert response.status_code == 200
    phone_now, laptop_now, _fresh = await stored_sessions(db, user_id)
    assert phone_now.revoked_at == logged_out_at
    assert laptop_now.revoked_at is not None


async def test_a_wrong_current_password_says_so(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")
    pair = await log_in(client, "ann@example.com")

    response = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(pair),
        json={"current_password": "not my password", "new_password": "a brand new one"},
    )

    assert (response.status_code, response.json()["detail"]) == (
        400,
        "the current password is wrong",
    )


async def test_a_disabled_account_is_refused_even_with_a_live_session(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user_id = (await make_user(db, email="ann@example.com")).id
    pair = await log_in(client, "ann@example.com")
    await db.execute(update(User).where(User.id == user_id).values(is_active=False))
    await db.commit()

    response = await client.get(ME, headers=bearer(pair))

    assert response.status_code == 401
    assert (response.json()["code"], response.json()["detail"]) == (
        "invalid_token",
        "this session has ended; log in again",
    )


async def test_a_token_of_the_wrong_type_says_which_is_needed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")
    pair = await log_in(client, "ann@example.com")

    as_refresh = await client.post(REFRESH, json={"refresh_token": pair["access_token"]})
    as_access = await client.get(ME, headers={"Authorization": f"Bearer {pair['refresh_token']}"})

    assert (as_refresh.status_code, as_refresh.json()["detail"]) == (
        401,
        "a token of type refresh is needed here",
    )
    assert (as_access.status_code, as_access.json()["detail"]) == (
        401,
        "a token of type access is needed here",
    )


async def test_expired_and_garbled_tokens_say_what_is_wrong(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user_id = (await make_user(db, email="ann@example.com")).id
    expired = tokens.issue(
        settings,
        type=tokens.TokenType.ACCESS,
        user_id=user_id,
        role=Role.ATTENDEE.value,
        session_id=tokens.new_id(),
        jti=tokens.new_id(),
        now=utcnow() - timedelta(days=1),
    )

    late = await client.get(ME, headers={"Authorization": f"Bearer {expired}"})
    garbled = await client.get(ME, headers={"Authorization": "Bearer not.a.token"})

    assert (late.status_code, late.json()["detail"]) == (
        401,
        "the token has expired; refresh it or log in again",
    )
    assert (garbled.status_code, garbled.json()["detail"]) == (401, "the token is not valid")


async def test_a_refresh_token_lives_for_days_and_names_its_session_in_32_hex_digits(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, email="ann@example.com")
    pair = await log_in(client, "ann@example.com")

    access = jwt.decode(pair["access_token"], options={"verify_signature": False})
    refresh_claims = jwt.decode(pair["refresh_token"], options={"verify_signature": False})

    assert refresh_claims["exp"] - refresh_claims["iat"] == settings.refresh_token_days * 86400
    assert refresh_claims["sid"] == access["sid"]
    # The ids fill their 32-character columns exactly; SQLite would not say so if they grew.
    for claims in (access, refresh_claims):
        for name in ("sid", "jti"):
            assert len(claims[name]) == 32
            assert int(claims[name], 16) >= 0
