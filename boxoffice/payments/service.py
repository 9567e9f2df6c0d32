"""Payments (SPEC §10): start one for a pending booking, apply what its provider says, and send
the refunds decided. The rules are the same for every provider:

- a payment that succeeds while its booking is pending confirms it;
- one that succeeds after the booking's hold ended confirms it if all its seats can be sold
  again at that moment, and is refunded at once otherwise (also when the booking was cancelled
  or already paid): money is never kept for seats that were not given;
- a provider's event is applied once, however often and in whatever order it comes.

Seats move only under the event's row lock (`bookings.seats`); a provider is called only
outside any transaction that holds one.
"""

import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from boxoffice.bookings import seats
from boxoffice.bookings import service as bookings
from boxoffice.bookings.errors import BookingNotPending
from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.db import changed_one, transaction, utcnow
from boxoffice.errors import Forbidden, ServiceUnavailable
from boxoffice.notifications import outbox
from boxoffice.payments import refunds
from boxoffice.payments.errors import InvalidSignature, PaymentNotAllowed
from boxoffice.payments.models import (
    OPEN_PAYMENT_STATUSES,
    Payment,
    PaymentStatus,
    ProviderEvent,
    Refund,
    RefundReason,
    RefundStatus,
)
from boxoffice.payments.providers import Charge, InvalidCallback, Provider, ProviderUnavailable
from boxoffice.payments.schemas import PaymentRead
from boxoffice.settings import PaymentProviderName
from boxoffice.users import service as users_service
from boxoffice.users.models import Role, User
from boxoffice.webhooks import outbox as hooks
from boxoffice.webhooks.models import WebhookEventType as Hook

logger = logging.getLogger("boxoffice.payments")

Providers = Mapping[str, Provider]

# How long a worker that claimed a refund has to send it: longer than a provider's call may
# take (Stripe's client gives up after 80 s).
REFUND_LEASE = timedelta(minutes=2)
# After this many failed calls a refund is `failed` and needs a person (logged, and shown).
MAX_REFUND_ATTEMPTS = 8


def reference_of(booking: Booking) -> str:
    """What a payer quotes: names the booking, and unlike its ticket code admits nobody."""
    return f"BOX-{booking.id}"


async def start(
    session: AsyncSession,
    booking: Booking,
    holder: User,
    provider_name: str,
    providers: Providers,
    *,
    idempotency_key: str | None,
) -> Payment:
    """Starts paying a pending booking with one of the enabled providers."""
    if booking.user_id != holder.id:
        raise Forbidden("only the booking's holder may pay for it")
    provider = providers.get(provider_name)
    if provider is None:
        raise PaymentNotAllowed(
            f"'{provider_name}' is not a payment provider here; choose one of "
            + ", ".join(sorted(providers))
        )
    if booking.total_price_minor == 0:
        raise PaymentNotAllowed("this booking is free: there is nothing to pay")
    now = utcnow()
    if booking.status is not BookingStatus.PENDING or _ended(booking, now):
        raise BookingNotPending(f"this booking is {booking.status.value}, not waiting for payment")
    charge = Charge(
        booking_id=booking.id,
        amount_minor=booking.total_price_minor,
        currency=booking.currency,
        reference=reference_of(booking),
        description=f"{booking.event.title}: booking {reference_of(booking)}",
        idempotency_key=f"booking-{booking.id}-{idempotency_key or secrets.token_hex(12)}",
    )
    # No lock is held yet: the provider may take its time.
    try:
        started = await provider.start(charge)
    except ProviderUnavailable as error:
        raise ServiceUnavailable(f"{provider_name} cannot take payments now; try again") from error
    if provider_name == PaymentProviderName.MANUAL:
        await _hold_for_transfer(session, booking, now)
    payment = Payment(
        booking_id=booking.id,
        provider=provider_name,
        amount_minor=charge.amount_minor,
        currency=charge.currency,
        status=started.status,
        reference=started.provider_id or charge.reference,
        provider_id=started.provider_id,
        client_secret=started.client_secret,
        instructions=started.instructions,
        created_at=now,
    )
    session.add(payment)
    await session.flush()
    return payment


def _ended(booking: Booking, now: datetime) -> bool:
    return booking.expires_at is not None and booking.expires_at <= now


async def _hold_for_transfer(session: AsyncSession, booking: Booking, now: datetime) -> None:
    """A bank transfer takes days: the hold lasts the event's `manual_payment_days` from now
    (never past its start), unless it has ended meanwhile."""
    event = await seats.lock_event(session, booking.event_id)
    assert event is not None
    until = min(now + timedelta(days=event.manual_payment_days), event.starts_at)
    extended = await changed_one(
        session,
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.status == BookingStatus.PENDING,
            Booking.expires_at > now,
        )
        .values(expires_at=until),
    )
    if not extended:
        raise BookingNotPending("this booking's hold has ended")


