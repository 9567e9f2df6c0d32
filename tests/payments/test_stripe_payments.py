"""Paying with Stripe through the API, against localstripe: the PaymentIntent a payment makes,
the webhooks that confirm or fail it, each applied once however often, in whatever order and
whoever sends them, late payments refunded on localstripe."""

import json
import time
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking
from boxoffice.db import utcnow
from boxoffice.notifications.models import Notification
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, ProviderEvent, Refund
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.factories import Caller, signed_in
from tests.payments.test_holds import paid_event
from tests.stripe_server import (
    CARD_DECLINED,
    WebhookReceiver,
    pay,
    sign,
    stripe_object,
)

BOOKINGS = "/api/v1/bookings"
WEBHOOK = "/api/v1/payments/stripe/webhook"


async def pending_booking(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, seats: int = 1
) -> tuple[Caller, Caller, dict[str, object]]:
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    event = await paid_event(db, organizer, capacity=seats)
    holder = await signed_in(db, settings, Role.ATTENDEE)
    answer = await client.post(
        BOOKINGS, headers=holder.headers, json={"event_id": event.id, "seats": seats}
    )
    assert answer.json()["status"] == "pending", answer.text
    return organizer, holder, answer.json()


async def start_stripe(
    client: httpx.AsyncClient, holder: Caller, booking: dict[str, object]
) -> dict[str, object]:
    answer = await client.post(
        f"{BOOKINGS}/{booking['id']}/payments", headers=holder.headers, json={"provider": "stripe"}
    )
    assert answer.status_code == 201, answer.text
    payment: dict[str, object] = answer.json()
    return payment


