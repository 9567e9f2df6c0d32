"""Beside every server process (and in `boxoffice worker`): ends holds past their end and sends
the refunds decided, every BOXOFFICE_HOLD_SWEEP_SECONDS. A refused sale reclaims its event's
expired holds at once; this catches the rest, so that a held seat comes back within seconds
even where nobody asks for it. Any number of sweepers may run: each event's sweep holds its row
lock, and each refund carries its own idempotency key."""

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from boxoffice.bookings import service as bookings
from boxoffice.db import utcnow
from boxoffice.payments import service
from boxoffice.payments.service import Providers
from boxoffice.settings import Settings

logger = logging.getLogger("boxoffice.payments")


async def run(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    providers: Providers,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        # Apart, so that one failing (a database that is away, a provider that is down) does
        # not hold up the other.
        await _step("holds expired", bookings.sweep_expired_holds(sessionmaker, utcnow()))
        await _step("refunds sent", service.send_refunds(sessionmaker, providers))
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.hold_sweep_seconds)


async def _step(what: str, work: Coroutine[Any, Any, int]) -> None:
    try:
        done = await work
    except Exception:
        logger.exception("sweep failed: %s", what)
        return
    if done:
        logger.info("swept", extra={"swept": {what: done}})


@asynccontextmanager
async def in_background(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], providers: Providers
) -> AsyncIterator[None]:
    """Runs beside the server when the worker is (BOXOFFICE_WORKER_ENABLED)."""
    if not settings.worker_enabled:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, sessionmaker, providers, stop))
    try:
        yield
    finally:
        stop.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(task, settings.smtp_timeout_seconds + 5)
