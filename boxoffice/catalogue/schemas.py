"""Ticket types and quotas as the API takes and gives them (SPEC §9). Each resource declares its
fields once, in a base that the request bodies and the answers share."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from boxoffice.catalogue.models import MAX_PER_BOOKING
from boxoffice.catalogue.money import CURRENCIES
from boxoffice.schemas import IdValue, Instant, NotBlank, PatchModel, StrictModel

# An event sells at most this many ticket types and has at most this many quotas: enough for any
# box office, and a bound on what every read of the event carries.
MAX_TICKET_TYPES = 50
MAX_QUOTAS = 50
MAX_QUOTA_SIZE = 100_000


def _known_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError(f"'{code}' is not an ISO 4217 currency code such as 'EUR' or 'JPY'")
    return code


def _distinct(ids: Sequence[int]) -> Sequence[int]:
    if len(set(ids)) != len(ids):
        raise ValueError("must not name a ticket type twice")
    return ids


Currency = Annotated[
    str, Field(description="ISO 4217, e.g. EUR", examples=["EUR"]), AfterValidator(_known_currency)
]
Name = Annotated[str, Field(max_length=100), NotBlank]
Description = Annotated[str, Field(max_length=2000)]
# Its shape here; its digits against the event's currency in the service (catalogue/money.py),
# as the body alone does not say which currency applies. A string, never a JSON number, so that
# no float rounds it.
Price = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,7}(\.[0-9]{1,3})?$",
        description="a decimal amount in the event's currency, 0 or more, with at most as many "
        "digits after the point as the currency has (EUR 2, JPY 0, BHD 3)",
        examples=["12.50"],
    ),
]
PerBooking = Annotated[int, Field(ge=1, le=MAX_PER_BOOKING)]
AccessCode = Annotated[
    str,
    Field(
        min_length=4,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="letters, digits, '-' and '_'; shown to the event's organizer and admins only",
    ),
]
Position = Annotated[int, Field(ge=0, le=10_000, description="display order, lowest first")]
QuotaSize = Annotated[int, Field(ge=0, le=MAX_QUOTA_SIZE)]
TicketTypeIds = Annotated[
    list[IdValue], Field(max_length=MAX_TICKET_TYPES), AfterValidator(_distinct)
]


class TicketTypeFields(BaseModel):
    """What an organizer writes of a ticket type."""

    name: Name
    description: Description = ""
    price: Price
    min_per_booking: PerBooking = 1
    max_per_booking: Annotated[
        int, Field(ge=1, le=MAX_PER_BOOKING, description=f"at most {MAX_PER_BOOKING}")
    ] = 10
    sale_starts_at: Annotated[Instant | None, Field(description="null: from publication")] = None
    sale_ends_at: Annotated[Instant | None, Field(description="null: until the event starts")] = (
        None
    )
    hidden: Annotated[
        bool,
        Field(
            description="shown and sold only with its access_code (a hidden type without one is "
            "for the organizer alone); the organizer and admins always see it"
        ),
    ] = False
    access_code: AccessCode | None = None


class TicketTypeCreate(StrictModel, TicketTypeFields):
    position: Annotated[
        Position | None, Field(description="display order; by default after the last type")
    ] = None


class TicketTypeUpdate(PatchModel):
    """Any field of a ticket type; only the fields sent change. A new price applies to bookings
    made afterwards."""

    nullable = frozenset({"sale_starts_at", "sale_ends_at", "access_code"})

    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    min_per_booking: PerBooking | None = None
    max_per_booking: PerBooking | None = None
    sale_starts_at: Instant | None = None
    sale_ends_at: Instant | None = None
    hidden: bool | None = None
    access_code: AccessCode | None = None
    position: Position | None = None


class TicketTypeRead(TicketTypeFields):
    id: int
    event_id: int
    access_code: str | None = Field(
        description="the organizer's and admins' to see; null for others"
    )
    position: int
    sale_starts_at: datetime | None
    sale_ends_at: datetime | None
    quota_ids: list[int] = Field(description="the quotas this type counts against")
    seats_available: int = Field(
        description="what the event and each of the type's quotas have left; 0 outside its sale "
        "window or when the event is not open for booking"
    )


class QuotaFields(BaseModel):
    name: Name
    size: QuotaSize
    ticket_type_ids: Annotated[
        TicketTypeIds, Field(description="the event's ticket types that count against it")
    ]


class QuotaCreate(StrictModel, QuotaFields):
    pass


class QuotaUpdate(PatchModel):
    """Any field of a quota; only the fields sent change."""

    name: Name | None = None
    size: QuotaSize | None = None
    ticket_type_ids: TicketTypeIds | None = None


class QuotaRead(QuotaFields):
    id: int
    event_id: int
    seats_taken: int = Field(description="seats its types hold in confirmed bookings")
