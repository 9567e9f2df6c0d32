from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from boxoffice import metrics
from boxoffice.auth.dependencies import (
    ROLE_ERRORS,
    SIGNED_IN_ERRORS,
    CurrentAttendee,
    CurrentOrganizer,
    CurrentUser,
)
from boxoffice.bookings import idempotency, service, tickets
from boxoffice.bookings.dependencies import (
    BookingsWithinLimit,
    CurrentBooker,
    IdempotencyKey,
    Rush,
    TermsCacheOfApp,
    VisibleBooking,
)
from boxoffice.bookings.errors import (
    AlreadyBooked,
    AlreadyCheckedIn,
    BookingNotConfirmed,
    BookingNotPending,
    CancellationClosed,
    EventNotBookable,
    EventStarted,
    IdempotencyKeyReused,
    OfferExpired,
    RequestInProgress,
    SoldOut,
)
from boxoffice.bookings.export import guests_csv
from boxoffice.bookings.idempotency import Answer
from boxoffice.bookings.schemas import (
    BookingCreate,
    BookingRead,
    CheckInRequest,
    Guest,
    GuestListFilters,
    MyBookingFilters,
)
from boxoffice.db import Session, SessionFactory
from boxoffice.door import service as door
from boxoffice.errors import DomainError, Forbidden, NotFound, problem_responses
from boxoffice.events.dependencies import ManagedEvent
from boxoffice.schemas import Page, Pagination
from boxoffice.security import NO_STORE, no_store
from boxoffice.users.errors import EmailNotVerified

router = APIRouter(tags=["bookings"], dependencies=[Depends(no_store)])

SVG = "image/svg+xml"


