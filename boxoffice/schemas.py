"""Schema pieces every domain shares: strict request bodies, plain text fields, pages."""

from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


class InputModel(BaseModel):
    """Anything a client sends: text with a NUL character is refused before it reaches a database
    (PostgreSQL cannot store one; the others would keep a string that many tools cut short)."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        return data


def _has_nul(data: object) -> bool:
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_has_nul(key) or _has_nul(value) for key, value in data.items())
    if isinstance(data, list | tuple):
        return any(_has_nul(item) for item in data)
    return False


class StrictModel(InputModel):
    """Unknown fields are an error, so that nobody sets `role` or `seats_booked` by sending it."""

    model_config = ConfigDict(extra="forbid")


def _not_blank(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


# Use as `Annotated[str, Field(max_length=200), NotBlank]`: trimmed, and never only white space.
NotBlank = AfterValidator(_not_blank)


Item = TypeVar("Item")


# Ids are 32-bit integer keys on every engine; a larger number cannot name anything.
MAX_ID = 2**31 - 1
IdInPath = Annotated[int, Path(ge=1, le=MAX_ID, description="the resource's id")]
IdValue = Annotated[int, Field(ge=1, le=MAX_ID)]


class PageParams(BaseModel):
    limit: int
    offset: int


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Pagination = Annotated[PageParams, Depends(_page_params)]


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[Item], total: int, page: PageParams) -> "Page[Item]":
        return cls(items=list(items), total=total, limit=page.limit, offset=page.offset)
