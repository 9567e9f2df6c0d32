"""Where one request's time goes: statements, round trips and a profile, per kind of request.

`python -m benchmarks.profile` (PostgreSQL by default; BENCH_ENGINES picks another). In
process (httpx's ASGI transport, no sockets), on a fresh database, for each request kind:
the SQL statements it runs and its other round trips (pool pre-ping, BEGIN, COMMIT/ROLLBACK),
counted by SQLAlchemy event listeners; the median time of SEQUENTIAL requests one after the
other, the CPU time they cost this process (client and server, not the database) and the
Python function calls they make (cProfile: the one figure a busy machine does not move); and,
with PROFILE=1, a pyinstrument profile of them. Then the mail worker, per message, on the
confirmations those bookings queued. BENCH_KINDS=text keeps the kinds whose name holds it.
Prints; asserts nothing.
"""

import asyncio
import cProfile
import io
import os
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event

from boxoffice import migrations
from boxoffice.app import create_app
from boxoffice.catalogue.models import general_admission
from boxoffice.db import create_engine, create_sessionmaker, utcnow
from boxoffice.events.models import Event, EventStatus
from boxoffice.notifications.backends import ConsoleBackend
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests import engines
from tests.factories import PASSWORD, make_attendees_with_headers, make_user

SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "200"))
_WARM_UP = 5
_COUNTED = 20
SECRET = "bench-secret-key-" + "x" * 64


@dataclass
class Tally:
    statements: list[str] = field(default_factory=list)
    pings: int = 0
    begins: int = 0
    ends: int = 0

    def round_trips(self) -> int:
        return len(self.statements) + self.pings + self.begins + self.ends


def _listen(app: Any, tally: Tally) -> None:
    engine = app.state.engine.sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(*args: Any) -> None:
        tally.statements.append(" ".join(str(args[2]).split())[:110])

    ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        tally.pings += 1
        return bool(ping(dbapi_connection))

    # Both SQLAlchemy's pre-ping and boxoffice's ping of idle connections call it.
    engine.dialect.do_ping = counted_ping

    # In autocommit (reading sessions on PostgreSQL) SQLAlchemy still fires these events, but
    # the driver sends nothing.
    def sent(connection: Any) -> bool:
        return bool(connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT")

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        tally.begins += sent(connection)

    @event.listens_for(engine, "commit")
    def _commit(connection: Any) -> None:
        tally.ends += sent(connection)

    @event.listens_for(engine, "rollback")
    def _rollback(connection: Any) -> None:
        tally.ends += sent(connection)


async def main_async(engine_name: str) -> None:
    url = await engines.create_database(engine_name)
    try:
        settings = Settings(
            database_url=url,
            secret_key=SECRET,
            rate_limits_enabled=False,
            database_pool_ping_idle_seconds=float(os.environ.get("PING_IDLE_SECONDS", "10")),
        )
        await asyncio.to_thread(migrations.upgrade, settings)
        engine = create_engine(settings)
        async with create_sessionmaker(engine)() as db:
            organizer = await make_user(db, role=Role.ORGANIZER)
            attendee = await make_user(db)
            starts_at = utcnow() + timedelta(days=7)
            events = [
                Event(
                    organizer_id=organizer.id,
                    title=f"Concert {i}",
                    description="",
                    location="Main Hall",
                    timezone="UTC",
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=2),
                    capacity=1,
                    seats_booked=0,
                    waitlist_count=0,
                    ticket_types=[general_admission()],
                    status=EventStatus.PUBLISHED,
                )
                for i in range(1000)
            ]
            db.add_all(events)
            await db.commit()
            # Every booking kind takes a fresh attendee per call: warm-up, counted, timed, profiled.
            per_kind = _WARM_UP + 1 + SEQUENTIAL + _COUNTED
            crowd = await make_attendees_with_headers(db, settings, 2 * per_kind)
        await engine.dispose()
        app = create_app(settings)
        tally = Tally()
        _listen(app, tally)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            ids = iter(e.id for e in events)
            heads = iter(crowd)

            async def listing() -> httpx.Response:
                return await client.get("/api/v1/events?limit=20")

            async def detail() -> httpx.Response:
                return await client.get(f"/api/v1/events/{events[0].id}")

            async def booking() -> httpx.Response:
                # A fresh event and attendee each time: confirmed.
                return await client.post(
                    "/api/v1/bookings", headers=next(heads), json={"event_id": next(ids)}
                )

            async def sold_out() -> httpx.Response:
                return await client.post(
                    "/api/v1/bookings", headers=next(heads), json={"event_id": events[0].id}
                )

            async def login() -> httpx.Response:
                return await client.post(
                    "/api/v1/auth/login", json={"email": attendee.email, "password": PASSWORD}
                )

            async def healthz() -> httpx.Response:
                return await client.get("/healthz")

            kinds: list[tuple[str, Callable[[], Awaitable[httpx.Response]], int, int]] = [
                ("GET /healthz", healthz, 200, SEQUENTIAL),
                ("GET /api/v1/events?limit=20", listing, 200, SEQUENTIAL),
                ("GET /api/v1/events/{id}", detail, 200, SEQUENTIAL),
                ("POST /api/v1/bookings (confirmed)", booking, 201, SEQUENTIAL),
                ("POST /api/v1/bookings (sold out)", sold_out, 409, SEQUENTIAL),
                ("POST /api/v1/auth/login", login, 200, 20),
            ]
            wanted = os.environ.get("BENCH_KINDS", "")
            for name, call, expected, count in kinds:
                if wanted in name:
                    await _report(name, call, expected, count, tally)
            if wanted in _WORKER:
                await _report_worker(app, settings, tally)
        await app.state.engine.dispose()
    finally:
        await engines.drop_database(engine_name, url)


