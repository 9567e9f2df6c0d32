from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.bookings.models import BookingStatus
from boxoffice.events.models import EventStatus
from boxoffice.schemas import IdValue, InputModel, StrictModel

MAX_SEATS_PER_BOOKING = 10


class BookingCreate(StrictModel):
    event_id: IdValue
    seats: Annotated[int, Field(ge=1, le=MAX_SEATS_PER_BOOKING)] = 1
    join_waitlist: Annotated[
        bool, Field(description="wait in line when the seats are not there, instead of sold_out")
    ] = False


class BookingEventSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    starts_at: datetime
    location: str
    status: EventStatus


class BookingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int
    user_id: int
    seats: int
    status: BookingStatus
    ticket_code: str
    waitlist_position: int | None = Field(description="1 is next in line; null unless waitlisted")
    created_at: datetime
    cancelled_at: datetime | None
    checked_in_at: datetime | None
    event: BookingEventSummary


class MyBookingFilters(InputModel):
    status: BookingStatus | None = None
    upcoming_only: Annotated[bool, Field(description="only events that have not started")] = False


class GuestListFilters(InputModel):
    status: Annotated[
        BookingStatus | None, Field(description="confirmed and waitlisted unless given")
    ] = None
    format: Annotated[str | None, Field(pattern="^(json|csv)$", description="csv: every row")] = (
        None
    )


class Guest(BaseModel):
    booking_id: int
    user_id: int
    full_name: str
    email: str
    seats: int
    status: BookingStatus
    ticket_code: str
    created_at: datetime
    checked_in_at: datetime | None


class CheckInRequest(StrictModel):
    ticket_code: Annotated[str, Field(min_length=1, max_length=32)]