async def list_for(session: AsyncSession, booking: Booking) -> Sequence[Payment]:
    found = await session.scalars(
        select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id)
    )
    return found.all()


async def mark_paid(session: AsyncSession, booking: Booking, actor: User) -> Booking:
    """The event's owner or an admin received the money of a manual payment."""
    if actor.role is not Role.ADMIN and booking.event.organizer_id != actor.id:
        raise Forbidden("only the event's owner or an admin may record a payment")
    if booking.status not in (BookingStatus.PENDING, BookingStatus.EXPIRED):
        raise BookingNotPending(f"this booking is {booking.status.value}, not waiting for payment")
    if booking.total_price_minor == 0:
        # An offer of free seats that passed its end: expired, and nothing to pay.
        raise PaymentNotAllowed("this booking is free: there is nothing to pay")
    payment = await session.scalar(
        select(Payment)
        .where(
            Payment.booking_id == booking.id,
            Payment.provider == PaymentProviderName.MANUAL,
            Payment.status.in_(OPEN_PAYMENT_STATUSES),
        )
        .order_by(Payment.id.desc())
        .limit(1)
    )
    if payment is None:
        # Paid at the desk without choosing a way to pay first.
        payment = Payment(
            booking_id=booking.id,
            provider=PaymentProviderName.MANUAL.value,
            amount_minor=booking.total_price_minor,
            currency=booking.currency,
            status=PaymentStatus.PENDING,
            reference=reference_of(booking),
            created_at=utcnow(),
        )
        session.add(payment)
        await session.flush()
    await succeeded(session, payment.id)
    return await bookings.get(session, booking.id)


async def succeeded(session: AsyncSession, payment_id: int) -> None:
    """The payment's money came in: the booking is confirmed, or the money goes back."""
    payment = await session.get_one(Payment, payment_id)
    booking_id = payment.booking_id
    holder = await bookings.get(session, booking_id)
    # The holder's row before the event's (the ledger's lock order): a ban either sees the
    # booking this may confirm, or has ended the account first, and then nothing is revived.
    holder_active = await users_service.holds_if_active(session, holder.user_id)
    now = utcnow()
    # The event's row lock, with every hold past its end (this one's too) ended first.
    await bookings.reclaim(session, holder.event_id, now)
    booking = await bookings.get(session, booking_id)
    payment = await _locked_payment(session, payment_id)
    if payment.status in (PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED):
        return
    payment.status = PaymentStatus.CONFIRMED
    payment.confirmed_at = now
    await session.flush()
    await hooks.tell(
        session,
        booking.event_id,
        Hook.PAYMENT_CONFIRMED,
        lambda: PaymentRead.of(payment, for_holder=False),
    )
    if await _given_seats(session, booking, now, holder_active=holder_active):
        await outbox.payment_received(session, await bookings.get(session, booking_id), payment)
        await bookings.tell_webhooks(
            session, booking.event_id, Hook.BOOKING_CONFIRMED, [booking_id]
        )
    else:
        reason = {
            BookingStatus.CONFIRMED: RefundReason.DUPLICATE,
            BookingStatus.CANCELLED: RefundReason.CANCELLED,
        }.get(booking.status, RefundReason.LATE_PAYMENT)
        await refunds.refund_payment(session, booking, payment, reason)


async def _given_seats(
    session: AsyncSession, booking: Booking, now: datetime, *, holder_active: bool
) -> bool:
    """Confirms the booking just paid for, if it can be: still pending, or expired with all its
    seats to be had again and its holder not banned meanwhile. Under the event's row lock,
    expired holds reclaimed."""
    if booking.status is BookingStatus.PENDING:
        return await seats.settle_hold(session, booking)
    if booking.status is BookingStatus.EXPIRED and holder_active:
        return await _revived(session, booking, now)
    return False


async def _revived(session: AsyncSession, booking: Booking, now: datetime) -> bool:
    """Confirms an expired booking paid late, if its seats can be sold again now and its holder
    has not booked the event anew meanwhile. Under the event's row lock."""
    if await bookings.holds_active_booking(session, booking.user_id, booking.event_id):
        return False
    return await seats.revive(session, booking, now)


