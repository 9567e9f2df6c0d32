"""Booking queries, including the waiting-list position computed by the database."""

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import aliased, joinedload, with_expression

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.users.models import User

_ahead = aliased(Booking)

# 1 + the waitlisted bookings of the same event that came before this one.
_waitlist_position = case(
    (
        Booking.status == BookingStatus.WAITLISTED,
        select(func.count())
        .where(
            _ahead.event_id == Booking.event_id,
            _ahead.status == BookingStatus.WAITLISTED,
            _ahead.id <= Booking.id,
        )
        .correlate(Booking)
        .scalar_subquery(),
    ),
    else_=None,
)


def bookings() -> Select[Booking]:
    """Bookings as the API shows them: with their event and waiting-list position."""
    return (
        select(Booking)
        .options(
            joinedload(Booking.event),
            with_expression(Booking.waitlist_position, _waitlist_position),
        )
        .execution_options(populate_existing=True)
    )


def by_id(booking_id: int) -> Select[Booking]:
    return bookings().where(Booking.id == booking_id)


def of_user(user_id: int) -> Select[Booking]:
    """Someone's bookings, newest first."""
    return bookings().where(Booking.user_id == user_id).order_by(Booking.id.desc())


def active_of(user_id: int, event_id: int) -> Select[Booking]:
    return select(Booking).where(
        Booking.user_id == user_id, Booking.event_id == event_id, Booking.active.is_(True)
    )


def waiting_line(event_id: int, limit: int) -> Select[int, int]:
    return (
        select(Booking.id, Booking.seats)
        .where(Booking.event_id == event_id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.id)
        .limit(limit)
    )


def guests(event_id: int, statuses: tuple[BookingStatus, ...]) -> Select[Booking, User]:
    return (
        select(Booking, User)
        .join(User, User.id == Booking.user_id)
        .where(Booking.event_id == event_id, Booking.status.in_(statuses))
        .order_by(Booking.id)
    )
