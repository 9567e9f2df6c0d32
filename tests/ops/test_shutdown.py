"""SIGTERM: a server stops accepting connections, answers every request it had accepted, then
exits cleanly."""

import asyncio
import signal
import socket
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.factories import make_attendees_with_headers, make_event, make_user
from tests.ops.support import wait_for
from tests.servers import server_process

IN_FLIGHT = 20
CAPACITY = 10


def refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


@pytest.mark.engines("postgresql")
async def test_sigterm_answers_every_accepted_request_then_exits(
    database_url: str, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    crowd = await make_attendees_with_headers(db, settings, IN_FLIGHT)
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
        "BOXOFFICE_DATABASE_POOL_SIZE": str(IN_FLIGHT + 5),
    }
    holder = create_async_engine(database_url, poolclass=NullPool)
    try:
        with server_process(env) as (server, url):
            async with holder.connect() as lock, httpx.AsyncClient(timeout=60) as http:
                # Every booking will wait for the event's row, which the test holds.
                await lock.execute(
                    text("SELECT id FROM events WHERE id = :id FOR UPDATE"), {"id": event.id}
                )
                booking = [
                    asyncio.create_task(
                        http.post(f"{url}/api/v1/bookings", headers=h, json={"event_id": event.id})
                    )
                    for h in crowd
                ]
                await wait_until_waiting_on_locks(holder, IN_FLIGHT)

                server.send_signal(signal.SIGTERM)
                await asyncio.to_thread(
                    wait_for, "the listening socket closed", lambda: refuses_connections(url)
                )
                assert server.poll() is None, "it waits for the requests in flight"
                await lock.rollback()
                answers = await asyncio.gather(*booking)

            assert Counter(a.status_code for a in answers) == {201: CAPACITY, 409: CAPACITY}
            # uvicorn re-raises the signal once it has finished, so the exit reports it.
            assert await asyncio.to_thread(server.wait, 30) in (0, -signal.SIGTERM)
    finally:
        await holder.dispose()
    assert (await assert_seats_exact(db, event.id)).seats_booked == CAPACITY


async def wait_until_waiting_on_locks(engine: AsyncEngine, count: int) -> None:
    """Polls, each time in a transaction of its own (within one, PostgreSQL shows the same
    snapshot of pg_stat_activity), until `count` sessions wait for a lock."""
    deadline = time.monotonic() + 30
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while (waiting := await _scalar(engine, query)) < count:
        assert time.monotonic() < deadline, f"only {waiting} of {count} requests got to the lock"
        await asyncio.sleep(0.05)


async def _scalar(engine: AsyncEngine, query: TextClause) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())
