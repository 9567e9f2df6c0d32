"""The rules of webhooks (SPEC §12): who registers which, what they see, and the messages a
registration asks for by hand (ping, retry)."""

import base64
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.db import utcnow
from boxoffice.errors import NotFound
from boxoffice.events import service as events
from boxoffice.schemas import PageParams
from boxoffice.users.models import Role, User
from boxoffice.webhooks import addresses, repository
from boxoffice.webhooks.addresses import Resolver
from boxoffice.webhooks.models import (
    PING,
    MessageStatus,
    Webhook,
    WebhookDelivery,
    WebhookMessage,
    mask_of,
    types_of,
)
from boxoffice.webhooks.outbox import body
from boxoffice.webhooks.schemas import (
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

# After a rotation, how long the old secret still signs (SPEC §12).
ROTATION_OVERLAP = timedelta(hours=24)


def new_secret() -> str:
    """`whsec_` and 24 random bytes in base64, as Standard Webhooks has it."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def read(webhook: Webhook) -> WebhookRead:
    return WebhookRead(
        id=webhook.id,
        url=webhook.url,
        events=types_of(webhook.events_mask),
        event_id=webhook.event_id,
        enabled=webhook.enabled,
        created_at=webhook.created_at,
    )


async def create(
    session: AsyncSession,
    owner: User,
    wanted: WebhookCreate,
    resolver: Resolver,
    *,
    allow_private: bool,
) -> WebhookCreated:
    """A webhook for one event the owner manages, or for all their events (an admin's: all)."""
    if wanted.event_id is not None:
        await events.get_managed(session, wanted.event_id, owner)
    await addresses.check(wanted.url, resolver, allow_private=allow_private)
    secret = new_secret()
    everything = wanted.event_id is None
    webhook = Webhook(
        owner_id=owner.id,
        event_id=wanted.event_id,
        organizer_id=owner.id if everything and owner.role is not Role.ADMIN else None,
        url=wanted.url,
        events_mask=mask_of(wanted.events),
        secret=secret,
        enabled=True,
        created_at=utcnow(),
    )
    session.add(webhook)
    await session.flush()
    await repository.refresh_flags(session, webhook)
    return WebhookCreated(**read(webhook).model_dump(), secret=secret)


async def list_webhooks(
    session: AsyncSession, viewer: User, page: PageParams
) -> tuple[Sequence[Webhook], int]:
    query = repository.visible(viewer)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    found = await session.scalars(query.order_by(Webhook.id).limit(page.limit).offset(page.offset))
    return found.all(), int(total or 0)


async def get(session: AsyncSession, webhook_id: int, viewer: User) -> Webhook:
    """The webhook if the viewer owns it or is an admin; for anyone else it does not exist."""
    found = await session.scalar(repository.visible(viewer).where(Webhook.id == webhook_id))
    if found is None:
        raise NotFound(f"there is no webhook {webhook_id}")
    return found


async def update(
    session: AsyncSession,
    webhook: Webhook,
    changes: WebhookUpdate,
    resolver: Resolver,
    *,
    allow_private: bool,
) -> Webhook:
    if changes.url is not None:
        await addresses.check(changes.url, resolver, allow_private=allow_private)
        webhook.url = changes.url
    if changes.events is not None:
        webhook.events_mask = mask_of(changes.events)
    if changes.enabled is not None:
        webhook.enabled = changes.enabled
    await session.flush()
    await repository.refresh_flags(session, webhook)
    return webhook


async def remove(session: AsyncSession, webhook: Webhook) -> None:
    """The webhook goes, with its undelivered messages and its delivery log."""
    await session.execute(delete(WebhookMessage).where(WebhookMessage.webhook_id == webhook.id))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    await session.delete(webhook)
    await session.flush()
    webhook.enabled = False
    await repository.refresh_flags(session, webhook)


async def rotate_secret(session: AsyncSession, webhook: Webhook) -> SecretRotated:
    now = utcnow()
    webhook.previous_secret = webhook.secret
    webhook.previous_secret_until = now + ROTATION_OVERLAP
    webhook.secret = new_secret()
    await session.flush()
    return SecretRotated(secret=webhook.secret, previous_valid_until=webhook.previous_secret_until)


async def deliveries(
    session: AsyncSession, webhook: Webhook, page: PageParams
) -> tuple[Sequence[WebhookDelivery], int]:
    """The webhook's delivery attempts, newest first."""
    mine = WebhookDelivery.webhook_id == webhook.id
    total = await session.scalar(select(func.count()).where(mine))
    found = await session.scalars(
        select(WebhookDelivery)
        .where(mine)
        .order_by(WebhookDelivery.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    return found.all(), int(total or 0)


async def retry(session: AsyncSession, webhook: Webhook, delivery_id: int) -> WebhookMessage:
    """Sends the message of that attempt again, now, under the same `webhook-id`."""
    message = await session.scalar(
        select(WebhookMessage)
        .join(WebhookDelivery, WebhookDelivery.message_id == WebhookMessage.id)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook.id)
    )
    if message is None:
        raise NotFound(f"webhook {webhook.id} has no delivery {delivery_id}")
    message.status = MessageStatus.PENDING
    message.due_at = utcnow()
    await session.flush()
    return message


async def ping(session: AsyncSession, webhook: Webhook) -> WebhookMessage:
    """A `webhook.ping` message to this webhook alone, delivered like any other."""
    now = utcnow()
    message = WebhookMessage(
        webhook_id=webhook.id,
        type=PING,
        body=body(PING, {"webhook_id": webhook.id}, now),
        status=MessageStatus.PENDING,
        attempts=0,
        due_at=now,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    return message
