"""Booking queries, including the waiting-list position computed by the database, and the
INSERT of a new booking with its tickets."""

from sqlalchemy import (
    ARRAY,
    Insert,
    Integer,
    Select,
    String,
    bindparam,
    func,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
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


def waiting_line(event_id: int, limit: int) -> Select[int, int, int]:
    return (
        select(Booking.id, Booking.seats, Booking.total_price_minor)
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


_BOOKINGS = Booking.metadata.tables[Booking.__tablename__]
_TICKETS = Ticket.metadata.tables[Ticket.__tablename__]
# Core INSERTs of the tables, built once: the ORM's unit of work around a single new row was a
# visible share of a booking's Python (the commit that made this change says how much).
_INSERT_BOOKING = insert(_BOOKINGS).returning(_BOOKINGS.c.id)
_INSERT_TICKETS = insert(_TICKETS)
# Of each ticket, what a new booking's INSERT is given (its id comes from the booking's).
TICKET_VALUES = ("ticket_type_id", "code", "unit_price_minor")


def _booking_with_tickets() -> Insert:
    """PostgreSQL: the booking and its tickets in one statement (the booking in a CTE whose id
    the tickets take, the tickets from arrays of their values), a round trip less per sale."""
    booking = (
        insert(_BOOKINGS)
        .values(
            {column.name: bindparam(column.name) for column in _BOOKINGS.c if column.name != "id"}
        )
        .returning(_BOOKINGS.c.id)
        .cte("new_booking")
    )
    seats = (
        func.unnest(
            bindparam("ticket_type_id", type_=ARRAY(Integer)),
            bindparam("code", type_=ARRAY(String)),
            bindparam("unit_price_minor", type_=ARRAY(Integer)),
        )
        .table_valued(*TICKET_VALUES)
        .render_derived(name="seat")
    )
    return (
        insert(_TICKETS)
        .from_select(
            ["booking_id", *TICKET_VALUES],
            # One row per seat, each with the booking's id.
            select(booking.c.id, *(seats.c[name] for name in TICKET_VALUES)).select_from(
                booking.join(seats, true())
            ),
        )
        .returning(_TICKETS.c.booking_id)
        .add_cte(booking)
    )


_INSERT_BOOKING_WITH_TICKETS = _booking_with_tickets()


async def insert_booking(
    session: AsyncSession, booking: dict[str, object], tickets: list[dict[str, object]]
) -> int:
    """Writes a new booking (its columns but the id) and its tickets (`TICKET_VALUES` each);
    its id. IntegrityError if the attendee already holds an active booking of the event."""
    if session.get_bind().dialect.name == "postgresql":
        arrays = {name: [ticket[name] for ticket in tickets] for name in TICKET_VALUES}
        written = await session.execute(_INSERT_BOOKING_WITH_TICKETS, booking | arrays)
        return int(written.scalars().first() or 0)
    booking_id = int((await session.execute(_INSERT_BOOKING, booking)).scalar_one())
    await session.execute(
        _INSERT_TICKETS,
        [{"booking_id": booking_id, "checked_in_at": None, **ticket} for ticket in tickets],
    )
    return booking_id
