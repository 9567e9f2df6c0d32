from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field

from boxoffice.schemas import StrictModel
from boxoffice.users.models import Role
from boxoffice.users.schemas import FullName

# argon2 accepts anything, but a multi-megabyte "password" is a cheap way to burn CPU.
MAX_PASSWORD_LENGTH = 256
NewPassword = Annotated[str, Field(min_length=8, max_length=MAX_PASSWORD_LENGTH)]
GivenPassword = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class RegisterRequest(StrictModel):
    email: Annotated[EmailStr, Field(max_length=254)]
    password: NewPassword
    full_name: FullName
    role: Literal[Role.ATTENDEE, Role.ORGANIZER] = Role.ATTENDEE


class LoginRequest(StrictModel):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: GivenPassword


class RefreshRequest(StrictModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class PasswordChangeRequest(StrictModel):
    current_password: GivenPassword
    new_password: NewPassword


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")


# The one-time token of a link: the web UI reads it from the link's fragment and posts it.
AccountTokenText = Annotated[str, Field(min_length=1, max_length=128)]


class VerifyEmailRequest(StrictModel):
    token: AccountTokenText


class PasswordResetAsk(StrictModel):
    email: Annotated[str, Field(min_length=1, max_length=254)]


class PasswordResetRequest(StrictModel):
    token: AccountTokenText
    new_password: NewPassword


class Accepted(BaseModel):
    """A request taken in; what follows arrives by e-mail."""

    detail: str
