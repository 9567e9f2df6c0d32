from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.payments.models import Payment, PaymentStatus
from boxoffice.schemas import StrictModel
from boxoffice.settings import PaymentProviderName


class PaymentCreate(StrictModel):
    provider: PaymentProviderName


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    booking_id: int
    provider: str
    amount: Annotated[str, Field(description="decimal string in `currency`")]
    currency: str
    status: PaymentStatus
    reference: Annotated[str, Field(description="what the payer quotes, or the provider's id")]
    client_secret: Annotated[
        str | None, Field(description="Stripe's, for the holder's browser; null for others")
    ] = None
    instructions: Annotated[str | None, Field(description="how to pay (manual)")] = None
    created_at: datetime
    confirmed_at: datetime | None

    @classmethod
    def of(cls, payment: Payment, *, for_holder: bool) -> "PaymentRead":
        read = cls.model_validate(payment)
        return read if for_holder else read.model_copy(update={"client_secret": None})


class PaymentList(BaseModel):
    items: list[PaymentRead]


class CallbackReceived(BaseModel):
    received: bool = True


class ProvidersRead(BaseModel):
    providers: Annotated[list[str], Field(description="the providers a buyer may choose")]
    stripe_publishable_key: Annotated[
        str | None, Field(description="for Stripe.js, when stripe is enabled")
    ] = None
