from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.audit import AuditAction, TargetType
from boxoffice.bookings.schemas import BookingRead
from boxoffice.events.schemas import EventRead
from boxoffice.schemas import IdValue, InputModel, PatchModel
from boxoffice.users.models import Role, User
from boxoffice.users.schemas import UserRead


class UserFilters(InputModel):
    role: Role | None = None
    q: Annotated[
        str | None,
        Field(max_length=200, description="case-insensitive, in the e-mail or the full name"),
    ] = None
    is_active: Annotated[bool | None, Field(description="false: banned accounts")] = None


class AdminUserRead(UserRead):
    bookings_count: int = Field(description="every booking the user made, of any status")
    events_count: int = Field(description="events the user organizes, deleted ones excepted")

    @classmethod
    def of(cls, user: User, **extra: object) -> Self:
        return cls.model_validate({**UserRead.model_validate(user).model_dump(), **extra})


class AdminUserDetail(AdminUserRead):
    recent_bookings: list[BookingRead] = Field(description="the latest 10, newest first")
    recent_events: list[EventRead] = Field(description="the latest 10 organized, newest first")


class UserChange(PatchModel):
    """Only the fields sent change; `is_active: false` bans the account, `true` lifts the ban."""

    null_hint = "; leave it out to keep it"

    role: Role | None = None
    is_active: bool | None = None


class UserCounts(BaseModel):
    attendee: int
    organizer: int
    admin: int


class EventCounts(BaseModel):
    draft: int
    published: int
    cancelled: int


class BookingCounts(BaseModel):
    confirmed: int
    waitlisted: int
    cancelled: int


class PlatformStats(BaseModel):
    users: UserCounts = Field(description="accounts by role, banned ones included")
    events: EventCounts = Field(description="events by status; deleted events are not counted")
    bookings: BookingCounts = Field(description="every booking ever made, by status")
    seats_sold: int = Field(description="seats held by confirmed bookings")


class AuditFilters(InputModel):
    actor_id: IdValue | None = None
    action: AuditAction | None = None


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None = Field(description="null for changes made from the command line")
    action: AuditAction
    target_type: TargetType
    target_id: int
    detail: dict[str, Any]
