from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from boxoffice.catalogue.schemas import (
    MAX_TICKET_TYPES,
    Currency,
    TicketTypeCreate,
    TicketTypeRead,
)
from boxoffice.events.models import EventStatus, WaitlistMode
from boxoffice.schemas import (
    IdValue,
    InputModel,
    Instant,
    NotBlank,
    PatchModel,
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
HoldMinutes = Annotated[
    int, Field(ge=1, le=120, description="how long an unpaid booking holds its seats")
]
ManualPaymentDays = Annotated[
    int, Field(ge=1, le=60, description="how long a booking paid by transfer holds its seats")
]
OfferHours = Annotated[
    int, Field(ge=1, le=336, description="how long a waiting-list offer holds its seats")
]
WaitlistModeField = Annotated[
    WaitlistMode,
    Field(
        description="promote: confirm at once; offer: hold for the holder to accept (paid: always)"
    ),
]
CancellationDeadline = Annotated[
    EventTime, Field(description="until when holders may cancel paid bookings; null: the start")
]


class EventFields(StrictModel):
    """What an organizer writes of an event: given on creation, changed by an edit."""

    title: Title
    description: Description = ""
    location: Location
    timezone: TimeZoneName = "UTC"
    starts_at: EventTime
    ends_at: EventTime | None = None
    capacity: Capacity
    hold_minutes: HoldMinutes = 15
    manual_payment_days: ManualPaymentDays = 3
    offer_hours: OfferHours = 24
    waitlist_mode: WaitlistModeField = WaitlistMode.PROMOTE
    cancellation_deadline: CancellationDeadline | None = None


class EventCreate(EventFields):
    status: Literal[EventStatus.DRAFT, EventStatus.PUBLISHED] = EventStatus.DRAFT
    # Given once: prices are amounts of it, and tickets are sold in it.
    currency: Annotated[
        Currency | None, Field(description="default: the server's BOXOFFICE_DEFAULT_CURRENCY")
    ] = None
    ticket_types: Annotated[
        list[TicketTypeCreate] | None,
        Field(
            min_length=1,
            max_length=MAX_TICKET_TYPES,
            description='default: one type, "General admission", price 0',
        ),
    ] = None


class EventUpdate(PatchModel):
    """Any of the create fields but status; only the fields sent are changed."""

    # The fields of EventFields (a test holds them equal), each optional; only those that may be
    # left out on creation to be empty may be cleared.
    nullable = frozenset(
        name for name, field in EventFields.model_fields.items() if field.default is None
    )

    title: Title | None = None
    description: Description | None = None
    location: Location | None = None
    timezone: TimeZoneName | None = None
    starts_at: EventTime | None = None
    ends_at: EventTime | None = None
    capacity: Capacity | None = None
    hold_minutes: HoldMinutes | None = None
    manual_payment_days: ManualPaymentDays | None = None
    offer_hours: OfferHours | None = None
    waitlist_mode: WaitlistModeField | None = None
    cancellation_deadline: CancellationDeadline | None = None


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
    currency: str
    seats_held: int = Field(description="seats in pending bookings and open offers")
    ticket_types: list[TicketTypeRead] = Field(
        description="the types the caller may see, in display order"
    )
    price_from: str | None = Field(description="the lowest price of those types")
    hold_minutes: int
    manual_payment_days: int
    offer_hours: int
    waitlist_mode: WaitlistMode
    cancellation_deadline: datetime | None


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
