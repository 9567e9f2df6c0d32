"""/metrics: requests by route template, bookings by outcome, the pool, notifications; summed
over every worker of `boxoffice serve --workers N`, and never going backwards."""

import asyncio
import os
import secrets
import signal
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from boxoffice.app import create_app
from boxoffice.cli import WORKER_HEALTHCHECK_SECONDS
from boxoffice.metrics import notification_counts
from boxoffice.notifications.models import Notification, NotificationKind, NotificationStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.conftest import make_settings
from tests.factories import auth_headers, make_attendees_with_headers, make_event, make_user
from tests.ops.support import (
    environment_of,
    is_directory,
    parse_metrics,
    scrape,
    value,
    wait_for,
    workers_of,
)
from tests.servers import server_process

REQUESTS = "boxoffice_http_requests_total"
BOOKINGS = "boxoffice_bookings_total"
LATENCY_COUNT = "boxoffice_http_request_duration_seconds_count"
EVENT_ROUTE = "/api/v1/events/{event_id}"


async def test_metrics_count_requests_by_route_template_and_bookings_by_outcome(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=1)
    first, second = [await auth_headers(db, settings, await make_user(db)) for _ in range(2)]
    before = parse_metrics((await client.get("/metrics")).text)

    await client.get(f"/api/v1/events/{event.id}")
    await client.get("/api/v1/events/987654321")
    await client.get("/no/such/page")
    await client.post("/api/v1/bookings", headers=first, json={"event_id": event.id})
    await client.post("/api/v1/bookings", headers=first, json={"event_id": event.id})
    await client.post("/api/v1/bookings", headers=second, json={"event_id": event.id})
    after_response = await client.get("/metrics")

    assert after_response.status_code == 200
    after = parse_metrics(after_response.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(REQUESTS, method="GET", route=EVENT_ROUTE, status="200") == 1
    assert grew(REQUESTS, method="GET", route=EVENT_ROUTE, status="404") == 1
    assert grew(REQUESTS, method="GET", route="<unmatched>", status="404") == 1
    assert grew(LATENCY_COUNT, method="POST", route="/api/v1/bookings", status="201") == 1
    assert grew(BOOKINGS, outcome="confirmed") == 1
    assert grew(BOOKINGS, outcome="already_booked") == 1
    assert grew(BOOKINGS, outcome="sold_out") == 1
    assert not any(
        name == REQUESTS and ("route", "/no/such/page") in labels for name, labels in after
    )


async def test_metrics_report_the_pool_and_are_in_the_openapi_document(
    client: httpx.AsyncClient,
) -> None:
    samples = parse_metrics((await client.get("/metrics")).text)
    document = (await client.get("/openapi.json")).json()

    assert ("boxoffice_db_pool_connections_in_use", frozenset()) in samples
    assert ("boxoffice_db_pool_connections_open", frozenset()) in samples
    assert ("boxoffice_db_pool_waits_total", frozenset()) in samples
    assert "/metrics" in document["paths"]


def reads_counted_by(directory: Path, pid: int) -> float:
    """What one worker's own file says about the event reads it answered."""
    files = [str(directory / f"counter_{pid}.db"), str(directory / f"histogram_{pid}.db")]
    present = [f for f in files if Path(f).exists()]
    for metric in MultiProcessCollector.merge(present):  # type: ignore[no-untyped-call]
        for sample in metric.samples:
            if sample.name == REQUESTS and sample.labels.get("route") == EVENT_ROUTE:
                return float(sample.value)
    return 0


@pytest.mark.engines("postgresql", "sqlite")
async def test_metrics_add_up_over_two_workers_and_survive_a_worker_restart(
    database_url: str, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=5)
    crowd = await make_attendees_with_headers(db, settings, 8)
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
    }
    with server_process(env, "--workers", "2") as (server, url):
        wait_for("two workers", lambda: len(workers_of(server.pid)) == 2)
        workers = workers_of(server.pid)
        directory = Path(environment_of(workers[0])["PROMETHEUS_MULTIPROC_DIR"])
        reads = 0
        # New connections until both workers have answered some, counting exactly what we sent.
        fresh = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, limits=fresh) as http:
            for headers in crowd:
                await http.post("/api/v1/bookings", headers=headers, json={"event_id": event.id})
            deadline = time.monotonic() + 30
            while min(reads_counted_by(directory, pid) for pid in workers) == 0:
                assert time.monotonic() < deadline, "one worker never got a request"
                batch = [http.get(f"/api/v1/events/{event.id}") for _ in range(10)]
                assert all(a.status_code == 200 for a in await asyncio.gather(*batch))
                reads += len(batch)

        # Every scrape, whichever worker answers it, sees the sum over both.
        for _ in range(6):
            samples = scrape(url)
            assert value(samples, BOOKINGS, outcome="confirmed") == 5
            assert value(samples, BOOKINGS, outcome="sold_out") == 3
            assert value(samples, REQUESTS, method="GET", route=EVENT_ROUTE, status="200") == reads

        os.kill(workers[0], signal.SIGKILL)
        # uvicorn's supervisor notices a dead worker at once, except one killed while it waits
        # for that worker's answer to a health check: it keeps the child's end of their pipe
        # open, so it waits out the check's whole timeout first. A CI run hit that; by hand, a
        # worker stopped, pinged, then killed was replaced after 29 s, a plain kill after 1.6 s.
        wait_for(
            "the killed worker replaced",
            lambda: workers[0] not in workers_of(server.pid) and len(workers_of(server.pid)) == 2,
            seconds=WORKER_HEALTHCHECK_SECONDS + 15,
        )
        samples = scrape(url)
        assert value(samples, BOOKINGS, outcome="confirmed") == 5
        assert value(samples, REQUESTS, method="GET", route=EVENT_ROUTE, status="200") == reads
    assert not is_directory(directory), "serve removes its metrics directory when it ends"


