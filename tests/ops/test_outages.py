"""Database outages: requests fail fast with 503 `service_unavailable`, never hang and never 500,
and service comes back by itself, with no confirmed booking lost or duplicated."""

import asyncio
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from boxoffice.app import create_app
from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.conftest import make_settings
from tests.factories import auth_headers, make_attendees_with_headers, make_event, make_user
from tests.ops.relay import running_relay
from tests.ops.support import wait_until
from tests.servers import free_port

RUSH = 150
CAPACITY = 40
READERS = 20
READS = 20


@pytest.fixture
def silent_database_port() -> Iterator[int]:
    """A port that completes the TCP handshake and then never says a word, like a database
    host whose network dropped off after the connection was made."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port: int = listener.getsockname()[1]
        yield port


async def in_process_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await app.state.engine.dispose()


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "service_unavailable"
    assert "Retry-After" in answer.headers


async def test_a_refused_database_connection_is_503_at_once_and_readyz_says_so() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone"
    async for http in in_process_client(make_settings(url)):
        started = time.monotonic()
        listing = await http.get("/api/v1/events")
        ready = await http.get("/readyz")

        assert_unavailable(listing)
        assert_unavailable(ready)
        assert time.monotonic() - started < 5


async def test_a_database_that_never_answers_times_out_into_503(
    silent_database_port: int,
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{silent_database_port}/silent"
    settings = make_settings(url, database_connect_timeout=1)
    async for http in in_process_client(settings):
        started = time.monotonic()
        listing = await http.get("/api/v1/events")

        assert_unavailable(listing)
        assert time.monotonic() - started < 10


async def terminate_backends(database_url: str, client_ports: list[int]) -> None:
    """Terminates the backends of the connections from these ports, and waits until they are
    gone (their last words sent and their sockets closed)."""
    killer = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with killer.connect() as connection:
            result = await connection.execute(
                text(
                    "SELECT bool_and(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
                    "WHERE client_port = ANY(:ports)"
                ),
                {"ports": client_ports},
            )
            assert result.scalar_one(), "a backend outlived its termination"
    finally:
        await killer.dispose()


@pytest.mark.engines("postgresql")
async def test_a_pooled_connection_the_database_closed_is_not_handed_out(
    database_url: str, db: AsyncSession
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    async with running_relay(database_url) as (relay, relayed_url):
        async for http in in_process_client(make_settings(relayed_url)):
            assert (await http.get(f"/api/v1/events/{event.id}")).status_code == 200

            # Used a moment ago, so not pinged before its next use: only what the driver
            # saw can tell that the database hung up on it.
            await terminate_backends(database_url, relay.database_ports())
            await wait_until("the app closed its end", relay.app_hung_up_everywhere)
            again = await http.get(f"/api/v1/events/{event.id}")

            assert again.status_code == 200, again.text


@pytest.mark.engines("postgresql")
async def test_a_first_connection_cut_while_the_app_sets_it_up_is_503_and_the_next_serves(
    database_url: str, db: AsyncSession
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    async with running_relay(database_url) as (relay, relayed_url):
        async for http in in_process_client(make_settings(relayed_url)):
            # An engine's first connection asks the server about itself. The backend's farewell
            # arrives right behind its answer about the schema, and the next question goes out
            # through the driver alone, before the socket closes.
            relay.cut_after = b"current_schema()"
            relay.hold_hangups = True
            reading = asyncio.create_task(http.get(f"/api/v1/events/{event.id}"))
            await wait_until("the schema answered", relay.holds_an_answer)
            await terminate_backends(database_url, relay.database_ports())
            await wait_until("the farewell passed on", relay.server_hung_up_everywhere)
            cut = await reading
            relay.cut_after = None
            relay.release_hangups()
            after = await http.get(f"/api/v1/events/{event.id}")

            assert_unavailable(cut)
            assert after.status_code == 200, after.text


async def cut_connections(database_url: str, done: asyncio.Event) -> int:
    """Terminates every other connection to the test database, again and again, until `done`;
    how many it terminated. Each round waits until its backends are gone, so that when this
    returns the cut is over, however late a busy machine lets them exit."""
    killer = create_async_engine(database_url, poolclass=NullPool)
    terminated = 0
    try:
        async with killer.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            while not done.is_set():
                result = await connection.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) "
                        "FROM pg_stat_activity WHERE datname = current_database() "
                        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                    )
                )
                terminated += int(result.scalar_one())
                await asyncio.sleep(0.2)
    finally:
        await killer.dispose()
    return terminated


@pytest.mark.engines("postgresql")
async def test_connections_cut_during_a_rush_give_503_never_500_and_lose_no_booking(
    servers: list[str], database_url: str, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    crowd = await make_attendees_with_headers(db, settings, RUSH)
    latecomer = await auth_headers(db, settings, await make_user(db))
    # A new connection per request: a kept-alive one that the server closes as idle just when
    # the client sends on it again is a race of the test's client, not an answer lost.
    limits = httpx.Limits(max_connections=RUSH, max_keepalive_connections=0)
    # The cut is for the servers: this test's own connections, idle in the pool that later
    # tests share, would be cut too. It lets go of them, and opens new ones after.
    await db.close()
    assert isinstance(db.bind, AsyncEngine)
    await db.bind.dispose()

    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        async def book(index: int, headers: dict[str, str]) -> httpx.Response:
            # In waves, so that some bookings fall between two cuts and some into one.
            await asyncio.sleep(index // 10 * 0.1)
            return await http.post(
                f"{servers[index % 2]}/api/v1/bookings",
                headers=headers,
                json={"event_id": event.id},
            )

        async def read(index: int) -> list[httpx.Response]:
            url = servers[index % 2]
            return [await http.get(f"{url}/api/v1/events/{event.id}") for _ in range(READS)]

        # The cut goes on for as long as the rush and the readers take.
        rush_over = asyncio.Event()
        cutting = asyncio.create_task(cut_connections(database_url, rush_over))
        reading = asyncio.gather(*(read(i) for i in range(READERS)))
        answers = await asyncio.gather(*(book(i, h) for i, h in enumerate(crowd)))
        reads = [answer for answers_of_one in await reading for answer in answers_of_one]
        rush_over.set()
        terminated = await cutting

        assert terminated > 0
        counted = Counter(
            a.json()["status"] if a.status_code == 201 else a.json()["code"] for a in answers
        )
        assert set(counted) <= {"confirmed", "sold_out", "service_unavailable"}, counted
        read_statuses = Counter(a.status_code for a in reads)
        assert set(read_statuses) <= {200, 503}, read_statuses
        assert counted["service_unavailable"] + read_statuses[503] > 0, "the cut hit no request"
        for answer in [*answers, *reads]:
            if answer.status_code == 503:
                assert_unavailable(answer)

        # Back by itself: ready within seconds, and bookings succeed again on both processes.
        deadline = time.monotonic() + 10
        while [(await http.get(f"{url}/readyz")).status_code for url in servers] != [200, 200]:
            assert time.monotonic() < deadline, "not ready again within 10 s"
            await asyncio.sleep(0.1)
        after = [await http.get(f"{url}/api/v1/events/{event.id}") for url in servers]
        assert [a.status_code for a in after] == [200, 200]
        booked_after = await http.post(
            f"{servers[1]}/api/v1/bookings",
            headers=latecomer,
            json={"event_id": event.id, "join_waitlist": True},
        )
        assert booked_after.status_code == 201, booked_after.text

    answered = {a.json()["id"] for a in answers if a.status_code == 201}
    confirmed = set(
        (
            await db.scalars(
                select(Booking.id).where(
                    Booking.event_id == event.id, Booking.status == BookingStatus.CONFIRMED
                )
            )
        ).all()
    )
    assert answered <= confirmed, "a booking answered 201 is not in the database"
    final = await assert_seats_exact(db, event.id)
    assert final.seats_booked == len(confirmed) <= CAPACITY


@pytest.mark.engines("postgresql")
async def test_a_statement_stuck_past_the_command_timeout_is_503_not_a_hang(
    database_url: str, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=5)
    headers = await auth_headers(db, settings, await make_user(db))
    holder = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with holder.connect() as lock:
            # A transaction that never finishes holds the row every booking must change.
            await lock.execute(
                text("SELECT id FROM events WHERE id = :id FOR UPDATE"), {"id": event.id}
            )
            stuck = make_settings(database_url, database_command_timeout=1)
            async for http in in_process_client(stuck):
                started = time.monotonic()
                answer = await http.post(
                    "/api/v1/bookings", headers=headers, json={"event_id": event.id}
                )

                assert_unavailable(answer)
                assert time.monotonic() - started < 10
            await lock.rollback()
    finally:
        await holder.dispose()
    assert (await assert_seats_exact(db, event.id)).seats_booked == 0
