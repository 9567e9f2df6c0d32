from typing import Annotated

from fastapi import Depends, Request

from boxoffice.auth.dependencies import CurrentOrganizer
from boxoffice.db import Session
from boxoffice.schemas import IdInPath
from boxoffice.webhooks import service
from boxoffice.webhooks.addresses import Resolver
from boxoffice.webhooks.models import Webhook


async def _resolver(request: Request) -> Resolver:
    resolver: Resolver = request.app.state.webhook_resolver
    return resolver


WebhookResolver = Annotated[Resolver, Depends(_resolver)]


async def _own_webhook(webhook_id: IdInPath, user: CurrentOrganizer, session: Session) -> Webhook:
    return await service.get(session, webhook_id, user)


# `{webhook_id}` as the caller may manage it: their own, or any for an admin; 404 otherwise.
OwnWebhook = Annotated[Webhook, Depends(_own_webhook)]