async def test_notification_counts_are_the_outbox_pending_and_failed(
    app: FastAPI, db: AsyncSession, tmp_path: Path
) -> None:
    user = await make_user(db)
    db.add_all(
        Notification(kind=NotificationKind.BOOKING_CONFIRMED, user_id=user.id, status=status)
        for status in (*NotificationStatus, NotificationStatus.FAILED)
    )
    await db.commit()

    family = await notification_counts(app.state.reading_sessionmaker)

    assert family is not None
    counts = {sample.labels["status"]: sample.value for sample in family.samples}
    assert counts == {"pending": 1, "failed": 2}, "sent and cancelled pile up: not counted"
    # A database without the outbox (or not answering): no metric, the rest of the scrape stays.
    elsewhere = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        assert await notification_counts(async_sessionmaker(elsewhere)) is None
    finally:
        await elsewhere.dispose()


async def test_metrics_token_is_asked_for_when_set(database_url: str) -> None:
    token = secrets.token_urlsafe(24)
    app = create_app(make_settings(database_url, metrics_token=token))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            missing = await http.get("/metrics")
            wrong = await http.get("/metrics", headers={"Authorization": f"Bearer {token}x"})
            basic = await http.get("/metrics", headers={"Authorization": f"Basic {token}"})
            right = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    finally:
        await app.state.engine.dispose()

    for refused, code in ((missing, "not_authenticated"), (wrong, "invalid_token")):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"] == "Bearer"
        assert refused.json()["code"] == code
    assert basic.status_code == 401
    assert right.status_code == 200
    assert ("boxoffice_db_pool_connections_open", frozenset()) in parse_metrics(right.text)


async def test_checkouts_that_wait_for_a_connection_are_counted(
    database_url: str, db: AsyncSession
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    app = create_app(make_settings(database_url, database_pool_size=1))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            before = parse_metrics((await http.get("/metrics")).text)
            reads = [http.get(f"/api/v1/events/{event.id}") for _ in range(12)]
            assert all(a.status_code == 200 for a in await asyncio.gather(*reads))
            after = parse_metrics((await http.get("/metrics")).text)
    finally:
        await app.state.engine.dispose()

    waits = "boxoffice_db_pool_waits_total"
    assert value(after, waits) > value(before, waits)
    assert value(after, "boxoffice_db_pool_connections_in_use") == 0
