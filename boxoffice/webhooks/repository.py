"""The webhooks' statements: who sees which, the events' `has_webhooks` flags, and the outbox's
claims, recordings and releases for the delivery worker.

Claims are leases, as in the e-mail outbox (notifications.repository): a claimed row carries
`claimed_by` and `claimed_until`, committed at once; another worker skips it until the lease
runs out and takes it over then. Only the head of each webhook's line is ever claimed (its
oldest pending message), so a webhook's messages go one at a time, in order, and a message
waiting for its retry holds back the ones after it.
"""

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from boxoffice.events.models import Event
from boxoffice.users.models import Role, User
from boxoffice.webhooks.models import MessageStatus, Webhook, WebhookMessage


def visible(viewer: User) -> Select[Webhook]:
    """The webhooks this user sees: their own; an admin every one."""
    query = select(Webhook)
    if viewer.role is not Role.ADMIN:
        query = query.where(Webhook.owner_id == viewer.id)
    return query


def _covers(event: type[Event]) -> ColumnElement[bool]:
    return exists().where(
        Webhook.enabled.is_(True),
        or_(
            Webhook.event_id == event.id,
            and_(
                Webhook.event_id.is_(None),
                or_(Webhook.organizer_id == event.organizer_id, Webhook.organizer_id.is_(None)),
            ),
        ),
    )


async def refresh_flags(session: AsyncSession, webhook: Webhook) -> None:
    """Sets `has_webhooks` of the events in this webhook's scope to whether any enabled webhook
    covers each now; only the rows whose flag changes are written."""
    if webhook.event_id is not None:
        scope: ColumnElement[bool] = Event.id == webhook.event_id
    elif webhook.organizer_id is not None:
        scope = Event.organizer_id == webhook.organizer_id
    else:
        scope = true()
    covered = _covers(Event)
    await session.execute(
        update(Event)
        .where(scope, Event.has_webhooks != covered)
        .values(has_webhooks=covered)
        .execution_options(synchronize_session=False)
    )


def _heads(now: datetime) -> Select[int]:
    earlier = aliased(WebhookMessage)
    return (
        select(WebhookMessage.id)
        .join(Webhook, Webhook.id == WebhookMessage.webhook_id)
        .where(
            WebhookMessage.status == MessageStatus.PENDING,
            WebhookMessage.due_at <= now,
            or_(WebhookMessage.claimed_until.is_(None), WebhookMessage.claimed_until < now),
            Webhook.enabled.is_(True),
            ~exists().where(
                earlier.webhook_id == WebhookMessage.webhook_id,
                earlier.status == MessageStatus.PENDING,
                earlier.id < WebhookMessage.id,
            ),
        )
        .order_by(WebhookMessage.due_at, WebhookMessage.id)
    )


async def claim(
    session: AsyncSession, token: str, *, now: datetime, lease_until: datetime, limit: int
) -> list[int]:
    """Leases up to `limit` messages, each the head of its webhook's line and due, to `token`."""
    batch = _heads(now).limit(limit)
    lease = update(WebhookMessage).values(claimed_until=lease_until, claimed_by=token)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # A plain read first, so that an idle poll does not take the write lock.
        if (await session.execute(batch.limit(1))).first() is None:
            return []
        await session.execute(lease.where(WebhookMessage.id.in_(batch.scalar_subquery())))
        mine = select(WebhookMessage.id).where(WebhookMessage.claimed_by == token)
        return list((await session.scalars(mine)).all())
    # PostgreSQL locks only the messages; MariaDB has no FOR UPDATE OF, and briefly locks the
    # webhook rows too.
    of = WebhookMessage if dialect == "postgresql" else None
    ids = list((await session.scalars(batch.with_for_update(skip_locked=True, of=of))).all())
    if ids:
        await session.execute(lease.where(WebhookMessage.id.in_(ids)))
    return ids


async def release(session: AsyncSession, token: str) -> None:
    """Gives back whatever `token` still holds, due again at once."""
    await session.execute(
        update(WebhookMessage)
        .where(WebhookMessage.claimed_by == token)
        .values(claimed_until=None, claimed_by=None)
    )
