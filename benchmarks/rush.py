"""`make bench`: how fast boxoffice books seats when a crowd rushes one event, per engine.

For each reachable engine: a fresh database, real `boxoffice serve` processes, an event with
CAPACITY seats and RUSH attendees who book it over real HTTP, CONCURRENCY requests in flight at
any moment (a thousand sockets opened at the same instant mostly measure the client's and the
kernel's connection handling); then a read load of event listings. Latencies are from a
request's sending to its answer. Prints a table and writes bench-results/rush.json. It
reports; it asserts only that the seats came out exact, since a fast wrong answer is no result.
"""

import asyncio
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import httpx

from boxoffice import migrations
from boxoffice.db import create_engine, create_sessionmaker
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests import engines
from tests.factories import auth_headers, make_attendees_with_headers, make_event, make_user
from tests.servers import running_servers

RUSH = int(os.environ.get("BENCH_RUSH", "1000"))
CAPACITY = int(os.environ.get("BENCH_CAPACITY", "500"))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "2"))
READS = int(os.environ.get("BENCH_READS", "2000"))
# Requests in flight at once: a crowd of RUSH, arriving CONCURRENCY at a time.
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
SECRET = "bench-secret-key-" + "x" * 64


async def _arrange(settings: Settings) -> tuple[int, list[dict[str, str]]]:
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as db:
        organizer = await make_user(db, role=Role.ORGANIZER)
        event = await make_event(db, organizer, capacity=CAPACITY)
        for _ in range(20):
            await make_event(db, organizer)
        crowd = await make_attendees_with_headers(db, settings, RUSH)
        await auth_headers(db, settings, organizer)
    await engine.dispose()
    return event.id, crowd


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


async def _timed(
    client: httpx.AsyncClient, gate: asyncio.Semaphore, method: str, url: str, **kwargs: Any
) -> tuple[float, int]:
    async with gate:
        started = time.perf_counter()
        response = await client.request(method, url, **kwargs)
        return time.perf_counter() - started, response.status_code


async def _rush(urls: list[str], event_id: int, crowd: list[dict[str, str]]) -> dict[str, Any]:
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(
        limits=httpx.Limits(max_connections=CONCURRENCY), timeout=300
    ) as client:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                _timed(
                    client,
                    gate,
                    "POST",
                    f"{urls[i % len(urls)]}/api/v1/bookings",
                    headers=headers,
                    json={"event_id": event_id},
                )
                for i, headers in enumerate(crowd)
            )
        )
        elapsed = time.perf_counter() - started
        event = (await client.get(f"{urls[0]}/api/v1/events/{event_id}")).json()
    statuses = [status for _, status in results]
    assert statuses.count(201) == CAPACITY == event["seats_booked"], "seats not exact"
    assert all(status in (201, 409) for status in statuses), statuses
    return {
        "requests": len(results),
        "seconds": round(elapsed, 3),
        "requests_per_second": round(len(results) / elapsed, 1),
        "confirmed": statuses.count(201),
        "sold_out": statuses.count(409),
        **{k: round(v, 1) for k, v in _percentiles([t for t, _ in results]).items()},
    }


async def _reads(urls: list[str]) -> dict[str, Any]:
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(
        limits=httpx.Limits(max_connections=CONCURRENCY), timeout=60
    ) as client:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                _timed(client, gate, "GET", f"{urls[i % len(urls)]}/api/v1/events?limit=20")
                for i in range(READS)
            )
        )
        elapsed = time.perf_counter() - started
    assert all(status == 200 for _, status in results)
    return {
        "requests": READS,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(READS / elapsed, 1),
        **{k: round(v, 1) for k, v in _percentiles([t for t, _ in results]).items()},
    }


async def bench(engine_name: str) -> dict[str, Any]:
    url = await engines.create_database(engine_name)
    try:
        settings = Settings(database_url=url, secret_key=SECRET)
        await asyncio.to_thread(migrations.upgrade, settings)
        event_id, crowd = await _arrange(settings)
        env = {
            "BOXOFFICE_DATABASE_URL": url,
            "BOXOFFICE_SECRET_KEY": SECRET,
            "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
        }
        with running_servers(env, count=PROCESSES) as urls:
            return {
                "engine": engine_name,
                "rush": await _rush(urls, event_id, crowd),
                "reads": await _reads(urls),
            }
    finally:
        await engines.drop_database(engine_name, url)


def main() -> None:
    available = engines.discover()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"boxoffice rush benchmark: {RUSH} attendees, {CAPACITY} seats, {PROCESSES} processes")
    print(f"machine: {machine}")
    results = []
    for engine_name in available.engines:
        result = asyncio.run(bench(engine_name))
        results.append(result)
        rush, reads = result["rush"], result["reads"]
        print(
            f"{engine_name:>10}: rush {rush['requests']} in {rush['seconds']} s "
            f"({rush['requests_per_second']}/s, p50 {rush['p50_ms']} ms, "
            f"p99 {rush['p99_ms']} ms); listing {reads['requests_per_second']}/s "
            f"(p50 {reads['p50_ms']} ms, p99 {reads['p99_ms']} ms)"
        )
    if available.unreachable:
        print(f"skipped (unreachable): {', '.join(available.unreachable)}")
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "rush.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()
