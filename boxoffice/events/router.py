from typing import Annotated

from fastapi import APIRouter, Query, Response

from boxoffice.auth.dependencies import CurrentOrganizer, OptionalUser
from boxoffice.db import Session
from boxoffice.errors import problem_responses
from boxoffice.events import service
from boxoffice.events.calendar import calendar_file
from boxoffice.events.schemas import EventCreate, EventFilters, EventRead, EventUpdate
from boxoffice.schemas import IdInPath, Page, Pagination

router = APIRouter(prefix="/events", tags=["events"])

_MANAGE = problem_responses(401, 403, 404)


@router.get("", responses=problem_responses(401, 403))
async def list_events(
    filters: Annotated[EventFilters, Query()],
    page: Pagination,
    viewer: OptionalUser,
    session: Session,
) -> Page[EventRead]:
    events, total = await service.list_events(session, filters, page, viewer)
    return Page.of([EventRead.model_validate(e) for e in events], total, page)


@router.post("", status_code=201, responses=problem_responses(401, 403))
async def create_event(
    body: EventCreate, organizer: CurrentOrganizer, session: Session
) -> EventRead:
    return EventRead.model_validate(await service.create(session, organizer, body))


@router.get("/{event_id}", responses=problem_responses(401, 404))
async def read_event(event_id: IdInPath, viewer: OptionalUser, session: Session) -> EventRead:
    return EventRead.model_validate(await service.get_visible(session, event_id, viewer))


@router.patch("/{event_id}", responses=problem_responses(401, 403, 404, 409))
async def edit_event(
    event_id: IdInPath, body: EventUpdate, user: CurrentOrganizer, session: Session
) -> EventRead:
    event = await service.get_managed(session, event_id, user)
    return EventRead.model_validate(await service.edit(session, event, body.changes()))


@router.post("/{event_id}/publish", responses=problem_responses(401, 403, 404, 409))
async def publish_event(event_id: IdInPath, user: CurrentOrganizer, session: Session) -> EventRead:
    event = await service.get_managed(session, event_id, user)
    return EventRead.model_validate(await service.publish(session, event))


@router.post("/{event_id}/cancel", responses=_MANAGE)
async def cancel_event(event_id: IdInPath, user: CurrentOrganizer, session: Session) -> EventRead:
    event = await service.get_managed(session, event_id, user)
    return EventRead.model_validate(await service.cancel(session, event, user))


@router.delete("/{event_id}", status_code=204, responses=_MANAGE)
async def delete_event(event_id: IdInPath, user: CurrentOrganizer, session: Session) -> None:
    event = await service.get_managed(session, event_id, user)
    await service.delete(session, event, user)


@router.get(
    "/{event_id}/calendar.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **problem_responses(401, 404)},
)
async def event_calendar(event_id: IdInPath, viewer: OptionalUser, session: Session) -> Response:
    event = await service.get_visible(session, event_id, viewer)
    return Response(
        calendar_file(event),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'},
    )
