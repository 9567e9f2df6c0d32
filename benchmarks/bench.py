"""`make bench`: boxoffice against the ceiling of its own server, each configuration in one run.

For every server configuration (CONFIGS: the old `uvicorn --workers 2`, then each speedup
added in turn, the last one being `boxoffice serve --workers 2` as shipped) on a fresh
database of each engine (PostgreSQL by default; BENCH_ENGINES=sqlite,postgresql,mariadb),
in PASSES passes that alternate the order of the configurations (forth, back, ...), so that a
machine growing busier or quieter during the run favours none; figures sum the passes.
BENCH_BASELINE=<path of another checkout> adds that code's `boxoffice serve` as a first
configuration, for a before/after in one run (same database schema needed). Scenarios:

- ceiling: `GET /healthz`, the trivial route of the same server with the same processes;
- browse: `GET /api/v1/events?limit=20` (first page), then `GET /api/v1/events/{id}`;
- rush: U attendees rush an event of K seats, IN_FLIGHT requests at a time, ROUNDS times;
- rush (types): the same over an event of K seats with three ticket types and two quotas that
  share one of them, each attendee asking for one or two lines (not for BENCH_BASELINE, whose
  code may not know ticket types); the types have prices, so the bookings are held for payment
  (`pending`, SPEC §10);
- spread: the same attendees book SPREAD_PER_ATTENDEE events each, out of SPREAD_EVENTS;
- login: logins at the production argon2 cost while one client probes `/healthz`.

Every throughput is also given as a ratio to the ceiling measured in the same run, and every
scenario records the load driver's own CPU share (near 1.0: the driver was the limit) and the
CPU the rest of the machine (server and database) spent per request: on C cores, C seconds
of CPU per second is the most there is, so 1000 * C / (that figure) is its speed limit. After
bookings, the bench waits until the server's mail workers have sent what they queued (so that
it is not sent in the next scenario's time) and gives that CPU too: a booking's full cost. The
seats are checked after each rush and the spread: a fast wrong answer is no result. Prints a
table; writes bench-results/bench.json.
"""

import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from benchmarks.load import (
    Outcome,
    drive,
    machine_busy_seconds,
    pinned_to_one_core,
    probe,
    request,
)
from boxoffice import migrations
from boxoffice.catalogue.models import Quota, TicketType, general_admission
from boxoffice.db import create_engine, create_sessionmaker, utcnow
from boxoffice.events.models import Event, EventStatus
from boxoffice.notifications.models import Notification, NotificationStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests import engines
from tests.factories import PASSWORD, make_attendees_with_headers, make_user


def _knob(name: str, default: int) -> int:
    return int(os.environ.get(f"BENCH_{name}", str(default)))


WORKERS = _knob("WORKERS", 2)
# Every configuration runs once per pass; the passes alternate the order (sizes are per pass).
PASSES = _knob("PASSES", 2)
IN_FLIGHT = _knob("IN_FLIGHT", 50)
CEILING = _knob("CEILING", 2500)
BROWSE = _knob("BROWSE", 500)
ATTENDEES = _knob("ATTENDEES", 300)
SEATS = _knob("SEATS", 100)
ROUNDS = _knob("ROUNDS", 1)
SPREAD_EVENTS = _knob("SPREAD_EVENTS", 1000)
SPREAD_PER_ATTENDEE = _knob("SPREAD_PER_ATTENDEE", 2)
SPREAD_SEATS = _knob("SPREAD_SEATS", 2)
# The types rush's quotas, each over two of the three types; together more than the event.
QUOTA_SIZE = _knob("QUOTA_SIZE", 60)
TYPES_RUSH_PRICES = {"Adult": 2500, "Student": 1200, "Child": 800}
LOGINS = _knob("LOGINS", 50)
LOGINS_IN_FLIGHT = _knob("LOGINS_IN_FLIGHT", 8)
SECRET = "bench-secret-key-" + "x" * 64
MAIL_TIMEOUT = 120.0

UVICORN = [sys.executable, "-m", "uvicorn", "boxoffice.cli:build_app", "--factory"]
QUIET = ["--no-access-log", "--log-level", "warning"]


