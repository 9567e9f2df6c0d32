from fastapi import APIRouter, Depends

from boxoffice.auth.dependencies import ROLE_ERRORS, CurrentOrganizer
from boxoffice.db import Session
from boxoffice.errors import NotFound, problem_responses
from boxoffice.schemas import IdInPath, Page, Pagination
from boxoffice.security import no_store
from boxoffice.settings import AppSettings
from boxoffice.webhooks import service
from boxoffice.webhooks.dependencies import OwnWebhook, WebhookResolver
from boxoffice.webhooks.errors import WebhookUrlNotAllowed
from boxoffice.webhooks.schemas import (
    DeliveryRead,
    MessageRead,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"], dependencies=[Depends(no_store)])
_ONE = (*ROLE_ERRORS, NotFound)


@router.post("", status_code=201, responses=problem_responses(*_ONE, WebhookUrlNotAllowed))
async def create_webhook(
    body: WebhookCreate,
    user: CurrentOrganizer,
    session: Session,
    settings: AppSettings,
    resolver: WebhookResolver,
) -> WebhookCreated:
    """Registers a URL for one event's changes, or all the caller's events' (an admin's: all).
    The secret that signs its deliveries is in this answer only."""
    return await service.create(
        session, user, body, resolver, allow_private=settings.webhooks_allow_private
    )


@router.get("", responses=problem_responses(*ROLE_ERRORS))
async def list_webhooks(
    page: Pagination, user: CurrentOrganizer, session: Session
) -> Page[WebhookRead]:
    """The caller's webhooks (an admin's: all), oldest first."""
    found, total = await service.list_webhooks(session, user, page)
    return Page.of([service.read(w) for w in found], total, page)


@router.get("/{webhook_id}", responses=problem_responses(*_ONE))
async def read_webhook(webhook: OwnWebhook) -> WebhookRead:
    """One of the caller's webhooks (an admin's: any); its secret is never shown again."""
    return service.read(webhook)


@router.patch("/{webhook_id}", responses=problem_responses(*_ONE, WebhookUrlNotAllowed))
async def update_webhook(
    body: WebhookUpdate,
    webhook: OwnWebhook,
    session: Session,
    settings: AppSettings,
    resolver: WebhookResolver,
) -> WebhookRead:
    """Changes the URL (checked again), the types it wants, or turns it off and on."""
    updated = await service.update(
        session, webhook, body, resolver, allow_private=settings.webhooks_allow_private
    )
    return service.read(updated)


@router.delete("/{webhook_id}", status_code=204, responses=problem_responses(*_ONE))
async def delete_webhook(webhook: OwnWebhook, session: Session) -> None:
    """The webhook, its undelivered messages and its delivery log go."""
    await service.remove(session, webhook)


@router.get("/{webhook_id}/deliveries", responses=problem_responses(*_ONE))
async def list_deliveries(
    webhook: OwnWebhook, page: Pagination, session: Session
) -> Page[DeliveryRead]:
    """Every delivery attempt, newest first: the receiver's status code, how long, why not."""
    found, total = await service.deliveries(session, webhook, page)
    return Page.of([DeliveryRead.model_validate(d) for d in found], total, page)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    responses=problem_responses(*_ONE),
)
async def retry_delivery(
    webhook: OwnWebhook, delivery_id: IdInPath, session: Session
) -> MessageRead:
    """Delivers that attempt's message again, at once, with the same `webhook-id`."""
    return MessageRead.model_validate(await service.retry(session, webhook, delivery_id))


@router.post("/{webhook_id}/ping", status_code=202, responses=problem_responses(*_ONE))
async def ping_webhook(webhook: OwnWebhook, session: Session) -> MessageRead:
    """Queues a `webhook.ping` message for this webhook."""
    return MessageRead.model_validate(await service.ping(session, webhook))


@router.post("/{webhook_id}/rotate-secret", responses=problem_responses(*_ONE))
async def rotate_secret(webhook: OwnWebhook, session: Session) -> SecretRotated:
    """A new secret, shown only now; for 24 hours deliveries are signed with both."""
    return await service.rotate_secret(session, webhook)
