from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    case,
    func,
    select,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column, query_expression, relationship

from boxoffice.catalogue.models import TicketType
from boxoffice.catalogue.money import to_decimal_string
from boxoffice.db import Base, JSONText, StrEnumText, UTCDateTime, utcnow
from boxoffice.events.models import Event
from boxoffice.users.models import User

# Ten lines of at most 100 tickets each (SPEC §9).
MAX_SEATS = 1000


class BookingStatus(StrEnum):
    PENDING = "pending"
    OFFERED = "offered"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# Bookings that are still something: each attendee holds at most one per event.
ACTIVE_STATUSES = (
    BookingStatus.PENDING,
    BookingStatus.OFFERED,
    BookingStatus.CONFIRMED,
    BookingStatus.WAITLISTED,
)
# The bookings whose seats count against the event and its quotas.
HOLDING_STATUSES = (BookingStatus.PENDING, BookingStatus.OFFERED, BookingStatus.CONFIRMED)
# Seats held until `expires_at` (in the event's `seats_held`, not `seats_booked`).
HOLD_STATUSES = (BookingStatus.PENDING, BookingStatus.OFFERED)
ENDED_STATUSES = (BookingStatus.CANCELLED, BookingStatus.EXPIRED)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'offered', 'confirmed', 'waitlisted', 'cancelled', 'expired')",
            name="status_known",
        ),
        CheckConstraint(f"seats BETWEEN 1 AND {MAX_SEATS}", name="seats_range"),
        # `active` is TRUE while the booking is active and NULL once cancelled or expired.
        # NULLs never collide in a unique index, so this is "one active booking per attendee and
        # event" on every engine, MariaDB included, which has no partial indexes.
        CheckConstraint(
            "(status IN ('cancelled', 'expired') AND active IS NULL)"
            " OR (status NOT IN ('cancelled', 'expired') AND active IS NOT NULL)",
            name="active_matches_status",
        ),
        # A hold (pending, offered) always has its end.
        CheckConstraint(
            "status NOT IN ('pending', 'offered') OR expires_at IS NOT NULL",
            name="hold_has_expiry",
        ),
        UniqueConstraint("event_id", "user_id", "active", name="uq_bookings_one_active"),
        Index("ix_bookings_event_status", "event_id", "status", "id"),
        Index("ix_bookings_user", "user_id", "id"),
        # The sweep of holds past their end, across events.
        Index("ix_bookings_expiry", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, ForeignKey("events.id"))
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"))
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[BookingStatus] = mapped_column(StrEnumText(BookingStatus))
    active: Mapped[bool | None] = mapped_column(Boolean, default=True)
    ticket_code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The sum of its tickets' prices, in the minor unit of `currency` (the event's when booked).
    total_price_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # (Both with a database default for the processes of the version before: events.models.)
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    # Until when a pending booking or an offer holds its seats (SPEC §10); NULL otherwise.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Any change of the row, for a door scanner that downloads only what changed (SPEC §11).
    # NULL where a process of the version before wrote the booking, until its next change.
    updated_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    # Filled by the query that loads the booking (bookings.repository), not stored.
    waitlist_position: Mapped[int | None] = query_expression()

    event: Mapped[Event] = relationship(lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")
    tickets: Mapped[list["Ticket"]] = relationship(lazy="raise", order_by="Ticket.id")

    @property
    def total_price(self) -> str:
        return to_decimal_string(self.total_price_minor, self.currency)

    @property
    def lines(self) -> list["BookingLine"]:
        """The tickets counted by type, in the order they were issued."""
        lines: dict[int, BookingLine] = {}
        for ticket in self.tickets:
            line = lines.get(ticket.ticket_type_id)
            if line is None:
                line = lines[ticket.ticket_type_id] = BookingLine(
                    ticket_type_id=ticket.ticket_type_id,
                    name=ticket.ticket_type.name,
                    quantity=0,
                    unit_price=to_decimal_string(ticket.unit_price_minor, self.currency),
                )
            line.quantity += 1
        return list(lines.values())


@dataclass(slots=True)
class BookingLine:
    ticket_type_id: int
    name: str
    quantity: int
    unit_price: str


class Ticket(Base):
    """One seat of a booking: its type, the price it was sold at, and a code of its own that
    admits that one seat (the booking's `ticket_code` admits the whole party). A booking's lines
    are its tickets counted by type."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_booking", "booking_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(Integer, ForeignKey("bookings.id"))
    ticket_type_id: Mapped[int] = mapped_column(Integer, ForeignKey("ticket_types.id"))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    unit_price_minor: Mapped[int] = mapped_column(Integer)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    ticket_type: Mapped[TicketType] = relationship(lazy="raise")


_ahead = aliased(Booking)

# What `waitlist_position` is loaded with: 1 + the waitlisted bookings of the same event that came
# before this one; NULL unless the booking is waitlisted.
WAITLIST_POSITION = case(
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


class IdempotencyRecord(Base):
    """A remembered POST /bookings, so that a retried request books nothing more."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_records_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # NULL while the first request is still running.
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONText(), default=None)
