from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from boxoffice.auth.dependencies import SIGNED_IN_ERRORS, CurrentUser
from boxoffice.bookings import idempotency
from boxoffice.bookings.dependencies import IdempotencyKey, VisibleBooking
from boxoffice.bookings.errors import (
    BookingNotPending,
    IdempotencyKeyReused,
    RequestInProgress,
)
from boxoffice.bookings.idempotency import Answer
from boxoffice.bookings.schemas import BookingRead
from boxoffice.db import Session, SessionFactory
from boxoffice.errors import Forbidden, NotFound, problem_responses
from boxoffice.payments import service
from boxoffice.payments.dependencies import EnabledProviders
from boxoffice.payments.errors import InvalidSignature, PaymentNotAllowed
from boxoffice.payments.schemas import (
    CallbackReceived,
    PaymentCreate,
    PaymentList,
    PaymentRead,
    ProvidersRead,
)
from boxoffice.security import NO_STORE, no_store
from boxoffice.settings import AppSettings, PaymentProviderName

router = APIRouter(tags=["payments"], dependencies=[Depends(no_store)])


@router.get("/payments/providers", responses=problem_responses())
async def payment_providers(providers: EnabledProviders, settings: AppSettings) -> ProvidersRead:
    """The ways to pay this server offers, and what a browser needs for them."""
    stripe = PaymentProviderName.STRIPE in providers
    return ProvidersRead(
        providers=sorted(providers),
        stripe_publishable_key=settings.stripe_publishable_key if stripe else None,
    )


@router.post(
    "/bookings/{booking_id}/payments",
    status_code=201,
    response_model=PaymentRead,
    responses=problem_responses(
        *SIGNED_IN_ERRORS,
        Forbidden,
        NotFound,
        PaymentNotAllowed,
        BookingNotPending,
        RequestInProgress,
        IdempotencyKeyReused,
    ),
)
async def start_payment(
    body: PaymentCreate,
    booking: VisibleBooking,
    user: CurrentUser,
    providers: EnabledProviders,
    session: Session,
    sessionmaker: SessionFactory,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Starts paying a pending booking (its holder) with one of the enabled providers: `manual`
    answers how to pay and holds the seats for the event's `manual_payment_days`; `stripe`
    answers the PaymentIntent's `client_secret` for Stripe.js. With an `Idempotency-Key`, a
    repeat answers what the first request did."""

    async def pay() -> Answer:
        payment = await service.start(
            session, booking, user, body.provider, providers, idempotency_key=idempotency_key
        )
        return Answer(201, PaymentRead.of(payment, for_holder=True).model_dump(mode="json"))

    path = f"/bookings/{booking.id}/payments"
    answer = await idempotency.run_once(
        sessionmaker,
        session,
        user_id=user.id,
        key=idempotency_key,
        request_fingerprint=idempotency.fingerprint("POST", path, body.model_dump()),
        action=pay,
    )
    return JSONResponse(
        answer.body, status_code=answer.status, media_type=answer.media_type, headers=NO_STORE
    )


@router.get(
    "/bookings/{booking_id}/payments",
    responses=problem_responses(*SIGNED_IN_ERRORS, NotFound),
)
async def list_payments(
    booking: VisibleBooking, user: CurrentUser, session: Session
) -> PaymentList:
    """The booking's payments, oldest first, for its holder, the event's owner and admins."""
    holder = booking.user_id == user.id
    payments = await service.list_for(session, booking)
    return PaymentList(items=[PaymentRead.of(p, for_holder=holder) for p in payments])


@router.post(
    "/bookings/{booking_id}/mark-paid",
    responses=problem_responses(
        *SIGNED_IN_ERRORS, Forbidden, NotFound, BookingNotPending, PaymentNotAllowed
    ),
)
async def mark_paid(booking: VisibleBooking, user: CurrentUser, session: Session) -> BookingRead:
    """Records the money of a manual payment (the event's owner or an admin): the booking is
    confirmed; if its hold had ended and its seats are gone, the money is owed back."""
    return BookingRead.model_validate(await service.mark_paid(session, booking, user))


@router.post(
    "/payments/stripe/webhook",
    responses=problem_responses(InvalidSignature, NotFound),
)
async def stripe_webhook(
    request: Request, providers: EnabledProviders, session: Session
) -> CallbackReceived:
    """Stripe's events, verified by their `Stripe-Signature`: `payment_intent.succeeded`
    confirms a payment, `payment_intent.payment_failed` marks it failed. Each event is applied
    once, however often it is delivered."""
    provider = providers.get(PaymentProviderName.STRIPE)
    if provider is None:
        raise NotFound("stripe is not enabled here")
    await service.callback(session, provider, await request.body(), request.headers)
    return CallbackReceived()
