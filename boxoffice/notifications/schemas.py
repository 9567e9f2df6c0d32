from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from boxoffice.notifications.models import NotificationKind
from boxoffice.schemas import InputModel


class ListedStatus(StrEnum):
    """The statuses an admin filters by (dropped reminders are `cancelled` and never listed
    as a failure)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class NotificationFilters(InputModel):
    status: ListedStatus | None = None
    kind: NotificationKind | None = None


class NotificationRead(BaseModel):
    id: int
    kind: NotificationKind
    recipient: str = Field(description="the e-mail address it goes or went to")
    status: str = Field(description="pending, sent, failed, or cancelled (a dropped reminder)")
    attempts: int = Field(description="sending attempts made so far, the successful one included")
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
