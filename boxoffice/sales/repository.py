"""The sales report's queries: aggregates that the database groups, a row per group and never
one per booking, built once with the event's id as a bound parameter ({"event_id"})."""

from datetime import datetime

from sqlalchemy import (
    BindParameter,
    Integer,
    bindparam,
    case,
    exists,
    extract,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from boxoffice.bookings.models import Booking, BookingStatus, Ticket
from boxoffice.catalogue.models import TicketType
from boxoffice.payments.models import Payment, PaymentStatus, Refund

_EVENT_ID: BindParameter[int] = bindparam("event_id")


def _quarter_hour(
    column: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
) -> list[ColumnElement[int]]:
    """The UTC quarter-hour a time falls in, as year, month, day, hour and minute (0, 15, 30 or
    45).

    Days are the event's, in its time zone, and no engine converts zones alike (SQLite cannot at
    all), so the database groups by this and Python turns each group into a local day. Every
    offset in use today is a whole number of quarter hours (Asia/Kathmandu +05:45, India +05:30),
    so no quarter hour spans two local days; whole hours would not do. EXTRACT and CASE are the
    same on every engine; the constants are written out (not bound) because PostgreSQL matches
    a GROUP BY to the SELECT by its text, and two bound copies of 15 would not be the same."""

    def at(minutes: int) -> ColumnElement[int]:
        return literal_column(str(minutes), Integer)

    minute = extract("minute", column)
    return [
        extract("year", column),
        extract("month", column),
        extract("day", column),
        extract("hour", column),
        case(
            (minute < at(15), at(0)),
            (minute < at(30), at(15)),
            (minute < at(45), at(30)),
            else_=at(45),
        ),
    ]


# Seats and money of the event's bookings by status: [(status, seats, total_price_minor)].
BY_STATUS = (
    select(Booking.status, func.sum(Booking.seats), func.sum(Booking.total_price_minor))
    .where(Booking.event_id == _EVENT_ID)
    .group_by(Booking.status)
)

_BOOKED_AT = _quarter_hour(Booking.created_at)
# Seats of confirmed bookings by the quarter hour they were made in: [(*quarter hour, seats)].
SEATS_BY_QUARTER_HOUR = (
    select(*_BOOKED_AT, func.sum(Booking.seats))
    .where(Booking.event_id == _EVENT_ID, Booking.status == BookingStatus.CONFIRMED)
    .group_by(*_BOOKED_AT)
)

_PAID_AT = _quarter_hour(Payment.confirmed_at)
# The money of confirmed payments by the quarter hour it came in: [(*quarter hour, amount)].
# A confirmed payment always has its `confirmed_at` (payments.service sets both at once).
REVENUE_BY_QUARTER_HOUR = (
    select(*_PAID_AT, func.sum(Payment.amount_minor))
    .join(Booking, Booking.id == Payment.booking_id)
    .where(Booking.event_id == _EVENT_ID, Payment.status == PaymentStatus.CONFIRMED)
    .group_by(*_PAID_AT)
)

# A booking's price is what its confirmed payment brought in (a payment is for the whole
# booking), so a ticket's own price is revenue when the booking was paid for; a booking
# confirmed without payment (free, or a price changed to 0 before it was made) brings nothing.
_PAID_FOR = exists().where(
    Payment.booking_id == Booking.id, Payment.status == PaymentStatus.CONFIRMED
)
_SOLD_BY_TYPE = (
    select(
        Ticket.ticket_type_id,
        func.count(Ticket.id).label("seats"),
        func.sum(case((_PAID_FOR, Ticket.unit_price_minor), else_=0)).label("revenue"),
    )
    .join(Booking, Booking.id == Ticket.booking_id)
    .where(Booking.event_id == _EVENT_ID, Booking.status == BookingStatus.CONFIRMED)
    .group_by(Ticket.ticket_type_id)
    .subquery()
)
# Every ticket type of the event in display order, with the seats and money it sold:
# [(id, name, seats, revenue)], 0 for a type nobody bought.
BY_TICKET_TYPE = (
    select(
        TicketType.id,
        TicketType.name,
        func.coalesce(_SOLD_BY_TYPE.c.seats, 0),
        func.coalesce(_SOLD_BY_TYPE.c.revenue, 0),
    )
    .outerjoin(_SOLD_BY_TYPE, _SOLD_BY_TYPE.c.ticket_type_id == TicketType.id)
    .where(TicketType.event_id == _EVENT_ID)
    .order_by(TicketType.position, TicketType.id)
)

# The refunds of the event's payments by status: [(status, amount)].
REFUNDS_BY_STATUS = (
    select(Refund.status, func.sum(Refund.amount_minor))
    .join(Payment, Payment.id == Refund.payment_id)
    .join(Booking, Booking.id == Payment.booking_id)
    .where(Booking.event_id == _EVENT_ID)
    .group_by(Refund.status)
)
