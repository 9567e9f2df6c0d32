from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.payments.stripe import StripeProvider
from boxoffice.settings import Settings
from tests.conftest import make_settings
from tests.stripe_server import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    WebhookReceiver,
    localstripe_server,
    register_webhook,
    webhook_receiver,
)


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    """A localstripe server for the session; its base URL, the `stripe_api_base`."""
    with localstripe_server() as base_url:
        yield base_url


@pytest.fixture
async def stripe_provider(localstripe: str) -> AsyncIterator[StripeProvider]:
    provider = StripeProvider(SECRET_KEY, WEBHOOK_SECRET, localstripe)
    yield provider
    await provider.aclose()


@pytest.fixture
async def webhooks(localstripe: str) -> AsyncIterator[WebhookReceiver]:
    """Where localstripe sends this test's payment events."""
    async with webhook_receiver() as receiver:
        await register_webhook(localstripe, receiver.url)
        yield receiver


@pytest.fixture(scope="session")
def stripe_settings(database_url: str, localstripe: str) -> Settings:
    """The suite's settings with both providers on, Stripe being localstripe."""
    return make_settings(
        database_url,
        payment_providers=["manual", "stripe"],
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=localstripe,
        stripe_publishable_key="pk_test_boxoffice",
    )


@pytest.fixture(scope="session")
async def stripe_app(stripe_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(stripe_settings)
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def stripe_client(stripe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=stripe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