@dataclass(frozen=True)
class Config:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    # Where the server's code comes from: `python -m` imports from its working directory.
    cwd: str | None = None
    # Whether its code books lines of ticket types (SPEC §9): not a baseline from before them.
    ticket_types: bool = True


SERVE = [sys.executable, "-m", "boxoffice.cli", "serve"]
PING_ALWAYS = {"BOXOFFICE_DATABASE_POOL_PING_IDLE_SECONDS": "0"}
CONFIGS = [
    Config(
        "uvicorn --workers 2 (before)",
        [*UVICORN, "--loop", "asyncio", "--http", "h11"],
        PING_ALWAYS,
    ),
    Config(
        "+ TCP_NODELAY",
        [*UVICORN, "--loop", "asyncio", "--http", "boxoffice.server:NoDelayH11Protocol"],
        PING_ALWAYS,
    ),
    Config("+ uvloop, httptools", SERVE, PING_ALWAYS),
    Config("+ ping idle connections only = boxoffice serve", SERVE),
]


@dataclass
class Data:
    """Every configuration gets events of its own in each pass, so none finds seats taken."""

    rush_events: list[int]
    # Each with its types' ids, in the order A, B, C (quotas: A+B and B+C).
    types_rush_events: list[tuple[int, list[int]]]
    spread_events: list[int]
    warm_up_event: int
    crowd: list[dict[str, str]]
    emails: list[str]


async def _arrange(settings: Settings, slots: int) -> list[Data]:
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as db:
        organizer = await make_user(db, role=Role.ORGANIZER)
        starts_at = utcnow() + timedelta(days=7)

        def event(capacity: int, title: str) -> Event:
            return Event(
                organizer_id=organizer.id,
                title=title,
                description="",
                location="Main Hall",
                timezone="UTC",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2),
                capacity=capacity,
                seats_booked=0,
                waitlist_count=0,
                ticket_types=[general_admission()],
                status=EventStatus.PUBLISHED,
            )

        rush = [event(SEATS, f"Rush {i}") for i in range(ROUNDS * slots)]
        types_rush = [event(SEATS, f"Festival {i}") for i in range(ROUNDS * slots)]
        spread = [event(SPREAD_SEATS, f"Concert {i}") for i in range(SPREAD_EVENTS * slots)]
        warm_up = [event(SEATS, f"Warm-up {i}") for i in range(slots)]
        for festival in types_rush:
            festival.ticket_types = [
                TicketType(name=name, description="", price_minor=price, position=position)
                for position, (name, price) in enumerate(TYPES_RUSH_PRICES.items())
            ]
        db.add_all(rush + types_rush + spread + warm_up)
        await db.flush()
        for festival in types_rush:
            a, b, c = festival.ticket_types
            db.add(Quota(event_id=festival.id, name="A+B", size=QUOTA_SIZE, ticket_types=[a, b]))
            db.add(Quota(event_id=festival.id, name="B+C", size=QUOTA_SIZE, ticket_types=[b, c]))
        await db.commit()
        crowd = await make_attendees_with_headers(db, settings, ATTENDEES)
        emails = list(
            (await db.scalars(select(User.email).where(User.role == Role.ATTENDEE))).all()
        )
    await engine.dispose()
    return [
        Data(
            [e.id for e in rush[ROUNDS * n : ROUNDS * (n + 1)]],
            [
                (e.id, [t.id for t in e.ticket_types])
                for e in types_rush[ROUNDS * n : ROUNDS * (n + 1)]
            ],
            [e.id for e in spread[SPREAD_EVENTS * n : SPREAD_EVENTS * (n + 1)]],
            warm_up[n].id,
            crowd,
            emails,
        )
        for n in range(slots)
    ]


async def _seats_booked(settings: Settings, event_ids: list[int]) -> dict[int, int]:
    """The seats each event has sold or holds for payment (SPEC §10: a priced booking is held)."""
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as db:
        taken = Event.seats_booked + Event.seats_held
        rows = await db.execute(
            select(Event.id, taken.label("taken")).where(Event.id.in_(event_ids))
        )
        booked = {row.id: row.taken for row in rows}
    await engine.dispose()
    return booked


def _free_port() -> int:
    import socket

    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port: int = probe_socket.getsockname()[1]
        return port