async def deliver(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(WEBHOOK, content=body, headers=headers)


async def state(db: AsyncSession) -> tuple[object, ...]:
    """Everything a callback may change: statuses, counts, messages, events applied."""
    bookings = (await db.execute(select(Booking.id, Booking.status))).all()
    payment_rows = (await db.execute(select(Payment.id, Payment.status))).all()
    refunds = (await db.execute(select(Refund.id, Refund.status))).all()
    messages = await db.scalar(select(func.count(Notification.id)))
    applied = await db.scalar(select(func.count()).select_from(ProviderEvent))
    await db.commit()
    return (sorted(bookings), sorted(payment_rows), sorted(refunds), messages, applied)


async def test_a_stripe_payment_confirms_the_booking_once(
    stripe_client: httpx.AsyncClient,
    db: AsyncSession,
    stripe_settings: Settings,
    localstripe: str,
    webhooks: WebhookReceiver,
) -> None:
    _, holder, booking = await pending_booking(stripe_client, db, stripe_settings, seats=2)
    payment = await start_stripe(stripe_client, holder, booking)
    intent_id = str(payment["reference"])
    intent = await stripe_object(localstripe, f"/v1/payment_intents/{intent_id}")
    assert (intent["amount"], intent["currency"]) == (5000, "eur")
    assert payment["client_secret"] == intent["client_secret"]

    assert await pay(localstripe, intent_id) == "succeeded"
    delivery = await webhooks.delivery("payment_intent.succeeded", intent_id)
    first = await deliver(stripe_client, delivery.body, dict(delivery.headers))

    assert first.status_code == 200, first.text
    read = await stripe_client.get(f"{BOOKINGS}/{booking['id']}", headers=holder.headers)
    assert read.json()["status"] == "confirmed"
    after_first = await state(db)
    again = await deliver(stripe_client, delivery.body, dict(delivery.headers))
    assert again.status_code == 200
    assert await state(db) == after_first
    current = await assert_seats_exact(db, int(str(read.json()["event_id"])))
    assert (current.seats_booked, current.seats_held) == (2, 0)


async def test_a_failure_after_success_changes_nothing_and_a_failure_keeps_the_hold(
    stripe_client: httpx.AsyncClient,
    db: AsyncSession,
    stripe_settings: Settings,
    localstripe: str,
    webhooks: WebhookReceiver,
) -> None:
    _, holder, booking = await pending_booking(stripe_client, db, stripe_settings)
    declined = await start_stripe(stripe_client, holder, booking)
    await pay(localstripe, str(declined["reference"]), card=CARD_DECLINED)
    failed = await webhooks.delivery("payment_intent.payment_failed", str(declined["reference"]))
    await deliver(stripe_client, failed.body, dict(failed.headers))
    listed = await stripe_client.get(f"{BOOKINGS}/{booking['id']}/payments", headers=holder.headers)
    assert [p["status"] for p in listed.json()["items"]] == ["failed"]
    held = await stripe_client.get(f"{BOOKINGS}/{booking['id']}", headers=holder.headers)
    assert held.json()["status"] == "pending"

    retried = await start_stripe(stripe_client, holder, booking)
    intent_id = str(retried["reference"])
    await pay(localstripe, intent_id)
    succeeded = await webhooks.delivery("payment_intent.succeeded", intent_id)
    await deliver(stripe_client, succeeded.body, dict(succeeded.headers))
    before = await state(db)
    # A failure of the same intent arriving late (out of order): the payment stays confirmed.
    stale = json.loads(succeeded.body)
    stale.update(id="evt_out_of_order", type="payment_intent.payment_failed")
    body = json.dumps(stale).encode()
    answer = await deliver(stripe_client, body, {"stripe-signature": sign(body)})

    assert answer.status_code == 200
    after = await state(db)
    assert after[:4] == before[:4]


async def test_unsigned_badly_signed_or_stale_events_change_nothing(
    stripe_client: httpx.AsyncClient,
    db: AsyncSession,
    stripe_settings: Settings,
    localstripe: str,
    webhooks: WebhookReceiver,
) -> None:
    _, holder, booking = await pending_booking(stripe_client, db, stripe_settings)
    payment = await start_stripe(stripe_client, holder, booking)
    await pay(localstripe, str(payment["reference"]))
    real = await webhooks.delivery("payment_intent.succeeded", str(payment["reference"]))
    before = await state(db)
    tampered = real.body.replace(b'"succeeded"', b'"succeeded" ', 1)
    stale_at = int(time.time()) - 3600

    answers = [
        await deliver(stripe_client, real.body, {}),
        await deliver(stripe_client, real.body, {"stripe-signature": sign(real.body, "whsec_x")}),
        await deliver(stripe_client, tampered, dict(real.headers)),
        await deliver(
            stripe_client, real.body, {"stripe-signature": sign(real.body, timestamp=stale_at)}
        ),
        await deliver(stripe_client, b"not json", {"stripe-signature": sign(b"not json")}),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(400, "invalid_signature")] * 5
    assert await state(db) == before


async def test_a_payment_after_the_seats_went_is_refunded_on_stripe(
    stripe_app: FastAPI,
    stripe_client: httpx.AsyncClient,
    db: AsyncSession,
    stripe_settings: Settings,
    localstripe: str,
    webhooks: WebhookReceiver,
) -> None:
    _, holder, booking = await pending_booking(stripe_client, db, stripe_settings, seats=1)
    payment = await start_stripe(stripe_client, holder, booking)
    await db.execute(
        update(Booking)
        .where(Booking.id == booking["id"])
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await db.commit()
    other = await signed_in(db, stripe_settings, Role.ATTENDEE)
    taken = await stripe_client.post(
        BOOKINGS, headers=other.headers, json={"event_id": booking["event_id"], "seats": 1}
    )
    assert taken.json()["status"] == "pending"
    intent_id = str(payment["reference"])
    await pay(localstripe, intent_id)
    delivery = await webhooks.delivery("payment_intent.succeeded", intent_id)

    await deliver(stripe_client, delivery.body, dict(delivery.headers))
    sent = await payments.send_refunds(
        stripe_app.state.sessionmaker, stripe_app.state.payment_providers
    )

    assert sent == 1
    refund = await db.scalar(select(Refund))
    assert refund is not None
    assert (refund.reason, refund.status, refund.amount_minor) == (
        "late_payment",
        "succeeded",
        2500,
    )
    on_stripe = await stripe_object(localstripe, "/v1/refunds", payment_intent=intent_id)
    assert [(r["id"], r["amount"]) for r in on_stripe["data"]] == [(refund.provider_id, 2500)]
    assert (
        await payments.send_refunds(
            stripe_app.state.sessionmaker, stripe_app.state.payment_providers
        )
        == 0
    )
    read = await stripe_client.get(f"{BOOKINGS}/{booking['id']}", headers=holder.headers)
    assert read.json()["status"] == "expired"
