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
    created_at: datetime


class ProfileUpdate(StrictModel):
    full_name: FullName
