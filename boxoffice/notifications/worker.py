"""The worker that sends the outbox: claim a batch, send it outside any transaction, record.

A claim is a lease (see notifications.repository): a worker that dies mid-send loses nothing,
and the only duplicates are messages sent just before such a death. The worker also runs the
housekeeping, on its own schedule.
"""

import asyncio
import itertools
import logging
import os
import random
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from boxoffice import housekeeping
from boxoffice.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from boxoffice.db import transaction, utcnow
from boxoffice.events.models import EventStatus
from boxoffice.notifications import repository
from boxoffice.notifications.backends import Backend, backend_for
from boxoffice.notifications.models import NotificationKind, NotificationStatus
from boxoffice.notifications.rendering import Outgoing, message_id, render
from boxoffice.settings import Settings
from boxoffice.users.models import is_erased_address

logger = logging.getLogger("boxoffice.notifications")

Clock = Callable[[], datetime]
_ERROR_LENGTH = 1000


@dataclass(frozen=True)
class Outcome:
    notification_id: int
    attempts_before: int
    error: str | None = None
    message_id: str | None = None
    # A message no longer wanted when its turn came (_still_wanted): never sent.
    dropped: bool = False

    @property
    def sent(self) -> bool:
        return not self.dropped and self.error is None


def worker_name() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        backend: Backend | None = None,
        *,
        clock: Clock = utcnow,
        jitter: random.Random | None = None,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.backend = backend or backend_for(settings)
        self.clock = clock
        self.jitter = jitter or random.Random()
        self.name = name or worker_name()
        self._claims = itertools.count(1)

    async def run(self, stop: asyncio.Event) -> None:
        """Sends until `stop` is set; a batch under way is finished first. Sleeps between polls
        while nothing is due; housekeeping every BOXOFFICE_HOUSEKEEPING_INTERVAL_SECONDS."""
        logger.info("notification worker started", extra={"worker": self.name})
        loop = asyncio.get_running_loop()
        next_housekeeping = loop.time()
        while not stop.is_set():
            if loop.time() >= next_housekeeping:
                # Scheduled first: housekeeping that keeps failing must not crowd out sending.
                next_housekeeping = loop.time() + self.settings.housekeeping_interval_seconds
                try:
                    await housekeeping.run(self.settings, self.sessionmaker, now=self.clock())
                except Exception:
                    logger.exception("housekeeping failed", extra={"worker": self.name})
            try:
                claimed = await self.run_once()
            except Exception:
                # A database that is away for a while must not end the worker.
                logger.exception("notification worker pass failed", extra={"worker": self.name})
                claimed = 0
            if claimed < self.settings.worker_batch_size:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.worker_poll_seconds)
        logger.info("notification worker stopped", extra={"worker": self.name})

    async def run_once(self) -> int:
        """One batch: claim what is due, send it all at once, record each outcome as it comes.
        Returns how many messages were claimed."""
        token = f"{self.name}:{next(self._claims)}"
        ids = await self._claim(token)
        if not ids:
            return 0
        sending: list[asyncio.Task[Outcome]] = []
        try:
            batch = await self._load(ids)
            sending = [asyncio.create_task(self._attempt(item)) for item in batch]
            unfinished = set(sending)
            while unfinished:
                finished, unfinished = await asyncio.wait(
                    unfinished, return_when=asyncio.FIRST_COMPLETED
                )
                await self._record(token, [task.result() for task in finished])
        finally:
            # Whatever was not recorded (cancelled by a shutdown that could not wait) stops
            # and goes back at once instead of waiting for its lease to run out.
            for task in sending:
                task.cancel()
            await asyncio.shield(self._release(token))
        return len(ids)

    async def _claim(self, token: str) -> list[int]:
        now = self.clock()
        async with transaction(self.sessionmaker) as session:
            return await repository.claim(
                session,
                token,
                now=now,
                lease_until=now + timedelta(seconds=self.settings.worker_lease_seconds),
                limit=self.settings.worker_batch_size,
            )

    async def _load(self, ids: list[int]) -> list[Outgoing]:
        # Read-only, and closed before sending: no transaction stays open over the network.
        async with self.sessionmaker() as session:
            rows = await repository.with_recipients(session, ids)
        return [Outgoing(n, u, e, b) for n, u, e, b in rows]

    async def _attempt(self, item: Outgoing) -> Outcome:
        notification = item.notification
        if not _still_wanted(item, self.clock()):
            return Outcome(notification.id, notification.attempts, dropped=True)
        try:
            message = render(item, self.settings, now=self.clock())
            await self.backend.send(message)
        except Exception as error:  # any failure is retried later: log it, count it
            logger.warning(
                "sending a notification failed",
                extra={"notification_id": notification.id, "error": str(error)},
            )
            return Outcome(notification.id, notification.attempts, error=str(error) or repr(error))
        return Outcome(
            notification.id,
            notification.attempts,
            message_id=message_id(notification.id, self.settings),
        )

    async def _record(self, token: str, outcomes: list[Outcome]) -> None:
        """Records the outcomes that finished together, in one transaction: the messages sent in
        one statement, the rest one by one."""
        now = self.clock()
        sent = [
            repository.Sent(o.notification_id, o.attempts_before + 1, o.message_id)
            for o in outcomes
            if o.sent
        ]
        async with transaction(self.sessionmaker) as session:
            await repository.record_sent(session, token, sent, at=now)
            for outcome in outcomes:
                if not outcome.sent:
                    await repository.record_unsent(
                        session, token, outcome.notification_id, self._unsent(outcome, now)
                    )

    def _unsent(self, outcome: Outcome, now: datetime) -> dict[str, object]:
        values: dict[str, object] = {"claimed_until": None, "claimed_by": None}
        if outcome.dropped:
            return values | {"status": NotificationStatus.CANCELLED}
        attempts = outcome.attempts_before + 1
        values |= {"attempts": attempts, "last_error": (outcome.error or "")[:_ERROR_LENGTH]}
        if attempts >= self.settings.email_max_attempts:
            return values | {"status": NotificationStatus.FAILED}
        return values | {"due_at": now + self.backoff(attempts)}

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failure: BOXOFFICE_EMAIL_RETRY_SECONDS, doubling each
        time, spread by +-20 % so that messages failed together do not retry together."""
        delay = self.settings.email_retry_seconds * 2 ** (attempts - 1)
        return timedelta(seconds=delay * self.jitter.uniform(0.8, 1.2))

    async def _release(self, token: str) -> None:
        async with transaction(self.sessionmaker) as session:
            await repository.release(session, token)


def _still_wanted(item: Outgoing, now: datetime) -> bool:
    """Whether a message is worth sending now. Most tell of something that happened, and go out
    whatever happened since (a receipt stays a receipt when the booking is cancelled later).
    Those that ask for something, or describe a state, go only while it still holds; each way
    out of that state writes its own message, which tells the news instead."""
    booking, event = item.booking, item.event
    # Cancelled after it was claimed (its recipient erased the account meanwhile), or addressed
    # to an erased account whatever its status said: never sent.
    if item.notification.status is not NotificationStatus.PENDING or is_erased_address(
        item.user.email
    ):
        return False
    match item.notification.kind:
        # Reminders and changes only to those who still want them (SPEC §13): asked at send
        # time, so that turning them off also stops what was already queued. Late (it waited
        # for its address to be verified, or for a worker), once the event has begun a reminder
        # would remind of what is already under way.
        case NotificationKind.REMINDER:
            return (
                item.user.notify_reminders
                and _is(booking, BookingStatus.CONFIRMED)
                and event is not None
                and event.status is EventStatus.PUBLISHED
                and event.deleted_at is None
                and event.starts_at > now
            )
        # "Pay by ..." or "accept by ..." once the hold or offer has ended (paid, accepted,
        # expired, cancelled; or past its end and not swept yet) would ask for what can no
        # longer be given.
        case NotificationKind.BOOKING_PENDING:
            return _holds(booking, BookingStatus.PENDING, now)
        case NotificationKind.WAITLIST_OFFER:
            return _holds(booking, BookingStatus.OFFERED, now)
        # A late payment may have taken the seats again meanwhile: its receipt tells that, and
        # "your seats were released" would be wrong.
        case NotificationKind.BOOKING_EXPIRED:
            return _is(booking, BookingStatus.EXPIRED)
        # An address verified meanwhile (by an earlier link, or a password reset) needs no link.
        case NotificationKind.VERIFY_EMAIL:
            return not item.user.email_verified
        # Held for later edits to fold into (outbox.event_changed): by its turn the event may
        # be back as it was, cancelled (its own message says so), or the booking over.
        case NotificationKind.EVENT_CHANGED:
            return (
                item.user.notify_changes
                and bool((item.notification.payload or {}).get("changed"))
                and booking is not None
                and booking.status in ACTIVE_STATUSES
                and event is not None
                and event.status is not EventStatus.CANCELLED
            )
        case _:
            return True


def _is(booking: Booking | None, status: BookingStatus) -> bool:
    return booking is not None and booking.status is status


def _holds(booking: Booking | None, status: BookingStatus, now: datetime) -> bool:
    if booking is None or booking.status is not status:
        return False
    return booking.expires_at is not None and booking.expires_at > now


@asynccontextmanager
async def in_background(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    """Runs a worker beside the server (BOXOFFICE_WORKER_ENABLED). Every server process gets
    one, so `serve --workers N` has N workers: claims keep them apart."""
    if not settings.worker_enabled:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(settings, sessionmaker).run(stop))
    try:
        yield
    finally:
        stop.set()
        # A batch under way may take up to the SMTP timeout to finish; past that, cancelling
        # releases its claims.
        try:
            await asyncio.wait_for(task, settings.smtp_timeout_seconds + 5)
        except TimeoutError:
            logger.warning("notification worker cancelled at shutdown")