@contextmanager
def _serving(config: Config, env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    command = [*config.command, "--port", str(port), "--workers", str(WORKERS)]
    if "uvicorn" in command:
        command += QUIET
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, "BOXOFFICE_LOG_LEVEL": "WARNING", **env, **config.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=config.cwd,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"{config.name} did not start: {log.read()[-2000:]!r}")
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            try:
                yield url
            except BaseException:
                # An unexpected answer is a bug to look into: show what the server logged.
                log.seek(0)
                print(log.read()[-6000:].decode(errors="replace"), file=sys.stderr)
                raise
        finally:
            process.terminate()
            process.wait(timeout=30)


async def _load(url: str, messages: list[bytes], in_flight: int = IN_FLIGHT) -> Outcome:
    with pinned_to_one_core():
        return await drive(url, messages, in_flight)


def _only(outcome: Outcome, allowed: set[int], what: str) -> None:
    unexpected = Counter(s for s in outcome.statuses if s not in allowed)
    assert not unexpected, f"{what}: unexpected answers {dict(unexpected)}"


async def _rush(url: str, settings: Settings, data: Data) -> Outcome:
    rounds: list[Outcome] = []
    for event_id in data.rush_events:
        body = {"event_id": event_id}
        messages = [request("POST", "/api/v1/bookings", h, body) for h in data.crowd]
        outcome = await _load(url, messages)
        _only(outcome, {201, 409}, "rush")
        booked = (await _seats_booked(settings, [event_id]))[event_id]
        assert outcome.statuses.count(201) == SEATS == booked, "rush: seats not exact"
        rounds.append(await _with_mail_sent(settings, outcome))
    return _merged(rounds)


async def _types_rush(url: str, settings: Settings, data: Data) -> Outcome:
    chooser = random.Random(22)
    rounds: list[Outcome] = []
    for event_id, type_ids in data.types_rush_events:
        bodies = [
            {
                "event_id": event_id,
                "lines": [
                    {"ticket_type_id": t, "quantity": chooser.randint(1, 2)}
                    for t in chooser.sample(type_ids, chooser.randint(1, 2))
                ],
            }
            for _ in data.crowd
        ]
        messages = [
            request("POST", "/api/v1/bookings", h, body)
            for h, body in zip(data.crowd, bodies, strict=True)
        ]
        outcome = await _load(url, messages)
        _only(outcome, {201, 409}, "rush (types)")
        sold = sum(
            line["quantity"]
            for body, status in zip(bodies, outcome.statuses, strict=True)
            if status == 201
            for line in body["lines"]  # type: ignore[attr-defined]
        )
        booked = (await _seats_booked(settings, [event_id]))[event_id]
        taken = await _quotas_taken(settings, event_id)
        assert sold == booked <= SEATS, "rush (types): seats not exact"
        assert all(seats <= QUOTA_SIZE for seats in taken), "rush (types): a quota oversold"
        rounds.append(await _with_mail_sent(settings, outcome))
    return _merged(rounds)


async def _quotas_taken(settings: Settings, event_id: int) -> list[int]:
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as db:
        taken = (
            await db.scalars(select(Quota.seats_taken).where(Quota.event_id == event_id))
        ).all()
    await engine.dispose()
    return list(taken)


async def _spread(url: str, settings: Settings, data: Data) -> Outcome:
    chooser = random.Random(14)
    choices = [chooser.sample(data.spread_events, SPREAD_PER_ATTENDEE) for _ in data.crowd]
    # Attendee after attendee, so that one attendee's bookings are not all in flight at once.
    plan = [
        (data.crowd[a], choices[a][i])
        for i in range(SPREAD_PER_ATTENDEE)
        for a in range(len(data.crowd))
    ]
    messages = [request("POST", "/api/v1/bookings", h, {"event_id": e}) for h, e in plan]
    outcome = await _load(url, messages)
    _only(outcome, {201, 409}, "spread")
    confirmed = Counter(e for (_, e), s in zip(plan, outcome.statuses, strict=True) if s == 201)
    booked = await _seats_booked(settings, data.spread_events)
    assert all(booked[e] == confirmed.get(e, 0) <= SPREAD_SEATS for e in booked), "spread"
    return await _with_mail_sent(settings, outcome)


