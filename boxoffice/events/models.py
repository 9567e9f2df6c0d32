import secrets
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Update,
    false,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db import Base, StrEnumText, UTCDateTime, utcnow
from boxoffice.users.models import User

if TYPE_CHECKING:
    from boxoffice.catalogue.models import TicketType


def new_catalogue_version() -> int:
    return secrets.randbits(62)


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class WaitlistMode(StrEnum):
    # Freed seats confirm the oldest waiting booking that fits at once (free events).
    PROMOTE = "promote"
    # Freed seats are held for the oldest waiting booking as an offer it accepts or lets go.
    OFFER = "offer"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status_known"),
        CheckConstraint("capacity BETWEEN 1 AND 100000", name="capacity_range"),
        # The backstop behind the conditional UPDATE that books seats: never oversold.
        CheckConstraint(
            "seats_booked >= 0 AND seats_booked <= capacity", name="seats_within_capacity"
        ),
        # Held seats (pending bookings and open offers, SPEC §10) count against the capacity too.
        CheckConstraint(
            "seats_held >= 0 AND seats_booked + seats_held <= capacity",
            name="held_within_capacity",
        ),
        CheckConstraint("waitlist_count >= 0", name="waitlist_count_not_negative"),
        CheckConstraint("hold_minutes BETWEEN 1 AND 120", name="hold_minutes_range"),
        CheckConstraint("manual_payment_days BETWEEN 1 AND 60", name="manual_payment_days_range"),
        CheckConstraint("offer_hours BETWEEN 1 AND 336", name="offer_hours_range"),
        CheckConstraint("waitlist_mode IN ('promote', 'offer')", name="waitlist_mode_known"),
        # The public listing: published, not deleted, ordered by start time.
        Index("ix_events_listing", "status", "deleted_at", "starts_at", "id"),
        Index("ix_events_organizer", "organizer_id", "starts_at", "id"),
        Index("ix_events_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organizer_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    capacity: Mapped[int] = mapped_column(Integer)
    # Seat and waiting-list counts live on the event row, so that booking is one atomic
    # conditional UPDATE of this row.
    seats_booked: Mapped[int] = mapped_column(Integer, default=0)
    # The database's defaults of the columns added with ticket types are for the processes of
    # the version before, which go on writing events and bookings during a rolling upgrade.
    seats_held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waitlist_count: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    # A new random number at every change of the event's ticket types and quotas, made under its
    # row lock. A booking's seat UPDATE is conditional on the version it priced the booking
    # with, so a catalogue read from a cache is as good as one from the database
    # (catalogue.terms). Random rather than counted, so that a cache cannot mistake another
    # event that got the same id (a database restored or emptied under a running server) for
    # the one it read.
    catalogue_version: Mapped[int] = mapped_column(
        BigInteger, default=new_catalogue_version, server_default="0"
    )
    status: Mapped[EventStatus] = mapped_column(StrEnumText(EventStatus), default=EventStatus.DRAFT)
    # Holds and payments (SPEC §10); database defaults for the processes of the version before.
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    manual_payment_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    offer_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    # As chosen; an event with a paid ticket type always offers (`waitlist_offers`).
    waitlist_mode: Mapped[WaitlistMode] = mapped_column(
        StrEnumText(WaitlistMode), default=WaitlistMode.PROMOTE, server_default="promote"
    )
    # Until when holders may cancel (and be refused their refund after); NULL: the start.
    cancellation_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the service on edits, not by seat changes: it is the "last modified" of the details.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Whether any enabled webhook covers this event (kept by the webhooks service): a change
    # that finds it false writes no webhook message and asks the database nothing.
    has_webhooks: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    organizer: Mapped[User] = relationship(lazy="raise")
    # Given when the event is made (at least one); read through the catalogue, not from here.
    ticket_types: Mapped[list["TicketType"]] = relationship(  # noqa: F821 (catalogue.models)
        lazy="raise", order_by="TicketType.position"
    )

    @property
    def seats_available(self) -> int:
        return self.capacity - self.seats_booked - self.seats_held

    @property
    def cancellable_until(self) -> datetime:
        return self.cancellation_deadline or self.starts_at

    @property
    def organizer_name(self) -> str:
        return self.organizer.full_name


def update_event(event_id: int | BindParameter[int]) -> Update:
    """An UPDATE of one event that finds it by its primary key on every engine. Given a status or
    a date in the WHERE, InnoDB may find the row through ix_events_listing instead and lock that
    index entry before the row: the opposite order of a statement that holds the row and changes
    an indexed column (a cancel, a delete), and the two deadlock."""
    query = update(Event).where(Event.id == event_id)
    for dialect in ("mysql", "mariadb"):
        query = query.with_hint("FORCE INDEX (PRIMARY)", dialect_name=dialect)
    return query
