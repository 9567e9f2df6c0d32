"""localstripe, a stateful stand-in for Stripe's API, and what tests do with it: pay an intent
with a test card, receive the webhooks it signs, sign webhooks of their own.

localstripe sends each webhook once, about a second after the change, to every endpoint
registered with it, signed as Stripe signs (`Stripe-Signature: t=...,v1=...`). It ignores
idempotency keys.
"""

import asyncio
import hashlib
import hmac
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from tests.servers import free_port, receiving, wait_until_answering

SECRET_KEY = "sk_test_boxoffice"
WEBHOOK_SECRET = "whsec_boxoffice_test"
PAYMENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed")

CARD_OK = "pm_card_visa"
# Declined when charged (4000000000000341), by Stripe and localstripe alike. Stripe's usual
# 4000000000000002 would not do: localstripe declines it only when it is saved to a customer.
CARD_DECLINED = "pm_card_chargeCustomerFail"

_ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def localstripe_server(startup_seconds: float = 30) -> Iterator[str]:
    """localstripe in a process of its own; yields its base URL, the `stripe_api_base`."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.stripe_server", str(port)],
            cwd=_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # Stripe.js's stand-in: a page that needs no key and changes nothing.
            wait_until_answering(process, log, f"{base_url}/js.stripe.com/v3/", startup_seconds)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _api(localstripe: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=localstripe, auth=(SECRET_KEY, ""), timeout=10)


async def register_webhook(
    localstripe: str,
    url: str,
    *,
    secret: str = WEBHOOK_SECRET,
    events: Sequence[str] | None = PAYMENT_EVENTS,
    name: str = "boxoffice",
) -> None:
    """Has localstripe send `events` (None: all) to `url`, signed with `secret`. Registering
    `name` again replaces its endpoint: localstripe keeps its endpoints for its whole life."""
    async with _api(localstripe) as api:
        response = await api.post(
            f"/_config/webhooks/{name}",
            json={"url": url, "secret": secret, "events": None if events is None else [*events]},
        )
        response.raise_for_status()


async def pay(localstripe: str, payment_intent_id: str, card: str = CARD_OK) -> str:
    """Confirms the intent with a test card, as the payer's browser would; its status after."""
    async with _api(localstripe) as api:
        # localstripe's confirm takes no payment method: it is set first.
        attached = await api.post(
            f"/v1/payment_intents/{payment_intent_id}", data={"payment_method": card}
        )
        attached.raise_for_status()
        confirmed = await api.post(f"/v1/payment_intents/{payment_intent_id}/confirm")
        # A declined card answers 402, as Stripe does.
        if confirmed.status_code != 402:
            confirmed.raise_for_status()
    intent = await stripe_object(localstripe, f"/v1/payment_intents/{payment_intent_id}")
    return str(intent["status"])


async def stripe_object(localstripe: str, path: str, **params: str) -> dict[str, Any]:
    """An object as localstripe has it: `stripe_object(url, "/v1/refunds", payment_intent=id)`."""
    async with _api(localstripe) as api:
        response = await api.get(path, params=params)
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header for `body`, made as Stripe makes it."""
    at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


@dataclass(frozen=True, slots=True)
class Delivery:
    body: bytes
    # Lower-case names, as a server hands them to the application.
    headers: Mapping[str, str]

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event


class WebhookReceiver:
    """An HTTP endpoint that keeps what it is sent and answers 200."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.deliveries: list[Delivery] = []
        self._arrived = asyncio.Condition()

    async def receive(self, request: web.Request) -> web.Response:
        delivery = Delivery(
            body=await request.read(),
            headers={name.lower(): value for name, value in request.headers.items()},
        )
        async with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()
        return web.Response()

    async def delivery(self, event_type: str, object_id: str, seconds: float = 10) -> Delivery:
        """The first `event_type` about `object_id` (a PaymentIntent's id), once it arrives."""

        def found() -> Delivery | None:
            for delivery in self.deliveries:
                event = delivery.event
                if event["type"] == event_type and event["data"]["object"]["id"] == object_id:
                    return delivery
            return None

        async with asyncio.timeout(seconds), self._arrived:
            await self._arrived.wait_for(lambda: found() is not None)
        delivery = found()
        assert delivery is not None
        return delivery


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    """A `WebhookReceiver` on 127.0.0.1, in this event loop, for as long as the block runs."""
    receiver = WebhookReceiver("")
    async with receiving("/webhook", receiver.receive) as url:
        receiver.url = url
        yield receiver


def main() -> None:
    """`python -m tests.stripe_server PORT`: localstripe on 127.0.0.1 only."""
    from localstripe import resources, server

    # localstripe saves its store to one fixed file in /tmp after every write, and loads it at
    # start: runs side by side would share it. The tests want a store that dies with its server.
    resources.store.dump_to_disk = lambda: None
    web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)


if __name__ == "__main__":
    main()
