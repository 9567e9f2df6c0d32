"""Prometheus metrics: requests by route, bookings by outcome, the database pool, notifications.

With several server processes (`boxoffice serve --workers N`) each process writes its values to
files in PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, which `serve` sets up),
and a scrape of any one process sums them all. A counter's file outlives its process, so a
worker that dies and is replaced never makes a total go backwards; the live gauges of dead
processes are dropped at each scrape.
"""

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool, PoolProxiedConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.errors import InvalidToken, NotAuthenticated, problem_responses
from boxoffice.notifications import service as notifications_service
from boxoffice.settings import AppSettings

logger = logging.getLogger("boxoffice.metrics")

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "boxoffice_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "boxoffice_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BOOKINGS = Counter(
    "boxoffice_bookings",
    "POST /bookings attempts by outcome: the booking's status, or the error code that refused it.",
    ["outcome"],
)
POOL_IN_USE = Gauge(
    "boxoffice_db_pool_connections_in_use",
    "Database connections checked out of the pools right now.",
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "boxoffice_db_pool_connections_open",
    "Database connections the pools hold open right now, in use or idle.",
    multiprocess_mode="livesum",
)
POOL_WAITS = Counter(
    "boxoffice_db_pool_waits",
    "Checkouts that found no idle connection and no room to open one, so they had to wait.",
)
POOL_TIMEOUTS = Counter(
    "boxoffice_db_pool_timeouts",
    "Checkouts that waited in vain and failed.",
)

# Paths no route matched are counted under one label, so that probing cannot grow the series.
UNMATCHED_ROUTE = "<unmatched>"


def booking_outcome(outcome: str) -> None:
    """Counts one booking attempt: `confirmed`, `waitlisted`, or the code of its refusal."""
    BOOKINGS.labels(outcome=outcome).inc()


class RequestMetricsMiddleware:
    """Counts and times every HTTP request under its route template, not its raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            labels = {"method": scope["method"], "route": _template(scope), "status": str(status)}
            REQUESTS.labels(**labels).inc()
            LATENCY.labels(**labels).observe(time.perf_counter() - started)


def _template(scope: Scope) -> str:
    """The matched route's path template with the prefix of the router that included it
    (`/api/v1` + `/events/{event_id}`): the router writes the route into the scope it was given,
    but knows it only by its own path."""
    route = scope.get("route")
    template, pattern = getattr(route, "path", None), getattr(route, "path_regex", None)
    if not isinstance(template, str) or pattern is None:
        return UNMATCHED_ROUTE
    path: str = scope["path"]
    for start, character in enumerate(path):
        if character == "/" and pattern.match(path[start:]):
            return path[:start] + template
    return template


class CountingPool(AsyncAdaptedQueuePool):
    """The asyncio queue pool, counting the checkouts that wait and those that time out.

    No pool event fires when a checkout starts or gives up (`checkout` fires once it has a
    connection), so this is told where a checkout begins: in `connect`, the pool's public way to
    hand out a connection (db.create_engine passes the class as `poolclass`)."""

    def connect(self) -> PoolProxiedConnection:
        # A queue pool's overflow() counts up from -size as it opens connections, to 0 at its
        # size: it has no overflow (db.create_engine).
        if self.checkedin() == 0 and self.overflow() >= 0:
            POOL_WAITS.inc()
        try:
            return super().connect()
        except PoolTimeout:
            POOL_TIMEOUTS.inc()
            raise


def instrument_pool(engine: AsyncEngine) -> None:
    """Keeps the pool gauges current through the pool's events."""
    pool = engine.sync_engine.pool

    def refresh() -> None:
        refresh_pool_gauges(engine)

    def refresh_soon(*_: Any) -> None:
        # The pool fires these events before it updates its own counts (a connection being
        # checked in still counts as checked out), so read them once it is done.
        try:
            asyncio.get_running_loop().call_soon(refresh)
        except RuntimeError:
            refresh()

    for name in ("checkout", "checkin", "close", "close_detached", "detach"):
        event.listen(pool, name, refresh_soon)


def refresh_pool_gauges(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool
    POOL_IN_USE.set(_number(pool, "checkedout"))
    POOL_OPEN.set(_number(pool, "checkedin") + _number(pool, "checkedout"))


def _number(pool: Pool, method: str) -> int:
    # Pools other than a queue pool (SQLite in memory, NullPool) lack some of these counts.
    value = getattr(pool, method, None)
    return int(value()) if callable(value) else 0


class _Snapshot(Collector):
    """Values read once for this scrape (from the database), handed to the exposition."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self.families


async def notification_counts(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> GaugeMetricFamily | None:
    """The outbox's pending and failed messages, counted in the database; None while it does not
    answer (the rest of the scrape is still worth having)."""
    try:
        async with sessionmaker() as session:
            counts = await notifications_service.count_outstanding(session)
    except (SQLAlchemyError, OSError):
        logger.debug("notification counts unavailable", exc_info=True)
        return None
    family = GaugeMetricFamily(
        "boxoffice_notifications", "Outbox messages pending and failed.", labels=["status"]
    )
    for status, count in sorted(counts.items()):
        family.add_metric([status.value], count)
    return family


def _remove_dead_processes(directory: str) -> None:
    """Drops the live gauges of processes that are gone (a worker replaced by the server)."""
    for file in Path(directory).glob("gauge_live*_*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exposition_registry() -> CollectorRegistry:
    """Every process's metrics when several share a directory, else this process's own."""
    directory = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if not directory:
        return REGISTRY
    _remove_dead_processes(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry


async def _scraper(request: Request, settings: AppSettings) -> None:
    """With BOXOFFICE_METRICS_TOKEN set, a scrape must bring it as a bearer token."""
    if settings.metrics_token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise NotAuthenticated("/metrics needs the bearer token of BOXOFFICE_METRICS_TOKEN")
    expected = settings.metrics_token.get_secret_value()
    # In constant time, so that the answer's timing does not tell how much of a guess was right.
    if not secrets.compare_digest(given.strip().encode(), expected.encode()):
        raise InvalidToken("this is not the bearer token of BOXOFFICE_METRICS_TOKEN")


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(_scraper)],
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **problem_responses(NotAuthenticated, InvalidToken),
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of every server process, plus the outbox's pending and failed messages
    from the database. With BOXOFFICE_METRICS_TOKEN set, only for a bearer of that token."""
    registry = exposition_registry()
    notifications = await notification_counts(request.app.state.reading_sessionmaker)
    refresh_pool_gauges(request.app.state.engine)
    body = generate_latest(registry)
    if notifications is not None:
        snapshot = CollectorRegistry()
        snapshot.register(_Snapshot([notifications]))
        body += generate_latest(snapshot)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
