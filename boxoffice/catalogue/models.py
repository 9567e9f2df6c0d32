from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db import Base, UTCDateTime, utcnow

MAX_PER_BOOKING = 100
# What an event made without ticket types sells (SPEC §9), and what migration 0004 gave each
# event that existed before.
DEFAULT_TYPE_NAME = "General admission"

# Which quotas a ticket type counts against: any number, each of the type's own event.
quota_ticket_types = Table(
    "quota_ticket_types",
    Base.metadata,
    Column("quota_id", Integer, ForeignKey("quotas.id", ondelete="CASCADE"), primary_key=True),
    Column("ticket_type_id", Integer, ForeignKey("ticket_types.id"), primary_key=True),
    Index("ix_quota_ticket_types_ticket_type", "ticket_type_id"),
)


# Which ticket types a check-in list (boxoffice.door) admits; none at all: every type of its
# event. Here beside the types, as the quotas' is: a type that a list names is not deleted.
check_in_list_ticket_types = Table(
    "check_in_list_ticket_types",
    Base.metadata,
    Column(
        "check_in_list_id",
        Integer,
        ForeignKey("check_in_lists.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("ticket_type_id", Integer, ForeignKey("ticket_types.id"), primary_key=True),
    Index("ix_check_in_list_ticket_types_ticket_type", "ticket_type_id"),
)


class TicketType(Base):
    __tablename__ = "ticket_types"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint(
            f"min_per_booking >= 1 AND max_per_booking <= {MAX_PER_BOOKING}"
            " AND min_per_booking <= max_per_booking",
            name="per_booking_range",
        ),
        Index("ix_ticket_types_event", "event_id", "position", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, ForeignKey("events.id"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # In the minor unit of the event's currency (cents for EUR): prices are never floats.
    price_minor: Mapped[int] = mapped_column(Integer, default=0)
    min_per_booking: Mapped[int] = mapped_column(Integer, default=1)
    max_per_booking: Mapped[int] = mapped_column(Integer, default=10)
    # NULL: from publication, and until the event starts.
    sale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sale_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    access_code: Mapped[str | None] = mapped_column(String(64), default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    quotas: Mapped[list["Quota"]] = relationship(
        secondary=quota_ticket_types,
        back_populates="ticket_types",
        lazy="raise",
        order_by="Quota.id",
    )


class Quota(Base):
    """A limit shared by some of an event's ticket types. `seats_taken` counts the seats of the
    active bookings of those types (SPEC §9's exactness rule) and changes only in the seat
    ledger, under the event's row lock."""

    __tablename__ = "quotas"
    __table_args__ = (
        CheckConstraint("size BETWEEN 0 AND 100000", name="size_range"),
        # The backstop behind the ledger's check: no quota is ever oversold.
        CheckConstraint("seats_taken >= 0 AND seats_taken <= size", name="taken_within_size"),
        Index("ix_quotas_event", "event_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, ForeignKey("events.id"))
    name: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket_types: Mapped[list[TicketType]] = relationship(
        secondary=quota_ticket_types, back_populates="quotas", lazy="raise", order_by=TicketType.id
    )

    @property
    def seats_left(self) -> int:
        return self.size - self.seats_taken


def general_admission() -> TicketType:
    """The one type of an event made without ticket types: free, one to ten per booking."""
    return TicketType(
        name=DEFAULT_TYPE_NAME,
        description="",
        price_minor=0,
        min_per_booking=1,
        max_per_booking=10,
        hidden=False,
        position=0,
    )