async def _with_mail_sent(settings: Settings, outcome: Outcome) -> Outcome:
    """Waits until the server's mail workers have sent every message that was due when the
    bookings ended, so that this scenario's mail is not sent in the next one's time, and counts
    what that cost. The workers poll every 2 s when idle: the wait may include one poll."""
    engine = create_engine(settings)
    due = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.status == NotificationStatus.PENDING, Notification.due_at <= utcnow())
    )
    started, busy = time.perf_counter(), machine_busy_seconds()
    try:
        async with create_sessionmaker(engine)() as db:
            while await db.scalar(due):
                await db.commit()
                assert time.perf_counter() - started < MAIL_TIMEOUT, "mail: never all sent"
                await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    outcome.mail_seconds = time.perf_counter() - started
    outcome.mail_machine_cpu_seconds = machine_busy_seconds() - busy
    return outcome


async def _login(url: str, data: Data) -> tuple[Outcome, list[float]]:
    chooser = random.Random(40)
    messages = [
        request("POST", "/api/v1/auth/login", None, {"email": e, "password": PASSWORD})
        for e in chooser.choices(data.emails, k=LOGINS)
    ]
    stop = asyncio.Event()
    prober = asyncio.create_task(probe(url, request("GET", "/healthz"), stop, pause=0.01))
    try:
        outcome = await _load(url, messages, LOGINS_IN_FLIGHT)
    finally:
        stop.set()
    _only(outcome, {200}, "login")
    return outcome, await prober


@dataclass
class Measured:
    """One configuration's outcomes, summed over the passes."""

    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    healthz_during_login: list[float] = field(default_factory=list)
    load_averages: list[float] = field(default_factory=list)

    def add(self, name: str, outcome: Outcome) -> None:
        self.outcomes.setdefault(name, []).append(outcome)

    def summary(self) -> dict[str, Any]:
        merged = {name: _merged(parts) for name, parts in self.outcomes.items()}
        ceiling = merged["ceiling"].per_second
        summary: dict[str, Any] = {
            name: {**outcome.summary(), "ratio": round(outcome.per_second / ceiling, 3)}
            for name, outcome in merged.items()
        }
        ordered = sorted(self.healthz_during_login)
        p99 = ordered[int(0.99 * (len(ordered) - 1))] * 1000
        summary["login"]["healthz_p99_ms"] = round(p99, 2)
        for name in ("rush", "rush (types)", "spread"):
            if name in merged:
                summary[name]["confirmed"] = merged[name].statuses.count(201)
        summary["load_average"] = [round(x, 2) for x in self.load_averages]
        return summary


def _merged(parts: list[Outcome]) -> Outcome:
    return Outcome(
        seconds=sum(p.seconds for p in parts),
        client_cpu_seconds=sum(p.client_cpu_seconds for p in parts),
        latencies=[t for p in parts for t in p.latencies],
        statuses=[s for p in parts for s in p.statuses],
        machine_cpu_seconds=sum(p.machine_cpu_seconds for p in parts),
        mail_seconds=sum(p.mail_seconds for p in parts),
        mail_machine_cpu_seconds=sum(p.mail_machine_cpu_seconds for p in parts),
    )


async def _scenarios(
    url: str, settings: Settings, data: Data, measured: Measured, *, ticket_types: bool
) -> None:
    listing = request("GET", "/api/v1/events?limit=20")
    details = [request("GET", f"/api/v1/events/{e}") for e in data.spread_events]
    # Warm-up, as a server that has been running is: every pooled connection open and its
    # statements prepared (asyncpg prepares per connection), SQLAlchemy's statement caches,
    # code paths imported. The booking warm-up sells out an event of its own, so that both
    # answers, confirmed and sold out, have been given.
    await _load(url, [listing] * 100 + details[:100])
    warm_up = {"event_id": data.warm_up_event}
    bookings = [request("POST", "/api/v1/bookings", h, warm_up) for h in data.crowd]
    await _with_mail_sent(settings, await _load(url, bookings))
    measured.add("ceiling", await _load(url, [request("GET", "/healthz")] * CEILING))
    measured.add("browse list", await _load(url, [listing] * BROWSE))
    browse = [details[i % len(details)] for i in range(BROWSE)]
    measured.add("browse detail", await _load(url, browse))
    measured.add("rush", await _rush(url, settings, data))
    if ticket_types:
        measured.add("rush (types)", await _types_rush(url, settings, data))
    measured.add("spread", await _spread(url, settings, data))
    login, healthz = await _login(url, data)
    measured.add("login", login)
    measured.healthz_during_login += healthz