@router.post(
    "/bookings",
    status_code=201,
    response_model=BookingRead,
    dependencies=[BookingsWithinLimit],
    responses=problem_responses(
        *ROLE_ERRORS,
        EmailNotVerified,
        NotFound,
        SoldOut,
        AlreadyBooked,
        EventNotBookable,
        RequestInProgress,
        IdempotencyKeyReused,
    ),
)
async def create_booking(
    body: BookingCreate,
    booker: CurrentBooker,
    session: Session,
    sessionmaker: SessionFactory,
    rush: Rush,
    terms_cache: TermsCacheOfApp,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Books seats for the calling attendee: `confirmed` when they are there, `waitlisted` (with
    its position) when they are not and `join_waitlist` is true, else 409 `sold_out`.

    With an `Idempotency-Key`, a repeat of the same request within 24 hours answers what the
    first one did and books nothing more."""

    async def book() -> Answer:
        try:
            booking = await service.book(
                session, booker.user, body, held=booker.held, rush=rush, terms_cache=terms_cache
            )
        except DomainError as refusal:
            metrics.booking_outcome(refusal.code)
            raise
        metrics.booking_outcome(booking.status)
        return Answer(201, BookingRead.model_validate(booking).model_dump(mode="json"))

    answer = await idempotency.run_once(
        sessionmaker,
        session,
        user_id=booker.user.id,
        key=idempotency_key,
        request_fingerprint=idempotency.fingerprint("POST", "/bookings", body.model_dump()),
        action=book,
    )
    return JSONResponse(
        answer.body, status_code=answer.status, media_type=answer.media_type, headers=NO_STORE
    )


@router.get("/bookings/me", responses=problem_responses(*ROLE_ERRORS))
async def my_bookings(
    filters: Annotated[MyBookingFilters, Query()],
    page: Pagination,
    attendee: CurrentAttendee,
    session: Session,
) -> Page[BookingRead]:
    """The calling attendee's bookings, newest first."""
    bookings, total = await service.list_mine(
        session, attendee, page, status=filters.status, upcoming_only=filters.upcoming_only
    )
    return Page.of([BookingRead.model_validate(b) for b in bookings], total, page)


@router.get("/bookings/{booking_id}", responses=problem_responses(*SIGNED_IN_ERRORS, NotFound))
async def read_booking(booking: VisibleBooking) -> BookingRead:
    """One booking, for its holder, the event's organizer and admins."""
    return BookingRead.model_validate(booking)


@router.get(
    "/bookings/{booking_id}/ticket.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}, **problem_responses(*SIGNED_IN_ERRORS, NotFound)},
)
async def ticket_qr_code(booking: VisibleBooking) -> Response:
    """The ticket code as a QR code (what a door scanner reads into check-in), for the holder,
    the event's owner and admins."""
    return Response(
        tickets.qr_svg(booking.ticket_code),
        media_type=SVG,
        headers={"Cache-Control": "private, no-store"},
    )


@router.get(
    "/bookings/{booking_id}/tickets/{code}.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}, **problem_responses(*SIGNED_IN_ERRORS, NotFound)},
)
async def seat_ticket_qr_code(
    booking: VisibleBooking, code: Annotated[str, Path(min_length=1, max_length=32)]
) -> Response:
    """One seat's ticket code as a QR code, for the holder, the event's owner and admins."""
    ticket = service.ticket_of(booking, code)
    return Response(
        tickets.qr_svg(ticket.code), media_type=SVG, headers={"Cache-Control": "private, no-store"}
    )


@router.delete(
    "/bookings/{booking_id}",
    responses=problem_responses(
        *SIGNED_IN_ERRORS, Forbidden, NotFound, EventStarted, CancellationClosed
    ),
)
async def cancel_booking(
    booking: VisibleBooking, user: CurrentUser, session: Session
) -> BookingRead:
    """Cancels a booking (its holder or an admin): its seats go back to the pool, the waiting
    list is served, and what was paid is refunded in full. Cancelling it again answers the same.
    A holder may cancel a paid booking only before the event's `cancellation_deadline`."""
    return BookingRead.model_validate(await service.cancel(session, booking, user))


OFFER_ERRORS = (*SIGNED_IN_ERRORS, Forbidden, NotFound, OfferExpired, BookingNotPending)


@router.post("/bookings/{booking_id}/accept", responses=problem_responses(*OFFER_ERRORS))
async def accept_offer(booking: VisibleBooking, user: CurrentUser, session: Session) -> BookingRead:
    """Takes the seats a waiting-list offer holds (its holder): confirmed if free, else
    `pending` until paid."""
    return BookingRead.model_validate(await service.accept_offer(session, booking, user))


@router.post("/bookings/{booking_id}/decline", responses=problem_responses(*OFFER_ERRORS))
async def decline_offer(
    booking: VisibleBooking, user: CurrentUser, session: Session
) -> BookingRead:
    """Lets a waiting-list offer go (its holder): the seats pass to the next in line at once."""
    return BookingRead.model_validate(await service.decline_offer(session, booking, user))


@router.get(
    "/events/{event_id}/bookings",
    response_model=Page[Guest],
    responses={200: {"content": {"text/csv": {}}}, **problem_responses(*ROLE_ERRORS, NotFound)},
)
async def guest_list(
    event: ManagedEvent,
    filters: Annotated[GuestListFilters, Query()],
    page: Pagination,
    request: Request,
    session: Session,
) -> Response:
    """The event's guests, every active booking (pending, offered, confirmed, waitlisted) unless
    `status` says otherwise; with `format=csv` (or `Accept: text/csv`) every matching row as a
    spreadsheet-safe CSV file."""
    as_csv = filters.format == "csv" or (
        filters.format is None and "text/csv" in request.headers.get("accept", "")
    )
    rows, total = await service.guest_list(
        session, event, filters.status, page=None if as_csv else page
    )
    guests = [Guest.of(booking, holder) for booking, holder in rows]
    if as_csv:
        return Response(
            guests_csv(guests),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="event-{event.id}-guests.csv"',
                **NO_STORE,
            },
        )
    listing = Page[Guest].of(guests, total, page)
    return Response(listing.model_dump_json(), media_type="application/json", headers=NO_STORE)


@router.post(
    "/events/{event_id}/check-in",
    responses=problem_responses(*ROLE_ERRORS, NotFound, AlreadyCheckedIn, BookingNotConfirmed),
)
async def check_in(
    event: ManagedEvent, user: CurrentOrganizer, body: CheckInRequest, session: Session
) -> BookingRead:
    """Checks in the confirmed booking with this ticket code (or one ticket with its own code)
    at the event's first check-in list."""
    scanner = door.Scanner(user_id=user.id)
    booking_id = await door.check_in_party(session, event.id, body.ticket_code, scanner)
    return BookingRead.model_validate(await service.get(session, booking_id))
