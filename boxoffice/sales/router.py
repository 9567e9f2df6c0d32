from fastapi import APIRouter, Depends, Response

from boxoffice.auth.dependencies import ROLE_ERRORS
from boxoffice.db import Session
from boxoffice.errors import NotFound, problem_responses
from boxoffice.events.dependencies import ManagedEvent
from boxoffice.sales import service
from boxoffice.sales.schemas import Chart, SalesRead
from boxoffice.security import NO_STORE, no_store

router = APIRouter(
    prefix="/events/{event_id}/sales", tags=["sales"], dependencies=[Depends(no_store)]
)

SVG = "image/svg+xml"


@router.get("", responses=problem_responses(*ROLE_ERRORS, NotFound))
async def sales(event: ManagedEvent, session: Session) -> SalesRead:
    """The event's sales, for its organizer and admins: seats sold and held, the money kept,
    refunded, owed back (manual payments) and awaited, by day (in the event's time zone) and by
    ticket type."""
    return await service.report(session, event)


@router.get(
    "/{chart}.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}, **problem_responses(*ROLE_ERRORS, NotFound)},
)
async def sales_chart(event: ManagedEvent, chart: Chart, session: Session) -> Response:
    """One of the sales figures as a bar chart drawn by the server (SVG, 600 × 300): an image
    with a title and a description that states every number, no script and no link."""
    return Response(
        await service.chart(session, event, chart),
        media_type=SVG,
        # The chart holds names organizers typed: should its escaping ever fail, a browser that
        # opens it on its own still runs nothing and fetches nothing.
        headers={**NO_STORE, "Content-Security-Policy": "default-src 'none'"},
    )
