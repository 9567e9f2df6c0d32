from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from boxoffice.schemas import MAX_ID, PatchModel, StrictModel
from boxoffice.webhooks.models import WebhookEventType

Url = Annotated[str, Field(min_length=1, max_length=2000, description="http(s), a public host")]
EventTypes = Annotated[list[WebhookEventType], Field(min_length=1, max_length=20)]


class WebhookCreate(StrictModel):
    url: Url
    events: EventTypes
    event_id: Annotated[
        int | None,
        Field(ge=1, le=MAX_ID, description="one event; left out: all the caller's events"),
    ] = None


class WebhookUpdate(PatchModel):
    url: Url | None = None
    events: EventTypes | None = None
    enabled: bool | None = None


class WebhookRead(BaseModel):
    id: int
    url: str
    events: list[WebhookEventType]
    event_id: int | None = Field(description="null: every event of its owner (an admin's: all)")
    enabled: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="`whsec_...`: shown only now; signs every delivery")


class SecretRotated(BaseModel):
    secret: str = Field(description="the new secret, shown only now")
    previous_valid_until: datetime = Field(
        description="until then deliveries carry a signature with the old secret too"
    )


class DeliveryRead(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    message_id: int
    status_code: int | None = Field(description="the receiver's answer; null when there was none")
    duration_ms: int
    error: str | None
    created_at: datetime


class MessageRead(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    type: str
    status: str = Field(description="pending, sent or failed")
    attempts: int
    due_at: datetime
