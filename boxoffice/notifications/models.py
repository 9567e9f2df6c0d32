from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, JSONText, StrEnumText, UTCDateTime, utcnow


class NotificationKind(StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    WAITLIST_JOINED = "waitlist_joined"
    WAITLIST_PROMOTED = "waitlist_promoted"
    BOOKING_CANCELLED = "booking_cancelled"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_CHANGED = "event_changed"
    REMINDER = "reminder"
    # Holds and payments (SPEC §10).
    BOOKING_PENDING = "booking_pending"
    BOOKING_EXPIRED = "booking_expired"
    WAITLIST_OFFER = "waitlist_offer"
    PAYMENT_RECEIVED = "payment_received"
    PAYMENT_REFUNDED = "payment_refunded"
    # Accounts (SPEC §13): about no event, each with a one-time link.
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"


# What an address not verified yet is sent (SPEC §13): the link that verifies it, and a reset
# link, which its owner asked for and which proves the address as well when followed (without it
# an owner who lost the password of an unverified account could never get back in). Every other
# message waits for the verification.
TO_UNVERIFIED_ADDRESSES = (NotificationKind.VERIFY_EMAIL, NotificationKind.PASSWORD_RESET)


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    # A message no longer wanted when its turn came (a reminder whose booking or event was
    # cancelled, or whose moment passed when the event moved; a hold or an offer that ended
    # first: worker.still_wanted). Never sent, never listed as a failure.
    CANCELLED = "cancelled"


# The event fields whose change is news to the people holding a booking (SPEC §5), and what a
# message calls each.
NOTEWORTHY_FIELDS = {
    "starts_at": "the start",
    "ends_at": "the end",
    "location": "the place",
    "timezone": "the time zone",
}


class Notification(Base):
    """One message of the outbox: who, about what, and how sending it went.

    Rows are compact on purpose: the message is rendered when it is sent, from the event, user
    and booking as they are then, so that writing thousands of them (an event's cancellation) is
    one INSERT ... SELECT under the event's lock. No foreign keys: on InnoDB each would take a
    shared lock on a user or booking row per inserted message, and users, events and bookings are
    never deleted.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('booking_confirmed', 'waitlist_joined', 'waitlist_promoted',"
            " 'booking_cancelled', 'event_cancelled', 'event_changed', 'reminder',"
            " 'booking_pending', 'booking_expired', 'waitlist_offer', 'payment_received',"
            " 'payment_refunded', 'verify_email', 'password_reset')",
            name="kind_known",
        ),
        CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'cancelled')", name="status_known"
        ),
        # The worker's question: pending, due, oldest first.
        Index("ix_notifications_due", "status", "due_at", "id"),
        # Reminders of an event move or drop together; an event's or booking's messages.
        Index("ix_notifications_event", "event_id", "kind", "status"),
        Index("ix_notifications_booking", "booking_id", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(StrEnumText(NotificationKind, 32))
    user_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(Integer, default=None)
    booking_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # Facts of the moment the message was written that the rows it is rendered from will not
    # tell later (a waiting-list position, which fields of an event changed, the payment or
    # refund a receipt is about), as JSON.
    payload: Mapped[dict[str, Any] | None] = mapped_column(
        JSONText(separators=(",", ":")), default=None
    )
    status: Mapped[NotificationStatus] = mapped_column(
        StrEnumText(NotificationStatus), default=NotificationStatus.PENDING
    )
    # Sending attempts made so far, the successful one included.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Not sent before this moment: a reminder's time, or the next retry after a failure.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker's lease: until then the message is that worker's; after, anyone's again.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
