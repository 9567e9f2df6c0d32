"""Money taken for bookings and given back (SPEC §10): integer minor units with a currency."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.bookings.models import Booking
from boxoffice.catalogue.money import to_decimal_string
from boxoffice.db import Base, StrEnumText, UTCDateTime, utcnow


class PaymentStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# A payment that may still bring money in.
OPEN_PAYMENT_STATUSES = (PaymentStatus.CREATED, PaymentStatus.PENDING, PaymentStatus.FAILED)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('created', 'pending', 'confirmed', 'failed', 'cancelled', 'refunded')",
            name="status_known",
        ),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # The provider's own id of the payment (a Stripe PaymentIntent): its callbacks find
        # the payment by it.
        UniqueConstraint("provider", "provider_id", name="uq_payments_provider_id"),
        Index("ix_payments_booking", "booking_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(Integer, ForeignKey("bookings.id"))
    provider: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(StrEnumText(PaymentStatus))
    # What the payer quotes (manual: the booking's reference) or the provider's id.
    reference: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(255), default=None)
    # Stripe's, for the holder's browser to confirm the card; shown to the holder only.
    client_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    instructions: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    booking: Mapped[Booking] = relationship(lazy="raise")

    @property
    def amount(self) -> str:
        return to_decimal_string(self.amount_minor, self.currency)


class RefundStatus(StrEnum):
    # To be sent to the provider by the worker (never inside a transaction holding seats).
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    # Manual payments: the organizer owes the money back and pays it out themselves.
    OWED = "owed"
    FAILED = "failed"


class RefundReason(StrEnum):
    CANCELLED = "cancelled"
    EVENT_CANCELLED = "event_cancelled"
    # The money came after the booking's hold ended and its seats were gone.
    LATE_PAYMENT = "late_payment"
    # A second payment of a booking already paid (two tabs, two cards).
    DUPLICATE = "duplicate"


class Refund(Base):
    """Every refund, from the moment it is decided: a payment is `refunded` in the same
    transaction that cancels its booking, and the provider is called after that commits."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested', 'succeeded', 'owed', 'failed')", name="status_known"
        ),
        CheckConstraint(
            "reason IN ('cancelled', 'event_cancelled', 'late_payment', 'duplicate')",
            name="reason_known",
        ),
        # One refund per payment: refunding is in full.
        UniqueConstraint("payment_id", name="uq_refunds_payment"),
        Index("ix_refunds_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(Integer, ForeignKey("payments.id"))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[RefundReason] = mapped_column(StrEnumText(RefundReason))
    status: Mapped[RefundStatus] = mapped_column(StrEnumText(RefundStatus))
    provider_id: Mapped[str | None] = mapped_column(String(255), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Until when one worker is sending it (`payments.service.send_refunds`).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    payment: Mapped[Payment] = relationship(lazy="raise")

    @property
    def amount(self) -> str:
        return to_decimal_string(self.amount_minor, self.currency)


class ProviderEvent(Base):
    """A provider's callback already applied: Stripe delivers an event at least once."""

    __tablename__ = "provider_events"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
