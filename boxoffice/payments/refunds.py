"""Deciding refunds (SPEC §10): money is never kept for seats that were not given. A refund is
decided in the transaction that ends the booking's claim to its seats, and recorded there; the
provider is called later, by the worker (`payments.service.send_refunds`), so that no
transaction holding seats waits on a provider. Manual money is owed back by the organizer."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking
from boxoffice.db import utcnow
from boxoffice.notifications import outbox
from boxoffice.payments.models import (
    OPEN_PAYMENT_STATUSES,
    Payment,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from boxoffice.payments.schemas import PaymentRead
from boxoffice.settings import PaymentProviderName
from boxoffice.webhooks import outbox as hooks
from boxoffice.webhooks.models import WebhookEventType as Hook


async def refund_booking(session: AsyncSession, booking: Booking, reason: RefundReason) -> None:
    """Refunds, in full, every payment of the booking that brought money in, and tells its
    holder; payments still under way are cancelled (if one succeeds after all, its money goes
    back: `payments.service`). Called under the event's row lock, after the seats went back."""
    await session.execute(
        update(Payment)
        .where(Payment.booking_id == booking.id, Payment.status.in_(OPEN_PAYMENT_STATUSES))
        .values(status=PaymentStatus.CANCELLED)
    )
    paid = await session.scalars(
        select(Payment)
        .where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.CONFIRMED)
        .order_by(Payment.id)
        .with_for_update()
    )
    for payment in paid.all():
        await refund_payment(session, booking, payment, reason)


async def refund_payment(
    session: AsyncSession, booking: Booking, payment: Payment, reason: RefundReason
) -> Refund:
    """Records the refund of one confirmed payment and tells the booking's holder."""
    payment.status = PaymentStatus.REFUNDED
    manual = payment.provider == PaymentProviderName.MANUAL
    refund = Refund(
        payment_id=payment.id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        reason=reason,
        status=RefundStatus.OWED if manual else RefundStatus.REQUESTED,
        attempts=0,
        created_at=utcnow(),
    )
    session.add(refund)
    await session.flush()
    await outbox.payment_refunded(session, booking, refund)
    await hooks.tell(
        session,
        booking.event_id,
        Hook.PAYMENT_REFUNDED,
        lambda: PaymentRead.of(payment, for_holder=False),
    )
    return refund


async def refund_event(session: AsyncSession, event_id: int) -> None:
    """Refunds every paid booking of a cancelled event, and cancels its payments still under
    way (as `refund_booking` does for one booking). Under the event's row lock."""
    await session.execute(
        update(Payment)
        .where(
            Payment.booking_id.in_(select(Booking.id).where(Booking.event_id == event_id)),
            Payment.status.in_(OPEN_PAYMENT_STATUSES),
        )
        .values(status=PaymentStatus.CANCELLED)
    )
    paid = await session.execute(
        select(Booking, Payment)
        .join(Payment, Payment.booking_id == Booking.id)
        .where(Booking.event_id == event_id, Payment.status == PaymentStatus.CONFIRMED)
        .order_by(Payment.id)
    )
    for booking, payment in paid.all():
        await refund_payment(session, booking, payment, RefundReason.EVENT_CANCELLED)
