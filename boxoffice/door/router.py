from typing import Annotated

from fastapi import APIRouter, Query, Response

from boxoffice.auth.dependencies import ROLE_ERRORS
from boxoffice.db import Session
from boxoffice.door import service
from boxoffice.door.dependencies import ManagedList, ScanningList
from boxoffice.door.errors import LastCheckInList
from boxoffice.door.schemas import (
    Arrival,
    Arrivals,
    CheckInListCreate,
    CheckInListRead,
    CheckInListUpdate,
    DoorTickets,
    ScanBatch,
    ScannerKeyCreate,
    ScannerKeyCreated,
    ScannerKeyRead,
    ScanRead,
    ScanRequest,
    ScanResults,
)
from boxoffice.errors import NotFound, problem_responses
from boxoffice.events.dependencies import ManagedEvent
from boxoffice.schemas import IdInPath, Instant, Items

router = APIRouter(tags=["the door"])

_LIST = (*ROLE_ERRORS, NotFound)
SVG = "image/svg+xml"
# Nothing a scanner reads may be kept by a cache between it and us.
_NO_STORE = {"Cache-Control": "no-store"}


@router.get("/events/{event_id}/check-in-lists", responses=problem_responses(*_LIST))
async def list_check_in_lists(event: ManagedEvent, session: Session) -> Items[CheckInListRead]:
    """The event's check-in lists, oldest first (the first is where SPEC §4's check-in scans),
    with live counts."""
    return Items(items=await service.lists_of(session, event))


@router.post(
    "/events/{event_id}/check-in-lists", status_code=201, responses=problem_responses(*_LIST)
)
async def create_check_in_list(
    event: ManagedEvent, body: CheckInListCreate, session: Session
) -> CheckInListRead:
    """Adds an entrance that counts on its own, for some ticket types or all."""
    return await service.create_list(session, event, body)


@router.get("/check-in-lists/{list_id}", responses=problem_responses(*_LIST))
async def get_check_in_list(
    door: ManagedList, session: Session, response: Response
) -> CheckInListRead:
    """The list with its live counts (a scanner key reads them with its tickets)."""
    response.headers.update(_NO_STORE)
    return await service.read_list(session, door)


@router.patch("/check-in-lists/{list_id}", responses=problem_responses(*_LIST))
async def edit_check_in_list(
    door: ManagedList, body: CheckInListUpdate, session: Session
) -> CheckInListRead:
    """Renames the list, changes the types it admits or whether an exit lets a ticket back in;
    who is inside stays as it is."""
    return await service.edit_list(session, door, body.changes())


@router.delete(
    "/check-in-lists/{list_id}",
    status_code=204,
    responses=problem_responses(*_LIST, LastCheckInList),
)
async def delete_check_in_list(door: ManagedList, session: Session) -> None:
    """Removes the list with its scans and scanner keys; an event keeps at least one."""
    await service.delete_list(session, door)


@router.post(
    "/check-in-lists/{list_id}/scans", status_code=201, responses=problem_responses(*_LIST)
)
async def scan(scanning: ScanningList, body: ScanRequest, session: Session) -> ScanRead:
    """Judges one scan: `ok`, or `refused` with its reason (a refusal is an answer, not an
    error). Sent again with the same `nonce`, it gets the first answer and changes nothing."""
    door, scanner = scanning
    return await service.scan(session, door, scanner, body)


@router.post("/check-in-lists/{list_id}/scans/batch", responses=problem_responses(*_LIST))
async def scan_batch(scanning: ScanningList, body: ScanBatch, session: Session) -> ScanResults:
    """Uploads scans made offline: judged in the order of their `scanned_at`, answered in the
    order sent. A second entry while inside is refused unless `force`."""
    door, scanner = scanning
    return ScanResults(results=await service.scan_batch(session, door, scanner, body.scans))


@router.get("/check-in-lists/{list_id}/tickets", responses=problem_responses(*_LIST))
async def door_tickets(
    scanning: ScanningList,
    session: Session,
    response: Response,
    changed_since: Annotated[
        Instant | None, Query(description="the `as_of` of the previous download")
    ] = None,
) -> DoorTickets:
    """Every ticket of the event with its status and whether it is inside through this list,
    for a scanner that may lose the network; with `changed_since`, only what changed."""
    response.headers.update(_NO_STORE)
    door, _ = scanning
    return await service.tickets_for_scanners(session, door, changed_since)


@router.get("/check-in-lists/{list_id}/arrivals", responses=problem_responses(*_LIST))
async def arrivals(door: ManagedList, session: Session, response: Response) -> Arrivals:
    """Seats let in through the list per ten minutes, by the scanners' clocks."""
    response.headers.update(_NO_STORE)
    buckets = await service.arrivals(session, door)
    return Arrivals(items=[Arrival(starts_at=start, seats=seats) for start, seats in buckets])


@router.get(
    "/check-in-lists/{list_id}/arrivals.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}, **problem_responses(*_LIST)},
)
async def arrivals_chart(door: ManagedList, session: Session) -> Response:
    """The arrivals as a bar chart drawn by the server (SVG, 600 × 300), times in the event's
    zone: an image with a title and a description that states every number."""
    return Response(
        await service.arrivals_chart(session, door),
        media_type=SVG,
        headers={**_NO_STORE, "Content-Security-Policy": "default-src 'none'"},
    )


@router.post(
    "/check-in-lists/{list_id}/scanner-keys",
    status_code=201,
    responses=problem_responses(*_LIST),
)
async def create_scanner_key(
    door: ManagedList, body: ScannerKeyCreate, session: Session, response: Response
) -> ScannerKeyCreated:
    """A key for one phone at this list: it scans here and downloads this list's tickets, and
    nothing else. Shown this once; only its hash is kept."""
    response.headers.update(_NO_STORE)
    return await service.add_scanner_key(session, door, body.name)


@router.get("/check-in-lists/{list_id}/scanner-keys", responses=problem_responses(*_LIST))
async def list_scanner_keys(door: ManagedList, session: Session) -> Items[ScannerKeyRead]:
    """The list's keys in force, by name and last use; never the keys themselves."""
    keys = await service.scanner_keys(session, door)
    return Items(items=[ScannerKeyRead.model_validate(key) for key in keys])


@router.delete(
    "/check-in-lists/{list_id}/scanner-keys", status_code=204, responses=problem_responses(*_LIST)
)
async def revoke_all_scanner_keys(door: ManagedList, session: Session) -> None:
    """Revokes every key of the list at once (a phone was lost and nobody knows which)."""
    await service.revoke_scanner_keys(session, door)


@router.delete(
    "/check-in-lists/{list_id}/scanner-keys/{key_id}",
    status_code=204,
    responses=problem_responses(*_LIST),
)
async def revoke_scanner_key(door: ManagedList, key_id: IdInPath, session: Session) -> None:
    """Revokes one key: its next request is refused."""
    await service.revoke_scanner_keys(session, door, key_id)
