from typing import Annotated

from fastapi import APIRouter, Query

from boxoffice.auth.dependencies import ROLE_ERRORS, OptionalUser
from boxoffice.catalogue import service
from boxoffice.catalogue.errors import LastTicketType, QuotaBelowTaken, TicketTypeInUse
from boxoffice.catalogue.schemas import (
    QuotaCreate,
    QuotaRead,
    QuotaUpdate,
    TicketTypeCreate,
    TicketTypeRead,
    TicketTypeUpdate,
)
from boxoffice.db import Session
from boxoffice.errors import InvalidToken, NotFound, problem_responses
from boxoffice.events.dependencies import ManagedEvent, VisibleEvent
from boxoffice.events.errors import EventNotEditable
from boxoffice.schemas import IdInPath, Items

router = APIRouter(prefix="/events/{event_id}", tags=["ticket types and quotas"])

# What a route that changes the catalogue of an event the caller manages can refuse with.
_CHANGE = (*ROLE_ERRORS, NotFound, EventNotEditable)

AccessCode = Annotated[
    str | None,
    Query(max_length=64, description="shows the hidden ticket types this code unlocks"),
]


@router.get("/ticket-types", responses=problem_responses(InvalidToken, NotFound))
async def list_ticket_types(
    event: VisibleEvent, viewer: OptionalUser, session: Session, access_code: AccessCode = None
) -> Items[TicketTypeRead]:
    """The event's ticket types in display order, for anyone who may read the event. Hidden
    types only with their `access_code`, or for the event's organizer and admins, who also see
    every type's code."""
    return Items(items=await service.list_types(session, event, viewer, access_code))


@router.post("/ticket-types", status_code=201, responses=problem_responses(*_CHANGE))
async def create_ticket_type(
    event: ManagedEvent, body: TicketTypeCreate, session: Session
) -> TicketTypeRead:
    """Adds a ticket type (by default after the last one); its price is in the event's
    currency."""
    return await service.add_type(session, event.id, body)


@router.patch("/ticket-types/{type_id}", responses=problem_responses(*_CHANGE))
async def edit_ticket_type(
    event: ManagedEvent, type_id: IdInPath, body: TicketTypeUpdate, session: Session
) -> TicketTypeRead:
    """Changes any field of a ticket type; a new price applies to bookings made afterwards."""
    return await service.edit_type(session, event.id, type_id, body.changes())


@router.delete(
    "/ticket-types/{type_id}",
    status_code=204,
    responses=problem_responses(*_CHANGE, TicketTypeInUse, LastTicketType),
)
async def delete_ticket_type(event: ManagedEvent, type_id: IdInPath, session: Session) -> None:
    """Removes a ticket type that was never booked (one that was: hide it or end its sale), as
    long as the event keeps another."""
    await service.remove_type(session, event.id, type_id)


@router.get("/quotas", responses=problem_responses(*ROLE_ERRORS, NotFound))
async def list_quotas(event: ManagedEvent, session: Session) -> Items[QuotaRead]:
    """The event's quotas, oldest first, with the seats their ticket types hold."""
    return Items(items=await service.list_quotas(session, event.id))


@router.post("/quotas", status_code=201, responses=problem_responses(*_CHANGE, QuotaBelowTaken))
async def create_quota(event: ManagedEvent, body: QuotaCreate, session: Session) -> QuotaRead:
    """Adds a limit shared by some of the event's ticket types. Its size must hold the seats
    those types already hold."""
    return await service.add_quota(session, event.id, body)


@router.patch("/quotas/{quota_id}", responses=problem_responses(*_CHANGE, QuotaBelowTaken))
async def edit_quota(
    event: ManagedEvent, quota_id: IdInPath, body: QuotaUpdate, session: Session
) -> QuotaRead:
    """Renames, resizes or regroups a quota; never below the seats its types hold. A larger
    size, or fewer types, serves the waiting list."""
    return await service.edit_quota(session, event.id, quota_id, body.changes())


@router.delete("/quotas/{quota_id}", status_code=204, responses=problem_responses(*_CHANGE))
async def delete_quota(event: ManagedEvent, quota_id: IdInPath, session: Session) -> None:
    """Removes a quota; the room it frees serves the waiting list."""
    await service.remove_quota(session, event.id, quota_id)
