"""Bookings as route dependencies: the `{booking_id}` of the path, for those who may see it, and
the rush hint and the terms cache the app keeps."""

from typing import Annotated

from fastapi import Depends, Request

from boxoffice.auth.dependencies import CurrentUser
from boxoffice.bookings import service
from boxoffice.bookings.models import Booking
from boxoffice.bookings.rush import RushHint
from boxoffice.catalogue.terms import TermsCache
from boxoffice.db import Session
from boxoffice.schemas import IdInPath


async def _visible_booking(booking_id: IdInPath, user: CurrentUser, session: Session) -> Booking:
    return await service.get_visible(session, booking_id, user)


# The holder's, the event organizer's or any admin's; 404 for everyone else.
VisibleBooking = Annotated[Booking, Depends(_visible_booking)]


async def _rush_hint(request: Request) -> RushHint:
    hint: RushHint = request.app.state.rush_hint
    return hint


# Where this process has seen a rush lately (one hint per app, made by create_app).
Rush = Annotated[RushHint, Depends(_rush_hint)]


async def _terms_cache(request: Request) -> TermsCache:
    cache: TermsCache = request.app.state.terms_cache
    return cache


# The sales terms of the events this process sold for lately (one cache per app).
TermsCacheOfApp = Annotated[TermsCache, Depends(_terms_cache)]
