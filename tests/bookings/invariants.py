"""The seat invariants, read straight from the database."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.events.models import Event


async def assert_seats_exact(db: AsyncSession, event_id: int) -> Event:
    """seats_booked == sum(confirmed seats) <= capacity, the waiting-list count is exact, and
    nobody waits whose seats would fit (the oldest waiting booking does not fit)."""
    db.expire_all()
    event = (await db.scalars(select(Event).where(Event.id == event_id))).one()
    confirmed_seats = await db.scalar(
        select(func.coalesce(func.sum(Booking.seats), 0)).where(
            Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED
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
    assert 0 <= event.seats_booked <= event.capacity
    assert event.waitlist_count == len(waiting)
    if waiting and event.status == "published":
        assert waiting[0].seats > event.capacity - event.seats_booked, "a fitting booking waits"
    return event
