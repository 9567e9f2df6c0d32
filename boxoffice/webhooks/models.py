from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, StrEnumText, UTCDateTime, utcnow


class WebhookEventType(StrEnum):
    BOOKING_CONFIRMED = "booking.confirmed"
    BOOKING_PENDING = "booking.pending"
    BOOKING_WAITLISTED = "booking.waitlisted"
    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_EXPIRED = "booking.expired"
    PAYMENT_CONFIRMED = "payment.confirmed"
    PAYMENT_REFUNDED = "payment.refunded"
    EVENT_PUBLISHED = "event.published"
    EVENT_CHANGED = "event.changed"
    EVENT_CANCELLED = "event.cancelled"
    CHECKIN_CREATED = "checkin.created"

    @property
    def bit(self) -> int:
        """The type's bit in `Webhook.events_mask`: its place in this list, which only grows."""
        return 1 << list(WebhookEventType).index(self)


# The test message of `POST /webhooks/{id}/ping`: sent to that webhook only, whatever it asked for.
PING = "webhook.ping"


def mask_of(types: list[WebhookEventType]) -> int:
    mask = 0
    for kind in types:
        mask |= kind.bit
    return mask


def types_of(mask: int) -> list[WebhookEventType]:
    return [kind for kind in WebhookEventType if mask & kind.bit]


class Webhook(Base):
    """Where an organizer's (or an admin's) events are posted.

    Its scope: one event (`event_id`), or every event of `organizer_id`, or, for an admin's
    webhook with neither, every event. The types it wants are bits of `events_mask`, so that
    the outbox matches them in SQL with one `&` on every engine.
    """

    __tablename__ = "webhooks"
    __table_args__ = (
        CheckConstraint("event_id IS NULL OR organizer_id IS NULL", name="one_scope"),
        Index("ix_webhooks_event", "event_id"),
        Index("ix_webhooks_organizer", "organizer_id"),
        Index("ix_webhooks_owner", "owner_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"))
    event_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("events.id"), default=None)
    organizer_id: Mapped[int | None] = mapped_column(Integer, default=None)
    url: Mapped[str] = mapped_column(String(2000))
    events_mask: Mapped[int] = mapped_column(Integer)
    # Kept as given (`whsec_...`): signing needs the secret itself, so it cannot be hashed
    # (docs/webhooks.md says what follows from that).
    secret: Mapped[str] = mapped_column(String(64))
    # After a rotation, the secret before it still signs until `previous_secret_until`.
    previous_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class WebhookMessage(Base):
    """One message for one webhook: its body is fixed when written, so every retry sends the
    same bytes under the same `webhook-id`. No foreign keys, as in the e-mail outbox: writing
    messages takes no lock on the webhook's row."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
        # The worker's question: pending and due, oldest first.
        Index("ix_webhook_messages_due", "status", "due_at", "id"),
        # A webhook's line: nothing is sent while an earlier message of it is pending.
        Index("ix_webhook_messages_line", "webhook_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(
        StrEnumText(MessageStatus), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class WebhookDelivery(Base):
    """One attempt to deliver a message: what the receiver answered, or why there was no
    answer."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
