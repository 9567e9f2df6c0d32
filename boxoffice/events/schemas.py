from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Literal, Self
from zoneinfo import available_timezones

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from boxoffice.events.models import EventStatus
from boxoffice.schemas import (
    IdValue,
    InputModel,
    Instant,
    NotBlank,
    StrictModel,
    instant_between,
)

MAX_CAPACITY = 100_000


def _known_timezone(name: str) -> str:
    if name not in _timezones():
        raise ValueError(f"'{name}' is not an IANA time zone name, e.g. 'Europe/Berlin'")
    return name


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


Title = Annotated[str, Field(max_length=200), NotBlank]
Location = Annotated[str, Field(max_length=200), NotBlank]
Description = Annotated[str, Field(max_length=5000)]
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_known_timezone)]
Capacity = Annotated[int, Field(ge=1, le=MAX_CAPACITY)]
# When an event may take place (docs/api.md): the years 2000 to 2999 in UTC. Every real event
# fits, and a time that far from the ends of the calendar (years 1 and 9999) stays valid when
# shown in any zone, in calendar files and on every database; beyond it lie only mistakes and
# attacks (an event at 9999-12-31T20:00Z in Pacific/Kiritimati broke its calendar file for good).
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_EVENT_TIME = datetime(3000, 1, 1, tzinfo=UTC)
EventTime = Annotated[AwareDatetime, instant_between(EARLIEST_EVENT_TIME, LATEST_EVENT_TIME)]


class EventCreate(StrictModel):
    title: Title
    description: Description = ""
    location: Location
    timezone: TimeZoneName = "UTC"
    starts_at: EventTime
    ends_at: EventTime | None = None
    capacity: Capacity
    status: Literal[EventStatus.DRAFT, EventStatus.PUBLISHED] = EventStatus.DRAFT


class EventUpdate(StrictModel):
    """Any of the create fields but status; only the fields sent are changed."""

    title: Title | None = None
    description: Description | None = None
    location: Location | None = None
    timezone: TimeZoneName | None = None
    starts_at: EventTime | None = None
    ends_at: EventTime | None = None
    capacity: Capacity | None = None

    @model_validator(mode="after")
    def _required_fields_are_not_nulled(self) -> Self:
        for name in ("title", "description", "location", "timezone", "starts_at", "capacity"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    location: str
    timezone: str
    starts_at: datetime
    ends_at: datetime | None
    capacity: int
    seats_booked: int
    seats_available: int
    status: EventStatus
    organizer_id: int
    organizer_name: str
    waitlist_count: int = Field(description="waitlisted bookings (not seats)")
    created_at: datetime
    updated_at: datetime


EventSort = Literal["starts_at", "-starts_at", "created_at", "-created_at"]


class EventFilters(InputModel):
    q: Annotated[
        str | None, Field(max_length=200, description="in title, description or location")
    ] = None
    location: Annotated[str | None, Field(max_length=200)] = None
    starts_after: Instant | None = None
    starts_before: Instant | None = None
    upcoming_only: Annotated[bool, Field(description="only events that have not started")] = True
    organizer_id: IdValue | None = None
    mine: Annotated[bool, Field(description="the caller's own events, of every status")] = False
    status: Annotated[EventStatus | None, Field(description="with mine=true")] = None
    sort: EventSort = "starts_at"
