"""Arranging bookings and reading the outbox, for the notification tests."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.bookings.tickets import new_ticket_code
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.notifications.models import Notification, NotificationKind, NotificationStatus
from boxoffice.users.models import User
from tests.factories import make_user


async def make_booking(
    db: AsyncSession,
    event: Event,
    user: User | None = None,
    *,
    status: BookingStatus = BookingStatus.CONFIRMED,
    seats: int = 1,
) -> Booking:
    """A booking row as the booking rules leave it (seat counts are not the point here)."""
    holder = user or await make_user(db)
    booking = Booking(
        event_id=event.id,
        user_id=holder.id,
        seats=seats,
        status=BookingStatus.CONFIRMED,
        active=True,
        ticket_code=new_ticket_code(),
        created_at=utcnow(),
    )
    db.add(booking)
    await db.flush()
    # Written in a second step: an explicit NULL would give way to the column's default.
    booking.status = status
    booking.active = None if status is BookingStatus.CANCELLED else True
    await db.commit()
    return booking


async def outbox(
    db: AsyncSession,
    kind: NotificationKind | None = None,
    status: NotificationStatus | None = None,
) -> list[Notification]:
    query = select(Notification).order_by(Notification.id).execution_options(populate_existing=True)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    if status is not None:
        query = query.where(Notification.status == status)
    rows = list((await db.scalars(query)).all())
    await db.commit()
    return rows


def close_to(moment: datetime | None, expected: datetime) -> bool:
    """Equal up to the microseconds a database may round away."""
    return moment is not None and abs((moment - expected).total_seconds()) < 0.01


def booking_ids(rows: list[Notification]) -> list[int]:
    """The bookings these messages are about, sorted (repeats kept, so duplicates show)."""
    return sorted(row.booking_id or 0 for row in rows)


class Clock:
    """A clock the test moves by hand, for the worker's backoff and leases."""

    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
