"""Refresh rotation with reuse detection, logout, and password change end sessions at once."""

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import PASSWORD, make_user

LOGIN, REFRESH, LOGOUT, ME = (
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/users/me",
)


def bearer(pair: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(LOGIN, json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    pair: dict[str, str] = response.json()
    return pair


async def test_refresh_rotates_the_refresh_token(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")
    first = await log_in(client, "ann@example.com")

    response = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get(ME, headers=bearer(second))).status_code == 200


async def test_reused_refresh_token_revokes_its_whole_family(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")
    first = await log_in(client, "ann@example.com")
    second = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()

    replay = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_token"
    assert (
        await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    ).status_code == 401
    assert (await client.get(ME, headers=bearer(second))).status_code == 401


async def test_reuse_in_one_session_leaves_other_sessions_alone(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")
    phone = await log_in(client, "ann@example.com")
    laptop = await log_in(client, "ann@example.com")
    await client.post(REFRESH, json={"refresh_token": phone["refresh_token"]})

    await client.post(REFRESH, json={"refresh_token": phone["refresh_token"]})

    assert (await client.get(ME, headers=bearer(laptop))).status_code == 200


async def test_concurrent_refreshes_with_one_token_rotate_it_once(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")
    pair = await log_in(client, "ann@example.com")

    answers = await asyncio.gather(
        *(client.post(REFRESH, json={"refresh_token": pair["refresh_token"]}) for _ in range(5))
    )

    # One rotates the token; the others present a token that is no longer current.
    assert sorted(a.status_code for a in answers) == [200, 401, 401, 401, 401]
    assert [a.json()["code"] for a in answers if a.status_code == 401] == ["invalid_token"] * 4


async def test_access_token_is_not_a_refresh_token(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")
    pair = await log_in(client, "ann@example.com")

    response = await client.post(REFRESH, json={"refresh_token": pair["access_token"]})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_logout_ends_that_session_only(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_user(db, email="ann@example.com")
    phone = await log_in(client, "ann@example.com")
    laptop = await log_in(client, "ann@example.com")

    response = await client.post(LOGOUT, headers=bearer(phone))

    assert response.status_code == 204
    assert (await client.get(ME, headers=bearer(phone))).status_code == 401
    assert (
        await client.post(REFRESH, json={"refresh_token": phone["refresh_token"]})
    ).status_code == 401
    assert (await client.get(ME, headers=bearer(laptop))).status_code == 200


async def test_password_change_ends_every_earlier_session(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")
    phone = await log_in(client, "ann@example.com")
    laptop = await log_in(client, "ann@example.com")

    response = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(phone),
        json={"current_password": PASSWORD, "new_password": "a brand new one"},
    )

    assert response.status_code == 200
    fresh = response.json()
    for old in (phone, laptop):
        assert (await client.get(ME, headers=bearer(old))).status_code == 401
        assert (
            await client.post(REFRESH, json={"refresh_token": old["refresh_token"]})
        ).status_code == 401
    assert (await client.get(ME, headers=bearer(fresh))).status_code == 200
    await log_in(client, "ann@example.com", "a brand new one")
    old_login = await client.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})
    assert old_login.status_code == 401


async def test_password_change_needs_the_current_password(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")
    pair = await log_in(client, "ann@example.com")

    response = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(pair),
        json={"current_password": "not my password", "new_password": "a brand new one"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert (await client.get(ME, headers=bearer(pair))).status_code == 200


async def test_weak_new_password_is_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_user(db, email="ann@example.com")
    pair = await log_in(client, "ann@example.com")

    response = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(pair),
        json={"current_password": PASSWORD, "new_password": "short"},
    )

    assert response.status_code == 422
    assert (await client.get(ME, headers=bearer(pair))).status_code == 200
