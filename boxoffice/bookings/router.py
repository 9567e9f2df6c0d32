from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from boxoffice import metrics
from boxoffice.auth.dependencies import CurrentAttendee, CurrentOrganizer, CurrentUser
from boxoffice.bookings import idempotency, service
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
from boxoffice.errors import DomainError, problem_responses
from boxoffice.events import service as events_service
from boxoffice.ratelimit import Limit, per_user
from boxoffice.schemas import IdInPath, Page, Pagination

router = APIRouter(tags=["bookings"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="repeat a request safely: the same key and body within 24 h books once",
    ),
]


@router.post(
    "/bookings",
    status_code=201,
    response_model=BookingRead,
    dependencies=[Depends(per_user(Limit.BOOKINGS))],
    responses=problem_responses(401, 403, 404, 409),
)
async def create_booking(
    body: BookingCreate,
    attendee: CurrentAttendee,
    session: Session,
    sessionmaker: SessionFactory,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def book() -> Answer:
        try:
            booking = await service.book(
                session,
                attendee,
                event_id=body.event_id,
                seats=body.seats,
                join_waitlist=body.join_waitlist,
            )
        except DomainError as refusal:
            metrics.booking_outcome(refusal.code)
            raise
        metrics.booking_outcome(booking.status)
        return Answer(201, BookingRead.model_validate(booking).model_dump(mode="json"))

    answer = await idempotency.run_once(
        sessionmaker,
        session,
        user_id=attendee.id,
        key=idempotency_key,
        request_fingerprint=idempotency.fingerprint("POST", "/bookings", body.model_dump()),
        action=book,
    )
    return answer.response()


@router.get("/bookings/me", responses=problem_responses(401, 403))
async def my_bookings(
    filters: Annotated[MyBookingFilters, Query()],
    page: Pagination,
    attendee: CurrentAttendee,
    session: Session,
) -> Page[BookingRead]:
    bookings, total = await service.list_mine(
        session, attendee, page, status=filters.status, upcoming_only=filters.upcoming_only
    )
    return Page.of([BookingRead.model_validate(b) for b in bookings], total, page)


@router.get("/bookings/{booking_id}", responses=problem_responses(401, 404))
async def read_booking(booking_id: IdInPath, user: CurrentUser, session: Session) -> BookingRead:
    return BookingRead.model_validate(await service.get_visible(session, booking_id, user))


@router.delete("/bookings/{booking_id}", responses=problem_responses(401, 403, 404, 409))
async def cancel_booking(booking_id: IdInPath, user: CurrentUser, session: Session) -> BookingRead:
    return BookingRead.model_validate(await service.cancel(session, booking_id, user))


@router.get(
    "/events/{event_id}/bookings",
    response_model=Page[Guest],
    responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403, 404)},
)
async def guest_list(
    event_id: IdInPath,
    filters: Annotated[GuestListFilters, Query()],
    page: Pagination,
    request: Request,
    user: CurrentOrganizer,
    session: Session,
) -> Response:
    event = await events_service.get_managed(session, event_id, user)
    as_csv = filters.format == "csv" or (
        filters.format is None and "text/csv" in request.headers.get("accept", "")
    )
    rows, total = await service.guest_list(
        session, event, filters.status, page=None if as_csv else page
    )
    guests = [
        Guest(
            booking_id=booking.id,
            user_id=guest.id,
            full_name=guest.full_name,
            email=guest.email,
            seats=booking.seats,
            status=booking.status,
            ticket_code=booking.ticket_code,
            created_at=booking.created_at,
            checked_in_at=booking.checked_in_at,
        )
        for booking, guest in rows
    ]
    if as_csv:
        return Response(
            guests_csv(guests),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="event-{event.id}-guests.csv"'},
        )
    listing = Page[Guest].of(guests, total, page)
    return Response(listing.model_dump_json(), media_type="application/json")


@router.post("/events/{event_id}/check-in", responses=problem_responses(401, 403, 404, 409))
async def check_in(
    event_id: IdInPath, body: CheckInRequest, user: CurrentOrganizer, session: Session
) -> BookingRead:
    event = await events_service.get_managed(session, event_id, user)
    return BookingRead.model_validate(await service.check_in(session, event, body.ticket_code))
