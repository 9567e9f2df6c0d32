from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.catalogue.models import TicketType, check_in_list_ticket_types
from boxoffice.db import Base, StrEnumText, UTCDateTime, utcnow

# What every event's first list is called (SPEC §11), and what migration 0006 gave each event.
MAIN_ENTRANCE = "Main entrance"


class CheckInList(Base):
    """An entrance, or any door that counts on its own: each list knows who is inside through
    it. Its row is the lock every scan on it takes, so a list judges one scan at a time."""

    __tablename__ = "check_in_lists"
    __table_args__ = (Index("ix_check_in_lists_event", "event_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, ForeignKey("events.id"))
    name: Mapped[str] = mapped_column(String(100))
    allow_reentry: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket_types: Mapped[list[TicketType]] = relationship(
        secondary=check_in_list_ticket_types, lazy="raise", order_by=TicketType.id
    )


class Direction(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class ScanResult(StrEnum):
    OK = "ok"
    REFUSED = "refused"


class RefusalReason(StrEnum):
    UNKNOWN_TICKET = "unknown_ticket"
    ALREADY_INSIDE = "already_inside"
    NOT_CONFIRMED = "not_confirmed"
    CANCELLED = "cancelled"
    WRONG_TICKET_TYPE = "wrong_ticket_type"
    EVENT_CANCELLED = "event_cancelled"


class Presence(Base):
    """Where one ticket is as far as one list knows: inside or not, and how often it came in.
    Written only under the list's row lock.

    No foreign key to the ticket (nor from a scan to its ticket or booking): on InnoDB each
    check takes a shared lock on the ticket's row, and two batches at two lists that then both
    write one ticket's first entry would deadlock. Tickets are never deleted."""

    __tablename__ = "check_in_presence"
    __table_args__ = (CheckConstraint("entries >= 0", name="entries_not_negative"),)

    check_in_list_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("check_in_lists.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inside: Mapped[bool] = mapped_column(Boolean, default=False)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    # When the latest scan that moved it was recorded (what an offline download compares).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Scan(Base):
    """One scan as it was judged: the door's history, and the answer a resent scan (same
    `nonce`) gets again."""

    __tablename__ = "scans"
    __table_args__ = (
        CheckConstraint("direction IN ('entry', 'exit')", name="direction_known"),
        CheckConstraint(
            "(result = 'ok' AND reason IS NULL) OR (result = 'refused' AND reason IS NOT NULL)",
            name="reason_matches_result",
        ),
        # NULLs never collide: scans without a nonce are never taken for one another.
        UniqueConstraint("check_in_list_id", "nonce_digest", name="uq_scans_nonce"),
        Index("ix_scans_list_time", "check_in_list_id", "scanned_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_in_list_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("check_in_lists.id", ondelete="CASCADE")
    )
    # As typed or read, normalised; it need not name any ticket.
    code: Mapped[str] = mapped_column(String(64))
    # The one ticket its code names, or NULL for a party's booking code or an unknown code.
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    booking_id: Mapped[int | None] = mapped_column(Integer)
    direction: Mapped[Direction] = mapped_column(StrEnumText(Direction))
    result: Mapped[ScanResult] = mapped_column(StrEnumText(ScanResult))
    reason: Mapped[RefusalReason | None] = mapped_column(StrEnumText(RefusalReason, 32))
    # How many seats went in or out with it (a party's code moves several).
    seats: Mapped[int] = mapped_column(Integer, default=0)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    nonce: Mapped[str | None] = mapped_column(String(64), default=None)
    # The nonce's SHA-256 (hex), which is what is unique: MariaDB's collations would take "abc"
    # for "ABC" and "n1" for "n1 ", two nonces a scanner means as different.
    nonce_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    # When the scanner saw it (an offline scanner's own clock) and when it reached us.
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who scanned: a signed-in organizer or admin, or a scanner key (which may be gone since).
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    scanner_key_id: Mapped[int | None] = mapped_column(Integer, default=None)


class ScannerKey(Base):
    """A secret that lets a phone scan at one list and nothing else. Only its SHA-256 is kept:
    the key is random and long, so a slow hash would add nothing but time to every scan."""

    __tablename__ = "scanner_keys"
    __table_args__ = (Index("ix_scanner_keys_list", "check_in_list_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_in_list_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("check_in_lists.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
