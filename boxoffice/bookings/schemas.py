from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.catalogue.models import MAX_PER_BOOKING
from boxoffice.events.models import EventStatus
from boxoffice.schemas import IdValue, InputModel, StrictModel
from boxoffice.users.models import User

MAX_SEATS_PER_BOOKING = 10


class LineCreate(StrictModel):
    ticket_type_id: IdValue
    quantity: Annotated[int, Field(ge=1, le=MAX_PER_BOOKING)]


class BookingCreate(StrictModel):
    event_id: IdValue
    seats: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_SEATS_PER_BOOKING,
            description="seats of the event's first ticket type open to you; or send lines",
        ),
    ] = 1
    lines: Annotated[
        list[LineCreate] | None,
        Field(min_length=1, max_length=10, description="ticket types and quantities, distinct"),
    ] = None
    access_code: Annotated[
        str | None, Field(min_length=1, max_length=64, description="opens hidden ticket types")
    ] = None
    join_waitlist: Annotated[
        bool, Field(description="wait in line when the seats are not there, instead of sold_out")
    ] = False

    @model_validator(mode="after")
    def _one_way_to_count(self) -> Self:
        if self.lines is not None and "seats" in self.model_fields_set:
            raise ValueError("send either seats or lines, not both")
        kinds = [line.ticket_type_id for line in self.lines or ()]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each ticket type may appear in one line only")
        return self


class BookingEventSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    starts_at: datetime
    location: str
    status: EventStatus


class BookingLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ticket_type_id: int
    name: str
    quantity: int
    unit_price: Annotated[str, Field(description="decimal string in the booking's currency")]


class TicketRead(BaseModel):
    """One seat: its own code admits that seat (`GET /bookings/{id}/tickets/{code}.svg`)."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    ticket_type_id: int
    checked_in_at: datetime | None


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
    lines: list[BookingLineRead]
    total_price: Annotated[str, Field(description="decimal string in `currency`")]
    currency: str
    expires_at: datetime | None = Field(description="until when a pending booking holds seats")
    tickets: list[TicketRead]


class MyBookingFilters(InputModel):
    status: BookingStatus | None = None
    upcoming_only: Annotated[bool, Field(description="only events that have not started")] = False


class GuestListFilters(InputModel):
    status: Annotated[
        BookingStatus | None,
        Field(
            description="every active one (pending, offered, confirmed, waitlisted) unless given"
        ),
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
    lines: list[BookingLineRead]

    @classmethod
    def of(cls, booking: Booking, holder: User) -> Self:
        """The holder's name and address; every other field is the booking's of that name."""
        named = {"booking_id": booking.id, "full_name": holder.full_name, "email": holder.email}
        rest = cls.model_fields.keys() - named.keys()
        return cls(**named, **{name: getattr(booking, name) for name in rest})


class CheckInRequest(StrictModel):
    ticket_code: Annotated[str, Field(min_length=1, max_length=32)]
