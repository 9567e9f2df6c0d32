"""The door as the API takes and gives it (SPEC §11)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.bookings.models import BookingStatus
from boxoffice.catalogue.schemas import TicketTypeIds
from boxoffice.door.models import Direction, RefusalReason, ScanResult
from boxoffice.schemas import Instant, NotBlank, PatchModel, StrictModel

# What one offline upload may carry (SPEC §11).
MAX_BATCH = 1000

Name = Annotated[str, Field(max_length=100), NotBlank]
Code = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="a ticket's code, or a booking's, which admits its whole party",
        examples=["7KD2-MX4P-QR"],
    ),
]
Nonce = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="the scanner's own id of this scan: sent again, it gets the first answer",
    ),
]


class CheckInListFields(BaseModel):
    name: Name
    ticket_type_ids: Annotated[
        TicketTypeIds, Field(description="the types it admits; empty: every type")
    ] = []
    allow_reentry: Annotated[bool, Field(description="whether an exit lets a ticket in again")] = (
        True
    )


class CheckInListCreate(CheckInListFields, StrictModel):
    pass


class CheckInListUpdate(PatchModel):
    name: Name | None = None
    ticket_type_ids: TicketTypeIds | None = None
    allow_reentry: bool | None = None


class Counts(BaseModel):
    tickets: Annotated[int, Field(description="confirmed tickets the list admits")]
    checked_in: Annotated[int, Field(description="of those, tickets that came in at least once")]
    inside: Annotated[int, Field(description="tickets inside now, through this list")]


class CheckInListRead(CheckInListFields):
    id: int
    event_id: int
    counts: Counts
    created_at: datetime


class ScanRequest(StrictModel):
    code: Code
    direction: Direction = Direction.ENTRY
    nonce: Nonce | None = None
    scanned_at: Annotated[
        Instant | None, Field(description="the scanner's time of the scan; default: now")
    ] = None
    force: Annotated[
        bool, Field(description="admit a second entry while inside, recorded as forced")
    ] = False


class ScanBatch(StrictModel):
    scans: Annotated[list[ScanRequest], Field(min_length=1, max_length=MAX_BATCH)]


class ScannedTicket(BaseModel):
    """A ticket as a steward needs to see it: whose it is and what kind."""

    code: str
    booking_id: int
    booking_code: str
    ticket_type_id: int
    ticket_type: str
    holder_name: str


class TicketAtDoor(ScannedTicket):
    """A ticket as an offline scanner keeps it: whether it may come in, and whether it is in."""

    status: BookingStatus
    inside: Annotated[bool, Field(description="inside now, through this list")]
    checked_in_at: Annotated[datetime | None, Field(description="its first entry, any list")]


class ScanRead(BaseModel):
    id: int
    code: str
    direction: Direction
    result: ScanResult
    reason: RefusalReason | None
    ticket: Annotated[
        ScannedTicket | None,
        Field(description="the ticket its code names; null for a booking's code or an unknown one"),
    ]
    booking_id: int | None
    seats: Annotated[int, Field(description="how many seats went in or out with this scan")]
    nonce: str | None
    scanned_at: datetime
    recorded_at: datetime
    forced: bool


class ScanResults(BaseModel):
    results: Annotated[list[ScanRead], Field(description="one per scan sent, in the same order")]


class DoorTickets(BaseModel):
    check_in_list: Annotated[
        CheckInListRead,
        Field(description="the list: what it admits, whether it lets a ticket back in, counts"),
    ]
    items: list[TicketAtDoor]
    as_of: Annotated[
        datetime,
        Field(description="send as `changed_since` next time; no change after it is left out"),
    ]


class ScannerKeyCreate(StrictModel):
    name: Name


class ScannerKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class ScannerKeyCreated(ScannerKeyRead):
    key: Annotated[str, Field(description="shown this once; keep it on the scanner")]


class Arrival(BaseModel):
    starts_at: Annotated[datetime, Field(description="the start of ten minutes (UTC)")]
    seats: Annotated[int, Field(description="seats let in then")]


class Arrivals(BaseModel):
    items: Annotated[
        list[Arrival],
        Field(description="first arrival to last, quiet stretches included; at most 72"),
    ]
