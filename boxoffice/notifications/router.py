from typing import Annotated

from fastapi import APIRouter, Depends, Query

from boxoffice.auth.dependencies import ROLE_ERRORS, CurrentAdmin
from boxoffice.db import Session
from boxoffice.errors import InvalidTransition, NotFound, problem_responses
from boxoffice.notifications import service
from boxoffice.notifications.models import NotificationStatus
from boxoffice.notifications.schemas import NotificationFilters, NotificationRead
from boxoffice.schemas import IdInPath, Page, Pagination
from boxoffice.security import no_store

router = APIRouter(prefix="/admin/notifications", tags=["admin"], dependencies=[Depends(no_store)])


def _read(listed: service.Listed) -> NotificationRead:
    notification = listed.notification
    return NotificationRead(
        id=notification.id,
        kind=notification.kind,
        recipient=listed.recipient,
        status=notification.status.value,
        attempts=notification.attempts,
        last_error=notification.last_error,
        created_at=notification.created_at,
        sent_at=notification.sent_at,
    )


@router.get("", responses=problem_responses(*ROLE_ERRORS))
async def list_notifications(
    filters: Annotated[NotificationFilters, Query()],
    page: Pagination,
    _admin: CurrentAdmin,
    session: Session,
) -> Page[NotificationRead]:
    """The outbox, newest first: what was sent, what waits, and what failed for good."""
    status = None if filters.status is None else NotificationStatus(filters.status.value)
    listed, total = await service.list_notifications(
        session, page, status=status, kind=filters.kind
    )
    return Page.of([_read(n) for n in listed], total, page)


@router.post(
    "/{notification_id}/retry",
    responses=problem_responses(*ROLE_ERRORS, NotFound, InvalidTransition),
)
async def retry_notification(
    notification_id: IdInPath, _admin: CurrentAdmin, session: Session
) -> NotificationRead:
    """Sends a failed notification again: back to pending, attempts reset."""
    return _read(await service.retry(session, notification_id))
