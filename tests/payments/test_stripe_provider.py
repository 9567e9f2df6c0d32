"""The Stripe provider against localstripe: real PaymentIntents, real signed webhooks."""

import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from boxoffice.payments.models import PaymentStatus
from boxoffice.payments.providers import Callback, Charge, InvalidCallback
from boxoffice.payments.stripe import StripeProvider
from tests.stripe_server import (
    CARD_DECLINED,
    SECRET_KEY,
    WEBHOOK_SECRET,
    Delivery,
    WebhookReceiver,
    pay,
    register_webhook,
    sign,
    stripe_object,
    webhook_receiver,
)


def a_charge(amount_minor: int = 2500, currency: str = "EUR") -> Charge:
    return Charge(
        booking_id=7,
        amount_minor=amount_minor,
        currency=currency,
        reference="BX7-K2P9",
        description="2× Adult, Spring concert",
        idempotency_key=str(uuid.uuid4()),
    )


@pytest.fixture(scope="module")
async def succeeded(localstripe: str) -> AsyncIterator[Delivery]:
    """One real `payment_intent.succeeded` delivery, for the tests that spoil it."""
    provider = StripeProvider(SECRET_KEY, WEBHOOK_SECRET, localstripe)
    async with webhook_receiver() as receiver:
        await register_webhook(localstripe, receiver.url)
        started = await provider.start(a_charge())
        assert started.provider_id is not None
        await pay(localstripe, started.provider_id)
        yield await receiver.delivery("payment_intent.succeeded", started.provider_id)
    await provider.aclose()


async def test_start_makes_a_payment_intent_for_the_amount_and_currency(
    stripe_provider: StripeProvider, localstripe: str
) -> None:
    started = await stripe_provider.start(a_charge(amount_minor=2500, currency="EUR"))

    assert started.status is PaymentStatus.PENDING
    assert started.provider_id is not None
    assert started.client_secret is not None
    assert started.client_secret.startswith(f"{started.provider_id}_secret_")
    intent = await stripe_object(localstripe, f"/v1/payment_intents/{started.provider_id}")
    assert (intent["amount"], intent["currency"]) == (2500, "eur")
    assert intent["metadata"] == {
        "booking_id": "7",
        "reference": "BX7-K2P9",
        "description": "2× Adult, Spring concert",
    }
    assert intent["status"] == "requires_payment_method"


async def test_a_paid_intent_calls_back_confirmed(
    stripe_provider: StripeProvider, localstripe: str, webhooks: WebhookReceiver
) -> None:
    started = await stripe_provider.start(a_charge())
    assert started.provider_id is not None

    assert await pay(localstripe, started.provider_id) == "succeeded"

    delivery = await webhooks.delivery("payment_intent.succeeded", started.provider_id)
    assert stripe_provider.callback(delivery.body, delivery.headers) == Callback(
        event_id=delivery.event["id"],
        provider_id=started.provider_id,
        status=PaymentStatus.CONFIRMED,
    )


async def test_a_declined_card_calls_back_failed(
    stripe_provider: StripeProvider, localstripe: str, webhooks: WebhookReceiver
) -> None:
    started = await stripe_provider.start(a_charge())
    assert started.provider_id is not None

    assert await pay(localstripe, started.provider_id, CARD_DECLINED) == "requires_payment_method"

    delivery = await webhooks.delivery("payment_intent.payment_failed", started.provider_id)
    assert stripe_provider.callback(delivery.body, delivery.headers) == Callback(
        event_id=delivery.event["id"], provider_id=started.provider_id, status=PaymentStatus.FAILED
    )


def test_an_event_of_another_type_means_nothing(stripe_provider: StripeProvider) -> None:
    body = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "charge.succeeded",
            "data": {"object": {"id": "ch_1", "object": "charge"}},
        }
    ).encode()

    assert stripe_provider.callback(body, {"stripe-signature": sign(body)}) is None


def test_the_delivered_body_and_headers_are_accepted(
    stripe_provider: StripeProvider, succeeded: Delivery
) -> None:
    """The control for the tests below: what they spoil is a good delivery."""
    callback = stripe_provider.callback(succeeded.body, succeeded.headers)

    assert callback is not None
    assert callback.status is PaymentStatus.CONFIRMED


def test_a_tampered_body_is_refused(stripe_provider: StripeProvider, succeeded: Delivery) -> None:
    event = succeeded.event
    event["data"]["object"]["amount"] = 1
    tampered = json.dumps(event, indent=2, sort_keys=True).encode()

    with pytest.raises(InvalidCallback):
        stripe_provider.callback(tampered, succeeded.headers)


async def test_a_body_signed_with_another_secret_is_refused(
    localstripe: str, succeeded: Delivery
) -> None:
    provider = StripeProvider(SECRET_KEY, "whsec_another", localstripe)
    try:
        with pytest.raises(InvalidCallback):
            provider.callback(succeeded.body, succeeded.headers)
    finally:
        await provider.aclose()


def test_a_body_without_a_signature_is_refused(
    stripe_provider: StripeProvider, succeeded: Delivery
) -> None:
    headers = {k: v for k, v in succeeded.headers.items() if k != "stripe-signature"}

    with pytest.raises(InvalidCallback):
        stripe_provider.callback(succeeded.body, headers)


def test_a_stale_signature_is_refused(stripe_provider: StripeProvider, succeeded: Delivery) -> None:
    # Stripe's tolerance is five minutes.
    stale = sign(succeeded.body, timestamp=int(time.time()) - 301)

    with pytest.raises(InvalidCallback):
        stripe_provider.callback(succeeded.body, {"stripe-signature": stale})


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b'{"id": "evt_1"'])
def test_a_signed_body_that_is_no_event_is_refused(
    stripe_provider: StripeProvider, body: bytes
) -> None:
    with pytest.raises(InvalidCallback):
        stripe_provider.callback(body, {"stripe-signature": sign(body)})


async def test_refund_gives_the_payment_back(
    stripe_provider: StripeProvider, localstripe: str
) -> None:
    started = await stripe_provider.start(a_charge(amount_minor=2500))
    assert started.provider_id is not None
    await pay(localstripe, started.provider_id)

    refund_id = await stripe_provider.refund(started.provider_id, 2500, "refund-payment-1")

    refund = await stripe_object(localstripe, f"/v1/refunds/{refund_id}")
    assert (refund["payment_intent"], refund["amount"], refund["status"]) == (
        started.provider_id,
        2500,
        "succeeded",
    )
    charge = await stripe_object(localstripe, f"/v1/charges/{refund['charge']}")
    assert (charge["refunded"], charge["amount_refunded"]) == (True, 2500)


async def test_refund_asked_twice_with_one_key_refunds_once(
    stripe_provider: StripeProvider, localstripe: str
) -> None:
    started = await stripe_provider.start(a_charge(amount_minor=2500))
    assert started.provider_id is not None
    await pay(localstripe, started.provider_id)

    first = await stripe_provider.refund(started.provider_id, 2500, "refund-payment-2")
    second = await stripe_provider.refund(started.provider_id, 2500, "refund-payment-2")

    assert second == first
    refunds = await stripe_object(localstripe, "/v1/refunds", payment_intent=started.provider_id)
    assert [r["id"] for r in refunds["data"]] == [first]