async def _report(
    name: str,
    call: Callable[[], Awaitable[httpx.Response]],
    expected: int,
    count: int,
    tally: Tally,
) -> None:
    for _ in range(_WARM_UP):  # statement caches, prepared statements, the pool
        assert (await call()).status_code == expected, name
    tally.__init__()  # type: ignore[misc]
    assert (await call()).status_code == expected, name
    counted = Tally(list(tally.statements), tally.pings, tally.begins, tally.ends)
    times = []
    profiler = _profiler()
    if profiler is not None:
        profiler.start()
    cpu_started = time.process_time()
    for _ in range(count):
        started = time.perf_counter()
        response = await call()
        times.append(time.perf_counter() - started)
        assert response.status_code == expected, (name, response.text)
    cpu = (time.process_time() - cpu_started) / count
    calls = await _python_calls(call, expected)
    print(
        f"\n{name}: median {statistics.median(times) * 1000:.2f} ms in sequence, "
        f"{cpu * 1000:.2f} ms of this process's CPU each, {calls:.0f} Python calls each; "
        f"{len(counted.statements)} statements, {counted.round_trips()} round trips "
        f"(pre-ping {counted.pings}, BEGIN {counted.begins}, COMMIT/ROLLBACK {counted.ends})"
    )
    for statement in counted.statements:
        print(f"    {statement}")
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))


async def _python_calls(call: Callable[[], Awaitable[httpx.Response]], expected: int) -> float:
    """Python function calls per request (client and server), counted by cProfile: unlike any
    time, the same on a busy machine as on a quiet one, so a change's effect shows at once."""
    counter = cProfile.Profile()
    counter.enable()
    for _ in range(_COUNTED):
        assert (await call()).status_code == expected
    counter.disable()
    return pstats.Stats(counter).total_calls / _COUNTED  # type: ignore[attr-defined, no-any-return]


_WORKER = "notification worker (confirmations queued by the bookings above)"


async def _report_worker(app: Any, settings: Settings, tally: Tally) -> None:
    """The mail worker in a server process, per message: claim, read, render, send (to the
    console backend, writing into memory), record."""
    worker = Worker(settings, app.state.sessionmaker, backend=ConsoleBackend(io.StringIO()))
    if not await worker.run_once():  # warm
        print(f"\n{_WORKER}: nothing queued (the booking kinds did not run)")
        return
    tally.__init__()  # type: ignore[misc]
    batch = await worker.run_once()
    counted = Tally(list(tally.statements), tally.pings, tally.begins, tally.ends)
    counter = cProfile.Profile()
    counter.enable()
    profiled = await worker.run_once()
    counter.disable()
    calls = pstats.Stats(counter).total_calls / profiled  # type: ignore[attr-defined]
    cpu_started, sent = time.process_time(), 0
    while claimed := await worker.run_once():
        sent += claimed
    cpu = (time.process_time() - cpu_started) / sent
    print(
        f"\n{_WORKER}: {cpu * 1000:.2f} ms of this process's CPU per message ({sent} sent), "
        f"{calls:.0f} Python calls per message; a batch of {batch}: "
        f"{len(counted.statements)} statements, {counted.round_trips()} round trips"
    )


def _profiler() -> Any:
    if os.environ.get("PROFILE") != "1":
        return None
    from pyinstrument import Profiler

    return Profiler(async_mode="enabled", interval=0.0005)


def main() -> None:
    asyncio.run(main_async(os.environ.get("BENCH_ENGINES", engines.POSTGRESQL).split(",")[0]))


if __name__ == "__main__":
    main()
