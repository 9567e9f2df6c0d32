from datetime import datetime
from typing import Annotated, Literal

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


# A one-click unsubscribe link's token (RFC 8058): the user's id and a signature.
UnsubscribeToken = Annotated[str, Field(min_length=1, max_length=100)]


class OneClickUnsubscribe(StrictModel):
    """The form body RFC 8058 has a mail client POST: `List-Unsubscribe=One-Click`."""

    list_unsubscribe: Literal["One-Click"] = Field(alias="List-Unsubscribe")


class MailWishes(BaseModel):
    """What is mailed to a user besides bookings, payments and cancellations."""

    model_config = ConfigDict(from_attributes=True)

    notify_reminders: bool
    notify_changes: bool
