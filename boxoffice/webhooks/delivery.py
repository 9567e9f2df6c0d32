"""The worker that delivers webhook messages: claim the heads of the webhooks' lines, post each
outside any transaction (a few at once), record every attempt.

Delivery is at least once: a worker that dies mid-delivery holds its claims only until their
lease runs out, then another delivers them, with the same `webhook-id`. Every attempt connects
to an address checked just before (addresses.check): a name that now resolves into a private
network is refused, not posted to.
"""

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook as Signer

from boxoffice.db import transaction, utcnow
from boxoffice.notifications.worker import Clock, worker_name
from boxoffice.settings import Settings
from boxoffice.webhooks import addresses, repository
from boxoffice.webhooks.addresses import Resolver
from boxoffice.webhooks.models import MessageStatus, Webhook, WebhookDelivery, WebhookMessage

logger = logging.getLogger("boxoffice.webhooks")

TIMEOUT_SECONDS = 10
_ERROR_LENGTH = 500


@dataclass(frozen=True)
class Attempt:
    message_id: int
    webhook_id: int
    attempts_before: int
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signature(webhook: Webhook, msg_id: str, at: datetime, body: str) -> str:
    """`webhook-signature`: with the current secret, and for a day after a rotation with the
    one before as well, space-separated, so receivers can switch secrets without a gap."""
    signatures = [Signer(webhook.secret).sign(msg_id, at, body)]
    if (
        webhook.previous_secret
        and webhook.previous_secret_until
        and webhook.previous_secret_until > at
    ):
        signatures.append(Signer(webhook.previous_secret).sign(msg_id, at, body))
    return " ".join(signatures)


class Deliverer:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        resolver: Resolver = addresses.system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = utcnow,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.resolver = resolver
        self.clock = clock
        self.name = name or worker_name()
        self._claims = itertools.count(1)
        self._gate = asyncio.Semaphore(settings.webhook_concurrency)
        # One client, one pool of connections, for every delivery of this worker.
        self.client = httpx.AsyncClient(
            transport=transport,
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=settings.webhook_concurrency * 2),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def run(self, stop: asyncio.Event) -> None:
        """Delivers until `stop` is set; the batch under way is finished first."""
        logger.info("webhook worker started", extra={"worker": self.name})
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception:
                logger.exception("webhook worker pass failed", extra={"worker": self.name})
                claimed = 0
            if claimed < self.settings.worker_batch_size:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.worker_poll_seconds)
        logger.info("webhook worker stopped", extra={"worker": self.name})

    async def run_once(self) -> int:
        """One batch: claim, deliver (webhook_concurrency at once), record each attempt as it
        ends. Returns how many messages were claimed."""
        token = f"{self.name}:{next(self._claims)}"
        now = self.clock()
        async with transaction(self.sessionmaker) as session:
            ids = await repository.claim(
                session,
                token,
                now=now,
                lease_until=now + timedelta(seconds=self.settings.worker_lease_seconds),
                limit=self.settings.worker_batch_size,
            )
        if not ids:
            return 0
        try:
            async with self.sessionmaker() as session:
                rows = (
                    await session.execute(
                        select(WebhookMessage, Webhook)
                        .join(Webhook, Webhook.id == WebhookMessage.webhook_id)
                        .where(WebhookMessage.id.in_(ids))
                    )
                ).all()
            await asyncio.gather(*(self._deliver(token, m, w) for m, w in rows))
        finally:
            await asyncio.shield(self._release(token))
        return len(ids)

    async def _deliver(self, token: str, message: WebhookMessage, webhook: Webhook) -> None:
        async with self._gate:
            attempt = await self._post(message, webhook)
        await self._record(token, attempt)

    async def _post(self, message: WebhookMessage, webhook: Webhook) -> Attempt:
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        try:
            target = await addresses.check(
                webhook.url, self.resolver, allow_private=self.settings.webhooks_allow_private
            )
            at = self.clock()
            msg_id = f"msg_{message.id}"
            answer = await self.client.post(
                target.connect_url,
                content=message.body.encode(),
                headers=target.headers
                | {
                    "content-type": "application/json",
                    "user-agent": "boxoffice-webhooks",
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(int(at.timestamp())),
                    "webhook-signature": signature(webhook, msg_id, at, message.body),
                },
                extensions=target.extensions,
            )
            status_code = answer.status_code
            if not 200 <= status_code < 300:
                error = f"answered {status_code}"
        except Exception as failure:  # any failure is an attempt that will be retried
            error = getattr(failure, "detail", None) or str(failure) or repr(failure)
        duration_ms = round((time.monotonic() - started) * 1000)
        return Attempt(message.id, webhook.id, message.attempts, status_code, duration_ms, error)

    async def _record(self, token: str, attempt: Attempt) -> None:
        now = self.clock()
        attempts = attempt.attempts_before + 1
        changes: dict[str, object] = {
            "attempts": attempts,
            "claimed_until": None,
            "claimed_by": None,
        }
        schedule = self.settings.webhook_retry_schedule
        if attempt.delivered:
            changes |= {"status": MessageStatus.SENT, "sent_at": now}
        elif attempts > len(schedule):
            changes["status"] = MessageStatus.FAILED
        else:
            changes["due_at"] = now + timedelta(seconds=schedule[attempts - 1])
        async with transaction(self.sessionmaker) as session:
            session.add(
                WebhookDelivery(
                    webhook_id=attempt.webhook_id,
                    message_id=attempt.message_id,
                    status_code=attempt.status_code,
                    duration_ms=attempt.duration_ms,
                    error=None if attempt.error is None else attempt.error[:_ERROR_LENGTH],
                    created_at=now,
                )
            )
            await session.execute(
                update(WebhookMessage)
                .where(WebhookMessage.id == attempt.message_id, WebhookMessage.claimed_by == token)
                .values(changes)
            )
            if attempt.status_code == 410:
                # Gone: the receiver asks for nothing more. Its messages wait, should its owner
                # enable it again.
                webhook = await session.get_one(Webhook, attempt.webhook_id)
                webhook.enabled = False
                await session.flush()
                await repository.refresh_flags(session, webhook)

    async def _release(self, token: str) -> None:
        async with transaction(self.sessionmaker) as session:
            await repository.release(session, token)


@asynccontextmanager
async def in_background(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], resolver: Resolver
) -> AsyncIterator[None]:
    """Runs a webhook worker beside the server (BOXOFFICE_WORKER_ENABLED), like the e-mail's."""
    if not settings.worker_enabled:
        yield
        return
    stop = asyncio.Event()
    deliverer = Deliverer(settings, sessionmaker, resolver=resolver)
    task = asyncio.create_task(deliverer.run(stop))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, TIMEOUT_SECONDS + 5)
        except TimeoutError:
            logger.warning("webhook worker cancelled at shutdown")
        await deliverer.aclose()
