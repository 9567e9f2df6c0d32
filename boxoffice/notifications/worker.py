"""The worker that sends the outbox: claim a batch, send it outside any transaction, record.

Claims are leases: a claimed row carries `claimed_by` and `claimed_until`, committed at once,
so the row locks of the claim last only as long as the claiming statement. Another worker skips
a leased row until its lease runs out, and takes it over then: a worker that dies mid-send loses
nothing, and the only duplicates are messages sent just before such a death. On PostgreSQL and
MariaDB the claim reads with FOR UPDATE SKIP LOCKED, so concurrent workers take different rows
without waiting on each other; SQLite has one writer at a time, and there the claim is a single
UPDATE ... WHERE id IN (SELECT ... LIMIT n), atomic under its write lock.
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

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from boxoffice.auth import service as auth_service
from boxoffice.bookings import idempotency
from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.db import transaction, utcnow
from boxoffice.events.models import Event, EventStatus
from boxoffice.notifications.backends import Backend, backend_for
from boxoffice.notifications.models import Notification, NotificationKind, NotificationStatus
from boxoffice.notifications.rendering import Outgoing, message_id, render
from boxoffice.settings import Settings
from boxoffice.users.models import User

logger = logging.getLogger("boxoffice.notifications")

Clock = Callable[[], datetime]
_ERROR_LENGTH = 1000


@dataclass(frozen=True)
class Outcome:
    notification_id: int
    attempts_before: int
    error: str | None = None
    message_id: str | None = None
    # A reminder that is no longer wanted (its booking or event was cancelled meanwhile).
    dropped: bool = False

    @property
    def sent(self) -> bool:
        return not self.dropped and self.error is None


# Of the table, not the entity: given a list of rows, the ORM would make this a bulk UPDATE by
# primary key; the table's statement is one executemany. Built once, with bound parameters.
_OUTBOX = Notification.metadata.tables[Notification.__tablename__]
_RECORD_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("notification"), _OUTBOX.c.claimed_by == bindparam("token"))
    .values(
        status=NotificationStatus.SENT,
        sent_at=bindparam("sent"),
        attempts=bindparam("attempts_now"),
        message_id=bindparam("sent_as"),
        claimed_until=None,
        claimed_by=None,
    )
)


@dataclass(frozen=True)
class Pruned:
    notifications: int
    idempotency_records: int
    sessions: int


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
                    await self.housekeeping()
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
        lease = now + timedelta(seconds=self.settings.worker_lease_seconds)
        due = (
            Notification.status == NotificationStatus.PENDING,
            Notification.due_at <= now,
            or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        batch = (
            select(Notification.id)
            .where(*due)
            .order_by(Notification.due_at, Notification.id)
            .limit(self.settings.worker_batch_size)
        )
        claim = update(Notification).values(claimed_until=lease, claimed_by=token)
        async with transaction(self.sessionmaker) as session:
            if session.get_bind().dialect.name == "sqlite":
                # A plain read first, so that an idle poll does not take the write lock.
                if (await session.execute(batch.limit(1))).first() is None:
                    return []
                await session.execute(claim.where(Notification.id.in_(batch.scalar_subquery())))
                mine = select(Notification.id).where(Notification.claimed_by == token)
                return list((await session.scalars(mine)).all())
            ids = list((await session.scalars(batch.with_for_update(skip_locked=True))).all())
            if ids:
                await session.execute(claim.where(Notification.id.in_(ids)))
            return ids

    async def _load(self, ids: list[int]) -> list[Outgoing]:
        booking = aliased(Booking)
        query = (
            select(Notification, User, Event, booking)
            .join(User, User.id == Notification.user_id)
            .join(Event, Event.id == Notification.event_id)
            .outerjoin(booking, booking.id == Notification.booking_id)
            .where(Notification.id.in_(ids))
            .order_by(Notification.id)
        )
        # Read-only, and closed before sending: no transaction stays open over the network.
        async with self.sessionmaker() as session:
            rows = (await session.execute(query)).all()
        return [Outgoing(n, u, e, b) for n, u, e, b in rows]

    async def _attempt(self, item: Outgoing) -> Outcome:
        notification = item.notification
        if notification.kind is NotificationKind.REMINDER and not _still_wanted(item):
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
        one statement, the rest one by one. Only while a lease is still ours: a worker that took
        it over records its own."""
        now = self.clock()
        sent = [
            {
                "notification": outcome.notification_id,
                "token": token,
                "sent": now,
                "attempts_now": outcome.attempts_before + 1,
                "sent_as": outcome.message_id,
            }
            for outcome in outcomes
            if outcome.sent
        ]
        async with transaction(self.sessionmaker) as session:
            if sent:
                await session.execute(_RECORD_SENT, sent)
            for outcome in outcomes:
                if not outcome.sent:
                    await session.execute(
                        update(Notification)
                        .where(
                            Notification.id == outcome.notification_id,
                            Notification.claimed_by == token,
                        )
                        .values(self._unsent(outcome, now))
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
            await session.execute(
                update(Notification)
                .where(Notification.claimed_by == token)
                .values(claimed_until=None, claimed_by=None)
            )

    async def housekeeping(self) -> Pruned:
        """Deletes what nobody needs any more: sent notifications older than
        BOXOFFICE_SENT_NOTIFICATIONS_KEEP_DAYS, expired idempotency records, and sessions ended
        (revoked or expired) more than BOXOFFICE_ENDED_SESSIONS_KEEP_DAYS ago."""
        now = self.clock()
        settings = self.settings
        async with transaction(self.sessionmaker) as session:
            notifications = await _prune_sent(
                session, now - timedelta(days=settings.sent_notifications_keep_days)
            )
            records = await idempotency.prune(session, now)
            sessions = await auth_service.prune_ended_sessions(
                session, now - timedelta(days=settings.ended_sessions_keep_days)
            )
        pruned = Pruned(notifications, records, sessions)
        if notifications or records or sessions:
            logger.info("housekeeping", extra={"pruned": vars(pruned)})
        return pruned


def _still_wanted(item: Outgoing) -> bool:
    booking, event = item.booking, item.event
    return (
        booking is not None
        and booking.status is BookingStatus.CONFIRMED
        and event.status is EventStatus.PUBLISHED
        and event.deleted_at is None
    )


async def _prune_sent(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        delete(Notification).where(
            Notification.status == NotificationStatus.SENT, Notification.sent_at < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


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
