"""Limits per client address on sign-up and login, shared by every process through Redis."""

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.users.models import Role
from tests.conftest import AVAILABILITY, make_settings
from tests.engines import REDIS_URL
from tests.factories import make_event, make_user, signed_in

LOGIN = "/api/v1/auth/login"
WRONG = {"email": "nobody@example.com", "password": "whatever123"}


def limited_app(database_url: str, redis_url: str | None, prefix: str) -> FastAPI:
    return create_app(
        make_settings(
            database_url,
            rate_limits_enabled=True,
            rate_limit_auth="3/minute",
            redis_url=redis_url,
            rate_limit_prefix=prefix,
        )
    )


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def apps_sharing_redis(database_url: str) -> AsyncIterator[list[FastAPI]]:
    if not AVAILABILITY.redis:
        pytest.skip("Redis is not reachable (CI=true turns this into a failure)")
    prefix = f"test-{secrets.token_hex(4)}"
    apps = [limited_app(database_url, REDIS_URL, prefix) for _ in range(2)]
    yield apps
    for app in apps:
        await app.state.engine.dispose()


async def test_login_over_the_limit_is_rate_limited(database_url: str) -> None:
    app = limited_app(database_url, None, "memory")
    async with client_for(app) as client:
        answers = [await client.post(LOGIN, json=WRONG) for _ in range(4)]
    await app.state.engine.dispose()

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert int(answers[-1].headers["Retry-After"]) >= 1


async def test_disabled_limits_let_everything_through(client: httpx.AsyncClient) -> None:
    answers = [await client.post(LOGIN, json=WRONG) for _ in range(8)]

    assert {a.status_code for a in answers} == {401}


async def test_redis_shares_the_limit_across_processes(apps_sharing_redis: list[FastAPI]) -> None:
    first, second = apps_sharing_redis
    async with client_for(first) as one, client_for(second) as other:
        answers = [
            await one.post(LOGIN, json=WRONG),
            await other.post(LOGIN, json=WRONG),
            await one.post(LOGIN, json=WRONG),
            await other.post(LOGIN, json=WRONG),
        ]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]


async def test_unreachable_redis_lets_requests_through(database_url: str) -> None:
    app = limited_app(database_url, "redis://127.0.0.1:9/0", "down")
    async with client_for(app) as client:
        response = await client.post(LOGIN, json=WRONG)
    await app.state.engine.dispose()

    assert response.status_code == 401


async def test_bookings_are_limited_per_user(database_url: str) -> None:
    app = create_app(
        make_settings(
            database_url,
            rate_limits_enabled=True,
            rate_limit_bookings="2/minute",
            rate_limit_prefix=f"bookings-{secrets.token_hex(4)}",
        )
    )
    async with app.state.sessionmaker() as db:
        event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=1)
        first_user = (await signed_in(db, app.state.settings, Role.ATTENDEE)).headers
        second_user = (await signed_in(db, app.state.settings, Role.ATTENDEE)).headers
    async with client_for(app) as client:
        answers = [
            await client.post("/api/v1/bookings", headers=first_user, json={"event_id": event.id})
            for _ in range(3)
        ]
        other = await client.post(
            "/api/v1/bookings", headers=second_user, json={"event_id": event.id}
        )
    await app.state.engine.dispose()

    assert [a.status_code for a in answers] == [201, 409, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert other.json()["code"] == "sold_out", "another user has a limit of their own"
