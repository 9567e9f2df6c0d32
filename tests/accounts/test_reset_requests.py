"""A password-reset request tells nobody whether an address has an account: the same answer,
the same time (measured), and the same rate limit."""

import statistics
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.app import create_app
from tests.accounts.conftest import client_for
from tests.conftest import make_settings
from tests.factories import make_user

RESET_ASK = "/api/v1/auth/password-reset/request"
TRIES = 40


async def _timed(client: httpx.AsyncClient, email: str) -> float:
    started = time.perf_counter()
    answer = await client.post(RESET_ASK, json={"email": email})
    elapsed = time.perf_counter() - started
    assert answer.status_code == 202
    return elapsed


async def test_known_and_unknown_addresses_take_the_same_time(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user = await make_user(db, email="ann@example.com")
    # Warm both paths up (connections, compiled statements) before measuring.
    for _ in range(3):
        await _timed(client, user.email)
        await _timed(client, "nobody@example.com")

    known: list[float] = []
    unknown: list[float] = []
    # Interleaved, so that whatever else the machine does falls on both alike.
    for attempt in range(TRIES):
        pair = [(known, user.email), (unknown, f"nobody{attempt}@example.com")]
        for times, email in pair if attempt % 2 else reversed(pair):
            times.append(await _timed(client, email))

    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    difference = abs(known_median - unknown_median)
    # A lookup that stopped at "no such user" would save the writes and the commit, a large
    # share of the request; what is left is noise.
    assert difference < 0.25 * min(known_median, unknown_median), (
        f"known {known_median * 1000:.2f} ms, unknown {unknown_median * 1000:.2f} ms"
    )


async def test_reset_requests_are_rate_limited_per_address_asked_about(
    database_url: str,
) -> None:
    app = create_app(
        make_settings(
            database_url,
            rate_limits_enabled=True,
            rate_limit_auth="100/minute",
            rate_limit_password="3/15 minutes",
            rate_limit_prefix="reset-test",
        )
    )
    async with client_for(app) as client:
        answers = [
            await client.post(RESET_ASK, json={"email": "nobody@example.com"}) for _ in range(4)
        ]
        other = await client.post(RESET_ASK, json={"email": "somebody@example.com"})
    await app.state.engine.dispose()

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert other.status_code == 202


async def test_reset_requests_count_against_the_clients_address_too(database_url: str) -> None:
    app = create_app(
        make_settings(
            database_url,
            rate_limits_enabled=True,
            rate_limit_auth="3/minute",
            rate_limit_prefix="reset-address-test",
        )
    )
    async with client_for(app) as client:
        answers = [
            await client.post(RESET_ASK, json={"email": f"n{i}@example.com"}) for i in range(4)
        ]
    await app.state.engine.dispose()

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
