"""What the sales tests share: bookings with their tickets, payments and refunds written straight
into the database at chosen times, as the booking and payment paths would have left them."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import ENDED_STATUSES, HOLD_STATUSES, Booking, BookingStatus, Ticket
from boxoffice.bookings.tickets import new_ticket_code
from boxoffice.catalogue.models import TicketType
from boxoffice.events.models import Event
from boxoffice.payments.models import Payment, PaymentStatus, Refund, RefundReason, RefundStatus
from tests.factories import make_user

EVENTS = "/api/v1/events"


def sales_path(event_id: int, chart: str | None = None) -> str:
    return f"{EVENTS}/{event_id}/sales" + ("" if chart is None else f"/{chart}.svg")


async def sell(
    db: AsyncSession,
    event: Event,
    tickets: Sequence[tuple[TicketType, int]],
    *,
    status: BookingStatus,
    at: datetime,
) -> Booking:
    """A booking of a new attendee made `at`, one ticket per seat at its type's price."""
    holder = await make_user(db)
    ended = status in ENDED_STATUSES
    booking = Booking(
        event_id=event.id,
        user_id=holder.id,
        seats=sum(quantity for _, quantity in tickets),
        # `active` is NULL only once ended, which an INSERT would fill with its default.
        status=BookingStatus.CONFIRMED if ended else status,
        ticket_code=new_ticket_code(),
        created_at=at,
        cancelled_at=at + timedelta(hours=1) if ended else None,
        total_price_minor=sum(kind.price_minor * quantity for kind, quantity in tickets),
        currency=event.currency,
        expires_at=at + timedelta(days=3) if status in HOLD_STATUSES else None,
    )
    db.add(booking)
    await db.flush()
    if ended:
        await db.execute(
            update(Booking).where(Booking.id == booking.id).values(status=status, active=None)
        )
    db.add_all(
        Ticket(
            booking_id=booking.id,
            ticket_type_id=kind.id,
            code=new_ticket_code(),
            unit_price_minor=kind.price_minor,
        )
        for kind, quantity in tickets
        for _ in range(quantity)
    )
    await db.commit()
    return booking


async def pay(
    db: AsyncSession,
    booking: Booking,
    *,
    status: PaymentStatus = PaymentStatus.CONFIRMED,
    at: datetime | None = None,
    provider: str = "stripe",
    refund: RefundStatus | None = None,
) -> Payment:
    """A payment of the booking's whole price, confirmed `at` (if it ever was), and its refund
    in the given state."""
    payment = Payment(
        booking_id=booking.id,
        provider=provider,
        amount_minor=booking.total_price_minor,
        currency=booking.currency,
        status=status,
        reference=booking.ticket_code,
        confirmed_at=at,
    )
    db.add(payment)
    await db.flush()
    if refund is not None:
        db.add(
            Refund(
                payment_id=payment.id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                reason=RefundReason.CANCELLED,
                status=refund,
            )
        )
    await db.commit()
    return payment
