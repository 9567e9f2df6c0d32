"""The seat invariants, read straight from the database."""

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import (
    HOLD_STATUSES,
    HOLDING_STATUSES,
    Booking,
    BookingStatus,
    Ticket,
)
from boxoffice.catalogue.models import Quota, quota_ticket_types
from boxoffice.events.models import Event
from boxoffice.payments.models import Payment, PaymentStatus, Refund


async def assert_seats_exact(db: AsyncSession, event_id: int) -> Event:
    """seats_booked == sum(confirmed seats), seats_held == sum(pending and offered seats), both
    within the capacity, the waiting-list count is exact, and nobody waits whose seats would fit
    (the oldest waiting booking does not fit the event or one of the quotas its tickets count
    against)."""
    db.expire_all()
    event = (await db.scalars(select(Event).where(Event.id == event_id))).one()
    confirmed_seats = await db.scalar(
        select(func.coalesce(func.sum(Booking.seats), 0)).where(
            Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED
        )
    )
    held_seats = await db.scalar(
        select(func.coalesce(func.sum(Booking.seats), 0)).where(
            Booking.event_id == event_id, Booking.status.in_(HOLD_STATUSES)
        )
    )
    waiting = (
        await db.scalars(
            select(Booking)
            .where(Booking.event_id == event_id, Booking.status == BookingStatus.WAITLISTED)
            .order_by(Booking.id)
        )
    ).all()
    assert event.seats_booked == confirmed_seats
    assert event.seats_held == held_seats
    assert 0 <= event.seats_booked + event.seats_held <= event.capacity
    assert event.waitlist_count == len(waiting)
    if waiting and event.status == "published":
        assert not await _fits(db, event, waiting[0]), "a fitting booking waits"
    return event


async def _fits(db: AsyncSession, event: Event, booking: Booking) -> bool:
    if booking.seats > event.seats_available:
        return False
    wanted = await db.execute(
        select(Quota.id, Quota.size - Quota.seats_taken, func.count(Ticket.id))
        .join(quota_ticket_types, quota_ticket_types.c.quota_id == Quota.id)
        .join(Ticket, Ticket.ticket_type_id == quota_ticket_types.c.ticket_type_id)
        .where(Ticket.booking_id == booking.id)
        .group_by(Quota.id, Quota.size, Quota.seats_taken)
    )
    return all(seats <= left for _, left, seats in wanted.all())


async def assert_quotas_exact(db: AsyncSession, event_id: int) -> dict[int, Quota]:
    """Everything `assert_seats_exact` checks, and: each quota's seats_taken is the number of
    tickets of confirmed, pending and offered bookings whose type counts against it, within its
    size; every booking's seats are its number of tickets; no ticket code (a seat's or a
    party's) repeats. The event's quotas by id."""
    await assert_seats_exact(db, event_id)
    quotas = {
        quota.id: quota
        for quota in (await db.scalars(select(Quota).where(Quota.event_id == event_id))).all()
    }
    found = await db.execute(
        select(quota_ticket_types.c.quota_id, func.count(Ticket.id))
        .join(Ticket, Ticket.ticket_type_id == quota_ticket_types.c.ticket_type_id)
        .join(Booking, Booking.id == Ticket.booking_id)
        .where(quota_ticket_types.c.quota_id.in_(quotas), Booking.status.in_(HOLDING_STATUSES))
        .group_by(quota_ticket_types.c.quota_id)
    )
    held: dict[int, int] = {quota_id: seats for quota_id, seats in found.all()}  # noqa: C416
    for quota_id, quota in quotas.items():
        assert quota.seats_taken == held.get(quota_id, 0), (quota.name, quota.seats_taken, held)
        assert 0 <= quota.seats_taken <= quota.size, (quota.name, quota.seats_taken, quota.size)

    bookings = (
        await db.execute(
            select(Booking.id, Booking.seats, Booking.ticket_code).where(
                Booking.event_id == event_id
            )
        )
    ).all()
    tickets = (
        await db.execute(
            select(Ticket.booking_id, Ticket.code)
            .join(Booking, Booking.id == Ticket.booking_id)
            .where(Booking.event_id == event_id)
        )
    ).all()
    per_booking = Counter(booking_id for booking_id, _ in tickets)
    for booking_id, seats, _ in bookings:
        assert per_booking[booking_id] == seats, (booking_id, seats, per_booking[booking_id])
    codes = [code for _, code in tickets] + [code for _, _, code in bookings]
    assert len(set(codes)) == len(codes), [c for c, n in Counter(codes).items() if n > 1]
    return quotas


async def assert_money_exact(db: AsyncSession, event_id: int) -> None:
    """Money is kept exactly for the seats given (SPEC §10): a priced confirmed booking has one
    confirmed payment of its price, and no other booking has any (an expired or cancelled one
    keeps none without its refund); a payment is refunded exactly when a refund of all of it
    is recorded; a free booking has no payment at all."""
    rows = await db.execute(
        select(
            Booking.id,
            Booking.status,
            Booking.total_price_minor,
            Payment.status,
            Payment.amount_minor,
            Refund.amount_minor,
        )
        .join(Payment, Payment.booking_id == Booking.id)
        .outerjoin(Refund, Refund.payment_id == Payment.id)
        .where(Booking.event_id == event_id)
    )
    kept: Counter[int] = Counter()
    for booking_id, status, price, paid, amount, refunded in rows.all():
        assert amount == price > 0, (booking_id, price, amount)
        assert (paid == PaymentStatus.REFUNDED) == (refunded is not None), (booking_id, paid)
        assert refunded in (None, amount), (booking_id, amount, refunded)
        if paid == PaymentStatus.CONFIRMED:
            assert status == BookingStatus.CONFIRMED, (booking_id, status)
            kept[booking_id] += 1
    confirmed = await db.scalars(
        select(Booking.id).where(
            Booking.event_id == event_id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.total_price_minor > 0,
        )
    )
    assert kept == Counter(confirmed.all()), kept
