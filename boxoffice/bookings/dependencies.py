"""Bookings as route dependencies: the `{booking_id}` of the path, for those who may see it, and
the rush hint and the terms cache the app keeps."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from boxoffice.auth.dependencies import (
    BearerToken,
    CurrentUser,
    authenticated,
    require_role,
    require_verified,
)
from boxoffice.bookings import service
from boxoffice.bookings.models import Booking
from boxoffice.bookings.rush import RushHint
from boxoffice.bookings.schemas import BookingCreate
from boxoffice.catalogue.terms import TermsCache
from boxoffice.db import Session
from boxoffice.ratelimit import Limit, hit_for_user
from boxoffice.schemas import IdInPath
from boxoffice.settings import AppSettings
from boxoffice.users.models import Role, User

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="repeat a request safely: the same key and body within 24 h acts once",
    ),
]


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


@dataclass(frozen=True)
class Booker:
    """The attendee asking to book, and whether their account is already held against a ban
    (the first lock of a sale, taken with the authentication: `auth.service.authenticate`)."""

    user: User
    held: bool


async def _booker(
    body: BookingCreate,
    rush: Rush,
    session: Session,
    settings: AppSettings,
    token: BearerToken,
) -> Booker:
    # Where a rush is on, most attempts are refused by a read that needs no lock (service.book).
    hold = not rush.reads_first(body.event_id, join_waitlist=body.join_waitlist)
    auth = await authenticated(session, settings, token, hold=hold)
    attendee = require_verified(settings, require_role(auth.user, Role.ATTENDEE))
    return Booker(attendee, held=hold)


CurrentBooker = Annotated[Booker, Depends(_booker)]


async def _booker_within_limit(request: Request, booker: CurrentBooker) -> None:
    # The booker's own authentication, not a second one (`ratelimit.per_user` would read the
    # session's user again).
    await hit_for_user(request, Limit.BOOKINGS, booker.user.id)


# The bookings rate limit, per attendee.
BookingsWithinLimit = Depends(_booker_within_limit)
