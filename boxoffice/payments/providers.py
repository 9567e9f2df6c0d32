"""What a payment provider does for boxoffice: start a payment, say what one of its callbacks
means, and give money back. Everything else about payments (holds, seats, refunds owed) is the
same for every provider and lives in `payments.service`.

Providers talk to the outside world: no transaction that holds a lock waits on them.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from boxoffice.payments.models import PaymentStatus


@dataclass(frozen=True, slots=True)
class Charge:
    """What to ask the payer for."""

    booking_id: int
    amount_minor: int
    currency: str
    # What the payer quotes, and what a statement shows: the booking's reference.
    reference: str
    description: str
    # Asking twice with the same key starts one payment (a retried request).
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class Started:
    status: PaymentStatus
    # The provider's id of the payment; None where the provider has none (manual).
    provider_id: str | None = None
    client_secret: str | None = None
    instructions: str | None = None


@dataclass(frozen=True, slots=True)
class Callback:
    """What a provider's callback says happened to one of its payments."""

    # The provider's id of the event: each is applied once, however often it comes.
    event_id: str
    provider_id: str
    # CONFIRMED (the money is ours) or FAILED (this attempt failed; the hold stays).
    status: PaymentStatus


class ProviderUnavailable(Exception):
    """The provider refused or could not be reached; nothing was started."""


class InvalidCallback(Exception):
    """A callback that is not the provider's: unsigned, badly signed, stale or malformed."""


class Provider(Protocol):
    name: str

    async def start(self, charge: Charge) -> Started: ...

    def callback(self, body: bytes, headers: Mapping[str, str]) -> Callback | None:
        """What a callback means; None for an event of no interest. Raises InvalidCallback."""
        ...

    async def refund(self, provider_id: str | None, amount_minor: int, key: str) -> str | None:
        """Gives the money back (in full); the provider's id of the refund, or None where the
        money is paid back by hand (manual). Asking twice with the same key refunds once."""
        ...
