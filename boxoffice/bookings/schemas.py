from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.events.models import EventStatus
from boxoffice.schemas import IdValue, InputModel, StrictModel
from boxoffice.users.models import User

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


# A row of the guest list; its fields, in order, are the columns of the CSV file.
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

    @classmethod
    def of(cls, booking: Booking, holder: User) -> Self:
        """The holder's name and address; every other field is the booking's of that name."""
        named = {"booking_id": booking.id, "full_name": holder.full_name, "email": holder.email}
        rest = cls.model_fields.keys() - named.keys()
        return cls(**named, **{name: getattr(booking, name) for name in rest})


class CheckInRequest(StrictModel):
    ticket_code: Annotated[str, Field(min_length=1, max_length=32)]
