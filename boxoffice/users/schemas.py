from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.schemas import NotBlank, StrictModel
from boxoffice.users.models import Role

# As given on registration and changed in the profile.
FullName = Annotated[str, Field(max_length=200), NotBlank]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    email_verified: bool
    # Whether reminders and event changes are mailed; bookings, payments and cancellations are.
    notify_reminders: bool
    notify_changes: bool
    created_at: datetime


class ProfileUpdate(StrictModel):
    """What the caller may change of their account; a field left out stays as it is."""

    full_name: FullName | None = None
    notify_reminders: bool | None = None
    notify_changes: bool | None = None
