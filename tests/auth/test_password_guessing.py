"""Password checks are limited per account as well as per address (SPEC §6a), so that guessing
from many addresses, or through a stolen session's password change, runs into a wall too."""

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.app import create_app
from tests.conftest import make_settings
from tests.factories import PASSWORD, auth_headers, make_user

LOGIN = "/api/v1/auth/login"
CHANGE = "/api/v1/users/me/password"


@pytest.fixture
async def limited_app(database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(
        make_settings(
            database_url,
            rate_limits_enabled=True,
            rate_limit_auth="100/minute",
            rate_limit_password="3/minute",
            rate_limit_prefix=f"password-{secrets.token_hex(4)}",
        )
    )
    yield app
    await app.state.engine.dispose()


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_login_guesses_from_many_addresses_hit_the_account_limit(
    limited_app: FastAPI,
) -> None:
    async with limited_app.state.sessionmaker() as db:
        await make_user(db, email="ann@example.com")
    answers = []
    for number in range(4):
        async with client_from(limited_app, f"10.0.0.{number + 1}") as client:
            answers.append(
                await client.post(LOGIN, json={"email": "ann@example.com", "password": "guess"})
            )
    async with client_from(limited_app, "10.0.0.9") as client:
        right = await client.post(LOGIN, json={"email": "ANN@example.com", "password": PASSWORD})
        other = await client.post(LOGIN, json={"email": "bob@example.com", "password": "guess"})

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert right.status_code == 429, "the right password waits too: no oracle while limited"
    assert other.status_code == 401, "another account has a limit of its own"


async def test_password_change_guesses_hit_the_account_limit(limited_app: FastAPI) -> None:
    async with limited_app.state.sessionmaker() as db:
        user = await make_user(db)
        headers = await auth_headers(db, limited_app.state.settings, user)
    async with client_from(limited_app, "10.0.1.1") as client:
        guesses = [
            await client.post(
                CHANGE,
                headers=headers,
                json={"current_password": f"guess-{n}", "new_password": "a new password"},
            )
            for n in range(4)
        ]
        right = await client.post(
            CHANGE,
            headers=headers,
            json={"current_password": PASSWORD, "new_password": "a new password"},
        )
        login = await client.post(LOGIN, json={"email": user.email, "password": PASSWORD})

    assert [g.status_code for g in guesses] == [400, 400, 400, 429]
    assert guesses[-1].json()["code"] == "rate_limited"
    assert int(guesses[-1].headers["Retry-After"]) >= 1
    assert right.status_code == 429
    assert login.status_code == 429, "login and password change share the account's budget"
