"""Bank transfer or cash at the desk: the payer quotes the booking's reference, and the event's
owner records the money (`POST /bookings/{id}/mark-paid`); money owed back is paid by hand."""

from collections.abc import Mapping

from boxoffice.payments.models import PaymentStatus
from boxoffice.payments.providers import Callback, Charge, InvalidCallback, Started
from boxoffice.settings import PaymentProviderName


class ManualProvider:
    name = PaymentProviderName.MANUAL.value

    def __init__(self, instructions: str) -> None:
        self.instructions = instructions

    async def start(self, charge: Charge) -> Started:
        return Started(
            status=PaymentStatus.PENDING,
            instructions=f"{self.instructions} Quote the reference {charge.reference}.",
        )

    def callback(self, body: bytes, headers: Mapping[str, str]) -> Callback | None:  # noqa: ARG002
        raise InvalidCallback("manual payments are recorded by the organizer, not called back")

    async def refund(
        self,
        provider_id: str | None,  # noqa: ARG002 (nothing to call: the organizer pays it back)
        amount_minor: int,  # noqa: ARG002
        key: str,  # noqa: ARG002
    ) -> str | None:
        return None
