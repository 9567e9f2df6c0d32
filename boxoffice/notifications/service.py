"""What admins may do with the outbox: read it, and send a failed message again."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.db import count_of, utcnow
from boxoffice.errors import InvalidTransition, NotFound
from boxoffice.events.models import Event
from boxoffice.notifications.models import Notification, NotificationKind, NotificationStatus
from boxoffice.notifications.rendering import subject_of
from boxoffice.schemas import PageParams
from boxoffice.users.models import User


@dataclass(frozen=True)
class Message:
    """A message of someone's, as their data export tells it: what, about what, and when."""

    notification: Notification
    subject: str


async def messages_to(session: AsyncSession, user_id: int) -> list[Message]:
    """Every message written to the user that the outbox still holds, oldest first."""
    found = await session.execute(
        select(Notification, Event)
        .join(Event, Event.id == Notification.event_id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id)
    )
    return [Message(n, subject_of(n, e)) for n, e in found.all()]


async def forget_recipient(session: AsyncSession, user_id: int) -> None:
    """Drops what waits to be sent to an erased account, a message a worker holds included (the
    worker reads its status again before sending), and the error texts of its messages, which
    may quote the address a mail server refused."""
    await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.status == NotificationStatus.PENDING)
        .values(status=NotificationStatus.CANCELLED)
    )
    await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.last_error.is_not(None))
        .values(last_error=None)
    )


@dataclass(frozen=True)
class Listed:
    notification: Notification
    recipient: str


def _listing() -> Select[Notification, str]:
    return (
        select(Notification, User.email)
        .join(User, User.id == Notification.user_id)
        .order_by(Notification.id.desc())
    )


async def list_notifications(
    session: AsyncSession,
    page: PageParams,
    *,
    status: NotificationStatus | None,
    kind: NotificationKind | None,
) -> tuple[Sequence[Listed], int]:
    """Newest first; reminders not yet due are pending too."""
    query = _listing()
    if status is not None:
        query = query.where(Notification.status == status)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    total = (await session.execute(count_of(query))).scalar_one()
    rows = await session.execute(query.limit(page.limit).offset(page.offset))
    return [Listed(n, email) for n, email in rows.all()], total


async def retry(session: AsyncSession, notification_id: int) -> Listed:
    """A failed message goes back to pending, due now, with its attempts reset."""
    retried = await session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == NotificationStatus.FAILED,
        )
        .values(
            status=NotificationStatus.PENDING,
            attempts=0,
            due_at=utcnow(),
            claimed_until=None,
            claimed_by=None,
        )
    )
    found = (
        await session.execute(
            _listing()
            .where(Notification.id == notification_id)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if found is None:
        raise NotFound(f"there is no notification {notification_id}")
    if retried.rowcount == 0:  # type: ignore[attr-defined]
        status = found[0].status.value
        raise InvalidTransition(f"only a failed notification can be retried; this one is {status}")
    return Listed(found[0], found[1])


# What /metrics reports. Pending and failed rows are outstanding work, few at any time (a message
# leaves them once sent or retried), while sent and cancelled ones pile up: counting only these
# two reads the range of ix_notifications_due (its first column is the status) that holds them,
# however long the history.
OUTSTANDING = (NotificationStatus.PENDING, NotificationStatus.FAILED)


async def count_outstanding(session: AsyncSession) -> dict[NotificationStatus, int]:
    """How many notifications are pending and how many failed."""
    rows = await session.execute(
        select(Notification.status, func.count())
        .where(Notification.status.in_(OUTSTANDING))
        .group_by(Notification.status)
    )
    counts = dict.fromkeys(OUTSTANDING, 0)
    for status, count in rows.all():
        counts[status] = count
    return counts
