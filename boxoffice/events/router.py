from typing import Annotated

from fastapi import APIRouter, Query, Response

from boxoffice.auth.dependencies import (
    ROLE_ERRORS,
    CurrentOrganizer,
    OptionalUser,
    VerifiedOrganizer,
)
from boxoffice.db import Session
from boxoffice.errors import InvalidToken, InvalidTransition, NotFound, problem_responses
from boxoffice.events import service
from boxoffice.events.calendar import calendar_file
from boxoffice.events.dependencies import ManagedEvent, VisibleEvent
from boxoffice.events.errors import CapacityBelowBooked, EventNotEditable
from boxoffice.events.schemas import EventCreate, EventFilters, EventRead, EventUpdate
from boxoffice.schemas import Page, Pagination
from boxoffice.users.errors import EmailNotVerified

router = APIRouter(prefix="/events", tags=["events"])

# A route that resolves an event the caller manages (ManagedEvent) can refuse with these.
_MANAGED = (*ROLE_ERRORS, NotFound)


@router.get("", responses=problem_responses(*ROLE_ERRORS))
async def list_events(
    filters: Annotated[EventFilters, Query()],
    page: Pagination,
    viewer: OptionalUser,
    session: Session,
) -> Page[EventRead]:
    """Published events, upcoming ones by default, in a stable order.

    `mine=true` lists the caller's own events of every status instead (organizers and admins),
    and only then may `status` narrow them."""
    events, total = await service.list_events(session, filters, page, viewer)
    return Page.of(events, total, page)


@router.post("", status_code=201, responses=problem_responses(*ROLE_ERRORS, EmailNotVerified))
async def create_event(
    body: EventCreate, organizer: VerifiedOrganizer, session: Session
) -> EventRead:
    """Creates an event of the caller's, as a draft unless `status` is `published`, with the
    ticket types asked for (by default one, "General admission", free)."""
    event = await service.create(session, organizer, body)
    return await service.read(session, event, organizer)


@router.get("/{event_id}", responses=problem_responses(InvalidToken, NotFound))
async def read_event(event: VisibleEvent, viewer: OptionalUser, session: Session) -> EventRead:
    """One event: published and cancelled ones for anyone, drafts for their organizer and admins."""
    return await service.read(session, event, viewer)


@router.patch(
    "/{event_id}",
    responses=problem_responses(*_MANAGED, CapacityBelowBooked, EventNotEditable),
)
async def edit_event(
    event: ManagedEvent, body: EventUpdate, user: CurrentOrganizer, session: Session
) -> EventRead:
    """Changes any of the create fields but `status`, `currency` and `ticket_types` (those have
    routes of their own). A larger capacity serves the waiting list."""
    edited = await service.edit(session, event, body.changes())
    return await service.read(session, edited, user)


@router.post("/{event_id}/publish", responses=problem_responses(*_MANAGED, InvalidTransition))
async def publish_event(event: ManagedEvent, user: CurrentOrganizer, session: Session) -> EventRead:
    """Makes a draft public and bookable; an event already published stays as it is."""
    return await service.read(session, await service.publish(session, event), user)


@router.post("/{event_id}/cancel", responses=problem_responses(*_MANAGED))
async def cancel_event(event: ManagedEvent, user: CurrentOrganizer, session: Session) -> EventRead:
    """Cancels the event and every confirmed and waitlisted booking of it."""
    return await service.read(session, await service.cancel(session, event, user), user)


@router.delete("/{event_id}", status_code=204, responses=problem_responses(*_MANAGED))
async def delete_event(event: ManagedEvent, user: CurrentOrganizer, session: Session) -> None:
    """Removes the event from every listing (cancelling it first if it has bookings); the
    bookings keep their history."""
    await service.delete(session, event, user)


@router.get(
    "/{event_id}/calendar.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}},
        **problem_responses(InvalidToken, NotFound),
    },
)
async def event_calendar(event: VisibleEvent) -> Response:
    """The event as an iCalendar file (RFC 5545), in its own time zone."""
    return Response(
        calendar_file(event),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'},
    )