async def _locked_payment(session: AsyncSession, payment_id: int) -> Payment:
    found = await session.scalars(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found.one()


async def failed(session: AsyncSession, payment_id: int) -> None:
    """This attempt failed; the hold stays until it ends, and the holder may try again."""
    await session.execute(
        update(Payment)
        .where(
            Payment.id == payment_id,
            Payment.status.in_((PaymentStatus.CREATED, PaymentStatus.PENDING)),
        )
        .values(status=PaymentStatus.FAILED)
    )


async def callback(
    session: AsyncSession, provider: Provider, body: bytes, headers: Mapping[str, str]
) -> None:
    """Applies a provider's callback, once per provider event."""
    try:
        told = provider.callback(body, headers)
    except InvalidCallback as error:
        raise InvalidSignature(str(error)) from None
    if told is None:
        return
    try:
        # A savepoint: a repeat delivery racing this one waits here, then finds it applied.
        async with session.begin_nested():
            session.add(ProviderEvent(provider=provider.name, event_id=told.event_id))
    except IntegrityError:
        return
    payment_id = await session.scalar(
        select(Payment.id).where(
            Payment.provider == provider.name, Payment.provider_id == told.provider_id
        )
    )
    if payment_id is None:
        # Not one of ours (another application on the same account): nothing to do.
        logger.info("callback for an unknown payment", extra={"provider": provider.name})
        return
    if told.status is PaymentStatus.CONFIRMED:
        await succeeded(session, payment_id)
    else:
        await failed(session, payment_id)


async def send_refunds(
    sessionmaker: async_sessionmaker[AsyncSession],
    providers: Providers,
    *,
    lease: timedelta = REFUND_LEASE,
    limit: int = 20,
) -> int:
    """Sends the refunds decided and not yet sent, outside any lock; how many were sent. Any
    number of workers may: each refund is claimed for `lease` before it is sent, so one worker
    sends it; if that worker dies mid-call, another sends it after the lease, with the same
    idempotency key, which a provider honours by refunding once."""
    async with transaction(sessionmaker) as session:
        due = (
            await session.execute(
                select(Refund.id, Payment.provider, Payment.provider_id, Refund.amount_minor)
                .join(Payment, Payment.id == Refund.payment_id)
                .where(Refund.status == RefundStatus.REQUESTED, _unclaimed(utcnow()))
                .order_by(Refund.id)
                .limit(limit)
            )
        ).all()
    sent = 0
    for refund_id, provider_name, provider_id, amount_minor in due:
        provider = providers.get(provider_name)
        if provider is None:
            logger.warning("refund waits: provider %s is not enabled", provider_name)
            continue
        if not await _claim_refund(sessionmaker, refund_id, lease):
            continue
        try:
            refunded_as = await provider.refund(provider_id, amount_minor, f"refund-{refund_id}")
        except Exception as error:
            logger.exception("refund failed", extra={"refund_id": refund_id})
            await _record_refund_failure(sessionmaker, refund_id, error)
            continue
        async with transaction(sessionmaker) as session:
            await session.execute(
                update(Refund)
                .where(Refund.id == refund_id, Refund.status == RefundStatus.REQUESTED)
                .values(
                    status=RefundStatus.SUCCEEDED,
                    provider_id=refunded_as,
                    attempts=Refund.attempts + 1,
                    claimed_until=None,
                    completed_at=utcnow(),
                )
            )
        sent += 1
    return sent


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(Refund.claimed_until.is_(None), Refund.claimed_until < now)


async def _claim_refund(
    sessionmaker: async_sessionmaker[AsyncSession], refund_id: int, lease: timedelta
) -> bool:
    now = utcnow()
    async with transaction(sessionmaker) as session:
        return await changed_one(
            session,
            update(Refund)
            .where(
                Refund.id == refund_id,
                Refund.status == RefundStatus.REQUESTED,
                _unclaimed(now),
            )
            .values(claimed_until=now + lease),
        )


async def _record_refund_failure(
    sessionmaker: async_sessionmaker[AsyncSession], refund_id: int, error: Exception
) -> None:
    async with transaction(sessionmaker) as session:
        refund = await session.get_one(Refund, refund_id)
        refund.attempts += 1
        # Tried again at the next sweep.
        refund.claimed_until = None
        refund.last_error = f"{type(error).__name__}: {error}"[:500]
        if refund.attempts >= MAX_REFUND_ATTEMPTS:
            refund.status = RefundStatus.FAILED


async def of_user(session: AsyncSession, user_id: int) -> Sequence[tuple[Payment, Refund | None]]:
    """Every payment of the user's bookings, each with its refund if there is one; oldest first."""
    found = await session.execute(
        select(Payment, Refund)
        .join(Booking, Booking.id == Payment.booking_id)
        .outerjoin(Refund, Refund.payment_id == Payment.id)
        .where(Booking.user_id == user_id)
        .order_by(Payment.id)
    )
    return [(payment, refund) for payment, refund in found.all()]
