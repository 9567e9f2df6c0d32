from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.schemas import Instant, NotBlank, StrictModel


class ApiKeyCreate(StrictModel):
    name: Annotated[str, Field(max_length=100), NotBlank]
    expires_at: Annotated[
        Instant | None, Field(description="when the key stops working; never when left out")
    ] = None


class _ApiKeyFields(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None


class ApiKeyRead(_ApiKeyFields):
    last_used_at: Annotated[
        datetime | None, Field(description="to the minute: uses within a minute are noted once")
    ]


class ApiKeyCreated(_ApiKeyFields):
    key: Annotated[
        str, Field(description="shown this once: send it as 'Authorization: Bearer <key>'")
    ]
