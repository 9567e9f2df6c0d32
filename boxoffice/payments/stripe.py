"""Card payments through Stripe (SPEC §10): a PaymentIntent per payment, confirmed by the
payer's browser with its client secret, reported back by signed webhooks.

Stripe refusing or unreachable is `ProviderUnavailable` when a payment starts; a refund's error
reaches the caller (the refund sender) as it is. No call here runs inside a transaction.
"""

from collections.abc import Mapping
from typing import Self

import stripe

from boxoffice.payments.models import PaymentStatus
from boxoffice.payments.providers import (
    Callback,
    Charge,
    InvalidCallback,
    ProviderUnavailable,
    Started,
)
from boxoffice.settings import Settings

_OUTCOMES = {
    "payment_intent.succeeded": PaymentStatus.CONFIRMED,
    "payment_intent.payment_failed": PaymentStatus.FAILED,
}

# The refund's own record of the key it was made with: Stripe forgets idempotency keys after
# 24 hours, and a refund retried later must still find the first one.
_REFUND_KEY = "boxoffice_refund_key"


class StripeProvider:
    name = "stripe"

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None = None) -> None:
        self._http = stripe.HTTPXClient()
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
        )
        self._webhook_secret = webhook_secret

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        if settings.stripe_secret_key is None or settings.stripe_webhook_secret is None:
            raise ValueError("set BOXOFFICE_STRIPE_SECRET_KEY and BOXOFFICE_STRIPE_WEBHOOK_SECRET")
        return cls(
            settings.stripe_secret_key.get_secret_value(),
            settings.stripe_webhook_secret.get_secret_value(),
            settings.stripe_api_base,
        )

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in stripe

    async def start(self, charge: Charge) -> Started:
        try:
            intent = await self._create_intent(charge)
        except stripe.StripeError as error:
            raise ProviderUnavailable(str(error)) from error
        return Started(
            status=PaymentStatus.PENDING, provider_id=intent.id, client_secret=intent.client_secret
        )

    async def _create_intent(self, charge: Charge) -> stripe.PaymentIntent:
        return await self._client.v1.payment_intents.create_async(
            {
                "amount": charge.amount_minor,
                "currency": charge.currency.lower(),
                # The description goes in the metadata: test servers (localstripe) refuse
                # the `description` field, and the dashboard shows metadata all the same.
                "metadata": {
                    "booking_id": str(charge.booking_id),
                    "reference": charge.reference,
                    "description": charge.description,
                },
            },
            {"idempotency_key": charge.idempotency_key},
        )

    def callback(self, body: bytes, headers: Mapping[str, str]) -> Callback | None:
        """`headers` as a server hands them over: lower-case names, or a case-blind mapping."""
        signature = headers.get("stripe-signature")
        if not signature:
            raise InvalidCallback("no Stripe-Signature header")
        try:
            event = stripe.Webhook.construct_event(body, signature, self._webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise InvalidCallback(str(error)) from error
        status = _OUTCOMES.get(event.type)
        if status is None:
            return None
        try:
            intent_id = event.data.object["id"]
        except (AttributeError, KeyError) as error:
            raise InvalidCallback(f"{event.type} without a PaymentIntent") from error
        return Callback(event_id=event.id, provider_id=intent_id, status=status)

    async def refund(self, provider_id: str | None, amount_minor: int, key: str) -> str:
        if provider_id is None:
            raise ValueError("a Stripe payment is refunded by its PaymentIntent's id")
        # A full refund leaves few refunds per intent: one page holds them all.
        earlier = await self._client.v1.refunds.list_async(
            {"payment_intent": provider_id, "limit": 100}
        )
        for refund in earlier.data:
            if refund.metadata is not None and refund.metadata.to_dict().get(_REFUND_KEY) == key:
                return refund.id
        refund = await self._client.v1.refunds.create_async(
            {"payment_intent": provider_id, "amount": amount_minor, "metadata": {_REFUND_KEY: key}},
            {"idempotency_key": key},
        )
        return refund.id
