"""The data export (SPEC §13): everything stored about one person, and nothing about anyone else
nor any secret (password hash, token ids, payment client secrets, scanner keys, API keys)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.audit import AuditAction, TargetType
from boxoffice.auth.schemas import GivenPassword
from boxoffice.bookings.schemas import BookingRead
from boxoffice.events.models import EventStatus
from boxoffice.notifications.models import NotificationKind, NotificationStatus
from boxoffice.payments.models import PaymentStatus, RefundReason, RefundStatus
from boxoffice.schemas import StrictModel
from boxoffice.users.schemas import UserRead


class AccountErasure(StrictModel):
    password: GivenPassword


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ExportedRefund(_Read):
    amount: str
    currency: str
    reason: RefundReason
    status: RefundStatus
    created_at: datetime
    completed_at: datetime | None


class ExportedPayment(_Read):
    id: int
    booking_id: int
    provider: str
    amount: str
    currency: str
    status: PaymentStatus
    reference: str
    created_at: datetime
    confirmed_at: datetime | None
    refund: ExportedRefund | None


class ExportedSession(_Read):
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class ExportedApiKey(_Read):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ExportedMessage(_Read):
    kind: NotificationKind
    subject: str
    status: NotificationStatus
    event_id: int | None
    booking_id: int | None
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None


class ExportedEvent(_Read):
    id: int
    title: str
    status: EventStatus
    starts_at: datetime
    created_at: datetime
    deleted_at: datetime | None


class ExportedAuditEntry(_Read):
    at: datetime
    action: AuditAction
    target_type: TargetType
    target_id: int
    by_you: bool = Field(description="whether you made the change (else an admin or the system)")
    detail: dict[str, Any]


class DataExport(BaseModel):
    exported_at: datetime
    profile: UserRead
    bookings: list[BookingRead]
    payments: list[ExportedPayment]
    sessions: list[ExportedSession]
    api_keys: list[ExportedApiKey] = Field(description="every key you made; never the key")
    messages: list[ExportedMessage] = Field(description="e-mails written to you, sent or not")
    events: list[ExportedEvent] = Field(description="the events you organize or organized")
    audit_log: list[ExportedAuditEntry] = Field(description="changes to you and yours")
