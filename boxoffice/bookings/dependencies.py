"""Bookings as route dependencies: the `{booking_id}` of the path, for those who may see it."""

from typing import Annotated

from fastapi import Depends

from boxoffice.auth.dependencies import CurrentUser
from boxoffice.bookings import service
from boxoffice.bookings.models import Booking
from boxoffice.db import Session
from boxoffice.schemas import IdInPath


async def _visible_booking(booking_id: IdInPath, user: CurrentUser, session: Session) -> Booking:
    return await service.get_visible(session, booking_id, user)


# The holder's, the event organizer's or any admin's; 404 for everyone else.
VisibleBooking = Annotated[Booking, Depends(_visible_booking)]
