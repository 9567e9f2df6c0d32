"""The outbox's statements for the worker: claim a batch, record how sending went, release.

Claims are leases: a claimed row carries `claimed_by` and `claimed_until`, committed at once,
so the row locks of the claim last only as long as the claiming statement. Another worker skips
a leased row until its lease runs out, and takes it over then. On PostgreSQL and MariaDB the
claim reads with FOR UPDATE SKIP LOCKED, so concurrent workers take different rows without
waiting on each other; SQLite has one writer at a time, and there the claim is a single
UPDATE ... WHERE id IN (SELECT ... LIMIT n), atomic under its write lock.

A message to an address not verified yet is not due whatever its time says (SPEC §13), unless
it is one of the two that prove the address: the claim reads the recipient's flag, so such a
message waits unclaimed and goes with the first claim after the verification commits.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from boxoffice.bookings.models import Booking, Ticket
from boxoffice.events.models import Event
from boxoffice.notifications.models import (
    TO_UNVERIFIED_ADDRESSES,
    Notification,
    NotificationStatus,
)
from boxoffice.users.models import User


@dataclass(frozen=True)
class Sent:
    notification_id: int
    attempts: int
    message_id: str | None


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


async def claim(
    session: AsyncSession, token: str, *, now: datetime, lease_until: datetime, limit: int
) -> list[int]:
    """Leases up to `limit` messages that are due, oldest first, to `token`; their ids."""
    due = (
        Notification.status == NotificationStatus.PENDING,
        Notification.due_at <= now,
        or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        # A subquery, not a join: FOR UPDATE locks what the FROM clause reads, and a claim must
        # not lock (or skip) a user's row that a booking holds.
        or_(
            Notification.kind.in_(TO_UNVERIFIED_ADDRESSES),
            exists().where(User.id == Notification.user_id, User.email_verified.is_(True)),
        ),
    )
    batch = (
        select(Notification.id)
        .where(*due)
        .order_by(Notification.due_at, Notification.id)
        .limit(limit)
    )
    lease = update(Notification).values(claimed_until=lease_until, claimed_by=token)
    if session.get_bind().dialect.name == "sqlite":
        # A plain read first, so that an idle poll does not take the write lock.
        if (await session.execute(batch.limit(1))).first() is None:
            return []
        await session.execute(lease.where(Notification.id.in_(batch.scalar_subquery())))
        mine = select(Notification.id).where(Notification.claimed_by == token)
        return list((await session.scalars(mine)).all())
    ids = list((await session.scalars(batch.with_for_update(skip_locked=True))).all())
    if ids:
        await session.execute(lease.where(Notification.id.in_(ids)))
    return ids


async def record_sent(
    session: AsyncSession, token: str, sent: Sequence[Sent], *, at: datetime
) -> None:
    """Marks messages sent, in one statement; only those whose lease is still `token`'s: a
    worker that took one over records its own."""
    if not sent:
        return
    rows = [
        {
            "notification": message.notification_id,
            "token": token,
            "sent": at,
            "attempts_now": message.attempts,
            "sent_as": message.message_id,
        }
        for message in sent
    ]
    await session.execute(_RECORD_SENT, rows)


async def record_unsent(
    session: AsyncSession, token: str, notification_id: int, changes: Mapping[str, object]
) -> None:
    """Applies what a failed or dropped attempt changes, while the lease is still `token`'s."""
    await session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.claimed_by == token)
        .values(dict(changes))
    )


async def release(session: AsyncSession, token: str) -> None:
    """Gives back whatever `token` still holds, due again at once."""
    await session.execute(
        update(Notification)
        .where(Notification.claimed_by == token)
        .values(claimed_until=None, claimed_by=None)
    )


async def prune_sent(session: AsyncSession, before: datetime) -> int:
    """Deletes the messages sent before that moment (housekeeping); how many there were."""
    result = await session.execute(
        delete(Notification).where(
            Notification.status == NotificationStatus.SENT, Notification.sent_at < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def with_recipients(
    session: AsyncSession, ids: Sequence[int]
) -> Sequence[Row[Notification, User, Event | None, Booking | None]]:
    """Claimed messages with what rendering needs: the recipient, the event (deleted or not: a
    message about a deleted event still goes out; none for an account's message) and the
    booking, if any; in id order."""
    booking = aliased(Booking)
    return (
        await session.execute(
            select(Notification, User, Event, booking)
            .join(User, User.id == Notification.user_id)
            .outerjoin(Event, Event.id == Notification.event_id)
            .outerjoin(booking, booking.id == Notification.booking_id)
            .where(Notification.id.in_(ids))
            .options(selectinload(booking.tickets).joinedload(Ticket.ticket_type))
            .order_by(Notification.id)
        )
    ).all()
