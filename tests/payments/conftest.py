from collections.abc import AsyncIterator, Iterator

import pytest

from boxoffice.payments.stripe import StripeProvider
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
