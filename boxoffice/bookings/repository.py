"""Booking queries, including the waiting-list position computed by the database."""

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload, selectinload, with_expression

from boxoffice.bookings.models import WAITLIST_POSITION, Booking, BookingStatus, Ticket
from boxoffice.events.models import Event
from boxoffice.users.models import Role, User


def bookings() -> Select[Booking]:
    """Bookings as the API shows them: with their event and waiting-list position."""
    return (
        select(Booking)
        .options(
            joinedload(Booking.event),
            selectinload(Booking.tickets).joinedload(Ticket.ticket_type),
            with_expression(Booking.waitlist_position, WAITLIST_POSITION),
        )
        .execution_options(populate_existing=True)
    )


def by_id(booking_id: int) -> Select[Booking]:
    return bookings().where(Booking.id == booking_id)


def readable(viewer: User) -> Select[Booking]:
    """The bookings this viewer may see: their own, those of the events they organize, and every
    one for an admin."""
    if viewer.role is Role.ADMIN:
        return bookings()
    return bookings().where(
        or_(Booking.user_id == viewer.id, Booking.event.has(Event.organizer_id == viewer.id))
    )


def of_user(user_id: int) -> Select[Booking]:
    """Someone's bookings, newest first."""
    return bookings().where(Booking.user_id == user_id).order_by(Booking.id.desc())


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
        .options(selectinload(Booking.tickets).joinedload(Ticket.ticket_type))
        .join(User, User.id == Booking.user_id)
        .where(Booking.event_id == event_id, Booking.status.in_(statuses))
        .order_by(Booking.id)
    )
