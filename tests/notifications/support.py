"""Arranging bookings and reading the outbox, for the notification tests."""

from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import ENDED_STATUSES, Booking, BookingStatus, Ticket
from boxoffice.bookings.tickets import new_ticket_code
from boxoffice.catalogue.models import TicketType
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.notifications import outbox as outbox_rules
from boxoffice.notifications.models import Notification, NotificationKind, NotificationStatus
from boxoffice.notifications.worker import Worker
from boxoffice.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from boxoffice.users.models import User
from tests.factories import make_user
from tests.notifications.smtp import Mailbox


async def make_booking(
    db: AsyncSession,
    event: Event,
    user: User | None = None,
    *,
    status: BookingStatus = BookingStatus.CONFIRMED,
    seats: int = 1,
    lines: list[tuple[TicketType, int]] | None = None,
    expires_at: datetime | None = None,
) -> Booking:
    """A booking row as the booking rules leave it (seat counts are not the point here); with
    `lines`, its tickets of those types at their prices, and its seats and total from them."""
    holder = user or await make_user(db)
    booking = Booking(
        event_id=event.id,
        user_id=holder.id,
        seats=sum(quantity for _, quantity in lines) if lines else seats,
        status=BookingStatus.CONFIRMED,
        active=True,
        ticket_code=new_ticket_code(),
        created_at=utcnow(),
        total_price_minor=sum(t.price_minor * quantity for t, quantity in lines or []),
        currency=event.currency,
        expires_at=expires_at,
    )
    db.add(booking)
    await db.flush()
    db.add_all(
        Ticket(
            booking_id=booking.id,
            ticket_type_id=ticket_type.id,
            code=new_ticket_code(),
            unit_price_minor=ticket_type.price_minor,
        )
        for ticket_type, quantity in lines or []
        for _ in range(quantity)
    )
    # Written in a second step: an explicit NULL would give way to the column's default.
    booking.status = status
    booking.active = None if status in ENDED_STATUSES else True
    await db.commit()
    return booking


async def make_payment(
    db: AsyncSession,
    booking: Booking,
    *,
    provider: str = "stripe",
    reference: str = "pi_3Pq0AbCdEf",
    status: PaymentStatus = PaymentStatus.CONFIRMED,
) -> Payment:
    """A payment of the booking's total, as the payment rules leave it."""
    payment = Payment(
        booking_id=booking.id,
        provider=provider,
        amount_minor=booking.total_price_minor,
        currency=booking.currency,
        status=status,
        reference=reference,
        confirmed_at=utcnow() if status is PaymentStatus.CONFIRMED else None,
    )
    db.add(payment)
    await db.commit()
    return payment


async def make_refund(db: AsyncSession, payment: Payment, reason: RefundReason) -> Refund:
    """The refund of a whole payment, as decided (owed by the organizer for a manual one)."""
    refund = Refund(
        payment_id=payment.id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        reason=reason,
        status=RefundStatus.OWED if payment.provider == "manual" else RefundStatus.REQUESTED,
    )
    payment.status = PaymentStatus.REFUNDED
    db.add(refund)
    await db.commit()
    return refund


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


def was(event: Event, **old: str) -> dict[str, str | None]:
    """The `before` of outbox.event_changed: the event's noteworthy values, these as they were."""
    return outbox_rules.noteworthy(event) | old


async def due_now(
    db: AsyncSession, kind: NotificationKind, *, ago: timedelta = timedelta()
) -> None:
    """Messages of this kind held for later (an edit's `event_changed`) come due now, as if
    written `ago` before now."""
    moment = utcnow()
    await db.execute(
        update(Notification)
        .where(Notification.kind == kind)
        .values(due_at=moment, created_at=moment - ago)
    )
    await db.commit()


async def deliver(worker: Worker, mailbox: Mailbox) -> list[EmailMessage]:
    """Runs the worker until nothing due is left; every message the mailbox received so far (a
    message no longer wanted when its turn came is dropped, not sent)."""
    arrived, before = len(mailbox.messages), await _sent(worker)
    while await worker.run_once():
        pass
    return mailbox.wait_for(arrived + await _sent(worker) - before)


async def _sent(worker: Worker) -> int:
    async with worker.sessionmaker() as session:
        sent = select(func.count()).where(Notification.status == NotificationStatus.SENT)
        return int(await session.scalar(sent) or 0)
