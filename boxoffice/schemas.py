"""Schema pieces every domain shares: strict request bodies, plain text fields, pages."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from fastapi import Depends, Path, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

# No request of this API nests deeper than a few levels; far deeper input is an attack on the
# parser and on every recursive walk after it (Python's own limit is about 1000 frames).
MAX_NESTING = 32


class InputModel(BaseModel):
    """Anything a client sends: text with a NUL character is refused before it reaches a database
    (PostgreSQL cannot store one; the others would keep a string that many tools cut short), and
    so is nesting deeper than MAX_NESTING, before anything recurses into it."""

    @model_validator(mode="before")
    @classmethod
    def _plain_input(cls, data: Any) -> Any:
        _check_plain(data)
        return data


def _check_plain(data: object) -> None:
    """Walks `data` with a stack of its own (not recursion), so no depth can overflow it."""
    pending: list[tuple[object, int]] = [(data, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("text must not contain NUL (\\u0000) characters")
            continue
        if not isinstance(item, dict | list | tuple):
            continue
        if depth >= MAX_NESTING:
            raise ValueError(f"input must not nest deeper than {MAX_NESTING} levels")
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)


class StrictModel(InputModel):
    """Unknown fields are an error, so that nobody sets `role` or `seats_booked` by sending it."""

    model_config = ConfigDict(extra="forbid")


class PatchModel(StrictModel):
    """A PATCH body: only the fields sent change. Sending null is refused for every field but
    the `nullable` ones (null clears those); leaving a field out keeps it."""

    nullable: ClassVar[frozenset[str]] = frozenset()
    # What the refusal adds to "{name} cannot be null".
    null_hint: ClassVar[str] = ""

    @model_validator(mode="after")
    def _not_nulled(self) -> Self:
        for name in type(self).model_fields:
            nulled = name in self.model_fields_set and getattr(self, name) is None
            if nulled and name not in self.nullable:
                raise ValueError(f"{name} cannot be null{self.null_hint}")
        return self

    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set}


def _not_blank(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


# Use as `Annotated[str, Field(max_length=200), NotBlank]`: trimmed, and never only white space.
NotBlank = AfterValidator(_not_blank)


def instant_between(earliest: datetime, latest: datetime) -> AfterValidator:
    """Refuses an aware datetime outside [earliest, latest). Comparing aware datetimes does not
    convert them, so even year 1 or 9999 at any offset is compared without overflowing."""

    def check(value: datetime) -> datetime:
        if not earliest <= value < latest:
            raise ValueError(
                f"must be from {_rfc3339(earliest)} up to (not including) {_rfc3339(latest)}"
            )
        return value

    return AfterValidator(check)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# Any datetime a client sends (filters included): a full day away from the ends of Python's
# datetime (years 1 and 9999) in every zone, so converting it to UTC or to an event's zone cannot
# overflow, and still wide enough for any question about events ("everything since 1970").
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(3000, 1, 1, tzinfo=UTC)
# Naive datetimes are refused (422): a time without a zone is a guess, and guesses oversell.
Instant = Annotated[AwareDatetime, instant_between(EARLIEST_INSTANT, LATEST_INSTANT)]


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


class Items(BaseModel, Generic[Item]):
    """A short list that is never paged, such as an event's ticket types: `{"items": [...]}`."""

    items: list[Item]