async def _bench(engine_name: str, configs: list[Config]) -> list[dict[str, Any]]:
    url = await engines.create_database(engine_name)
    try:
        settings = Settings(database_url=url, secret_key=SECRET)
        await asyncio.to_thread(migrations.upgrade, settings)
        arranged = iter(await _arrange(settings, len(configs) * PASSES))
        env = {
            "BOXOFFICE_DATABASE_URL": url,
            "BOXOFFICE_SECRET_KEY": SECRET,
            "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
        }
        measured = {config.name: Measured() for config in configs}
        for number in range(PASSES):
            # Forth, then back: a machine getting busier or quieter during the run favours no
            # configuration.
            for config in configs if number % 2 == 0 else configs[::-1]:
                print(f"  pass {number + 1}: {config.name}", flush=True)
                measured[config.name].load_averages.append(os.getloadavg()[0])
                with _serving(config, env) as base_url:
                    await _scenarios(
                        base_url,
                        settings,
                        next(arranged),
                        measured[config.name],
                        ticket_types=config.ticket_types,
                    )
        results = []
        for config in configs:
            summary = measured[config.name].summary()
            _print(engine_name, config, summary)
            results.append({"engine": engine_name, "config": config.name, **summary})
        return results
    finally:
        await engines.drop_database(engine_name, url)


def _machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    return (
        f"{platform.machine()}, nproc {os.cpu_count()}, {model}, {memory}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} at start"
    )


def _print(engine_name: str, config: Config, summary: dict[str, Any]) -> None:
    print(f"\n{engine_name} · {config.name}")
    print(f"  load average at each pass's start: {summary['load_average']}")
    for name, row in summary.items():
        if name == "load_average":
            continue
        extra = ""
        if "confirmed" in row:
            extra = (
                f", {row['confirmed']} confirmed; mail all sent {row['mail_seconds']:.1f} s "
                f"later, cpu/request with it {row['cpu_ms_per_request_with_mail']:.2f} ms"
            )
        if "healthz_p99_ms" in row:
            extra = f", /healthz p99 meanwhile {row['healthz_p99_ms']} ms"
        print(
            f"  {name:<14} {row['per_second']:>8.1f}/s  ratio {row['ratio']:>5.3f}  "
            f"p50 {row['p50_ms']:>7.2f} ms  p99 {row['p99_ms']:>8.2f} ms  "
            f"cpu/request {row['cpu_ms_per_request']:>6.2f} ms  "
            f"client cpu {row['client_cpu']:.2f}{extra}"
        )


def main() -> None:
    wanted = os.environ.get("BENCH_ENGINES", engines.POSTGRESQL).split(",")
    available = engines.discover()
    chosen = [name for name in wanted if name in available.engines]
    configs = [c for c in CONFIGS if os.environ.get("BENCH_CONFIGS", c.name) in c.name]
    baseline = os.environ.get("BENCH_BASELINE")
    if baseline:
        # A checkout of an earlier commit, served in the same run: before and after a change
        # on the same machine at the same time (this machine's speed drifts within minutes).
        configs.insert(0, Config(f"baseline {baseline}", SERVE, cwd=baseline, ticket_types=False))
    machine = _machine()
    print(f"boxoffice bench on {machine}")
    print(
        f"{WORKERS} server processes, {IN_FLIGHT} in flight; {PASSES} passes, each: ceiling "
        f"{CEILING}, browse {BROWSE} + {BROWSE}, rush {ATTENDEES} attendees for {SEATS} seats "
        f"x {ROUNDS}, spread {ATTENDEES} x {SPREAD_PER_ATTENDEE} over {SPREAD_EVENTS} events "
        f"of {SPREAD_SEATS} seats, {LOGINS} logins ({LOGINS_IN_FLIGHT} in flight)"
    )
    results = [row for engine_name in chosen for row in asyncio.run(_bench(engine_name, configs))]
    skipped = sorted(set(wanted) - set(chosen))
    if skipped:
        print(f"skipped (unreachable): {', '.join(skipped)}")
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()
