"""The webhook outbox: what the services call when a change is news to the webhooks of its event.

A message is written in the caller's transaction, one row per enabled webhook that covers the
event and wants the type, in one INSERT ... SELECT; a change that rolls back sends nothing. The
body is rendered here, so it is the resource as it was at the change, and every retry sends
the same bytes. An event that no webhook covers (`Event.has_webhooks`, on the row the change
already holds) costs nothing: no rendering, no statement.
"""

import json
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import ColumnElement, ScalarSelect, and_, exists, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.webhooks.models import (
    MessageStatus,
    Webhook,
    WebhookEventType,
    WebhookMessage,
)


def wanted(event: Event | None) -> bool:
    """Whether a change of this event may have webhooks to tell: render nothing otherwise."""
    return event is not None and event.has_webhooks


async def event_of(session: AsyncSession, event_id: int) -> Event | None:
    # The change holds the event's row, so it is in the session: no query then.
    return await session.get(Event, event_id)


def covering(
    event_id: int | ColumnElement[int], organizer_id: int | ColumnElement[int]
) -> ColumnElement[bool]:
    """The enabled webhooks whose scope takes in this event: the event's own, its organizer's
    for all their events, and the admins' for every event."""
    return and_(
        Webhook.enabled.is_(True),
        or_(
            Webhook.event_id == event_id,
            and_(
                Webhook.event_id.is_(None),
                or_(Webhook.organizer_id == organizer_id, Webhook.organizer_id.is_(None)),
            ),
        ),
    )


async def tell(
    session: AsyncSession, event_id: int, kind: WebhookEventType, render: Callable[[], BaseModel]
) -> None:
    """`write` for a change whose caller has the event's id: `render` runs only when wanted."""
    event = await event_of(session, event_id)
    if event is not None and wanted(event):
        await write(session, event, kind, render())


def covers_new_event(organizer_id: int) -> ScalarSelect[bool]:
    """`has_webhooks` of an event the organizer creates now: whether a webhook for all their
    events, or an admin's for every event, is enabled."""
    return select(
        exists().where(
            Webhook.enabled.is_(True),
            Webhook.event_id.is_(None),
            or_(Webhook.organizer_id == organizer_id, Webhook.organizer_id.is_(None)),
        )
    ).scalar_subquery()


def body(kind: str, data: object, at: datetime) -> str:
    return json.dumps(
        {"type": kind, "timestamp": at.isoformat(), "data": data}, separators=(",", ":")
    )


async def write(
    session: AsyncSession, event: Event, kind: WebhookEventType, data: BaseModel
) -> None:
    """One message of `kind` about `data` for every webhook of `event` that wants it."""
    now = utcnow()
    columns = WebhookMessage.__table__.c
    fixed = {
        "type": kind.value,
        "body": body(kind.value, data.model_dump(mode="json"), now),
        "status": MessageStatus.PENDING,
        "attempts": 0,
        "due_at": now,
        "created_at": now,
    }
    rows = select(
        Webhook.id,
        *(literal(value, columns[name].type) for name, value in fixed.items()),
    ).where(
        covering(event.id, event.organizer_id),
        Webhook.events_mask.op("&")(kind.bit) != 0,
    )
    await session.execute(insert(WebhookMessage).from_select(["webhook_id", *fixed], rows))
