"""A rush on a paid event (SPEC §10) over real HTTP to two server processes, paid through
Stripe (localstripe), whose webhooks reach both processes, so that every event arrives twice,
concurrently. Holds last a minute; a third of the buyers never pay, the others pay at moments
spread over the rush, and some of them only after their hold has ended (time passes for a hold
by moving its end into the past, as the clock would). Both processes sweep expired holds every
fifth of a second while refused sales reclaim them too.

It comes in two waves: the first books, some pay at once; then a minute passes for the holds of
those who did not pay, and the second wave rushes for the seats they free while the late payers
pay, some before the second wave is answered and some after.

Afterwards: no seat is sold twice and every count is exact; every booking confirmed was paid
once; every payment that succeeded either confirmed its booking or was refunded in full on
localstripe; and each holder heard of their payment once.
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.catalogue.models import TicketType
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.notifications.models import Notification, NotificationKind
from boxoffice.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_quotas_exact
from tests.bookings.test_rush_types import Progress, people
from tests.factories import make_event, make_quota, make_ticket_type, signed_in
from tests.servers import running_servers
from tests.stripe_server import SECRET_KEY, WEBHOOK_SECRET, pay, register_webhook, stripe_object

RUSH = 90
FIRST_WAVE = 60
CAPACITY = 30
VIP_QUOTA = 8
PRICES = {"standard": 1500, "vip": 4000}
# What each buyer does once their booking is pending.
NEVER, ON_TIME, LATE = "never pays", "pays on time", "pays late"


@pytest.fixture(scope="module")
def paying_servers(database_url: str, localstripe: str) -> Iterator[list[str]]:
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": "test-secret-key-" + "x" * 64,
        "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
        "BOXOFFICE_PAYMENT_PROVIDERS": "manual,stripe",
        "BOXOFFICE_STRIPE_SECRET_KEY": SECRET_KEY,
        "BOXOFFICE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BOXOFFICE_STRIPE_API_BASE": localstripe,
        "BOXOFFICE_HOLD_SWEEP_SECONDS": "0.2",
        # The sweeper runs beside the notification worker (mail goes to the log).
        "BOXOFFICE_WORKER_ENABLED": "true",
    }
    with running_servers(env, count=2) as urls:
        yield urls


@dataclass
class Buyer:
    id: int
    headers: dict[str, str]
    plan: str
    booking_id: int | None = None
    intent_id: str | None = None
    paid: bool = False


async def test_a_paid_rush_never_keeps_money_for_seats_not_given(
    paying_servers: list[str], localstripe: str, db: AsyncSession, settings: Settings
) -> None:
    chooser = random.Random(10)
    for number, server in enumerate(paying_servers):
        await register_webhook(
            localstripe, f"{server}/api/v1/payments/stripe/webhook", name=f"server{number}"
        )
    owner = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, owner.user, capacity=CAPACITY)
    await db.execute(update(Event).where(Event.id == event.id).values(hold_minutes=1))
    await db.execute(
        update(TicketType).where(TicketType.event_id == event.id).values(price_minor=1500)
    )
    vip = await make_ticket_type(db, event, name="VIP", price_minor=PRICES["vip"])
    quota = await make_quota(db, event, VIP_QUOTA, [vip])
    event_id, vip_id, quota_id = event.id, vip.id, quota.id
    standard_id = await db.scalar(
        select(TicketType.id).where(TicketType.event_id == event_id, TicketType.id != vip_id)
    )
    await db.commit()
    crowd = [
        Buyer(person.id, person.headers, chooser.choice([NEVER, ON_TIME, ON_TIME, LATE, NEVER]))
        for person in await people(db, settings, RUSH)
    ]
    answers: list[httpx.Response] = []
    fresh = httpx.Limits(max_connections=RUSH * 2, max_keepalive_connections=0)

    async with httpx.AsyncClient(limits=fresh, timeout=120) as client:

        def server_of(i: int) -> str:
            return paying_servers[i % len(paying_servers)]

        async def book(i: int, buyer: Buyer, progress: Progress) -> bool:
            kind = chooser.choice([standard_id, vip_id])
            body = {
                "event_id": event_id,
                "lines": [{"ticket_type_id": kind, "quantity": chooser.randint(1, 2)}],
            }
            try:
                answer = await client.post(
                    f"{server_of(i)}/api/v1/bookings", headers=buyer.headers, json=body
                )
                answers.append(answer)
            finally:
                await progress.one_more()
            if answer.status_code != 201:
                return False
            buyer.booking_id = answer.json()["id"]
            if buyer.plan == NEVER:
                return False
            started = await client.post(
                f"{server_of(i + 1)}/api/v1/bookings/{buyer.booking_id}/payments",
                headers=buyer.headers,
                json={"provider": "stripe"},
            )
            assert started.status_code == 201, started.text
            buyer.intent_id = started.json()["reference"]
            return True

        async def buy_and_pay(i: int, buyer: Buyer, progress: Progress, wave: int) -> None:
            if await book(i, buyer, progress) and buyer.plan == ON_TIME:
                # Paid once a varying part of the wave has been answered.
                await progress.reached(min(wave, progress.answered + chooser.randint(0, 30)))
                await pay(localstripe, str(buyer.intent_id))
                buyer.paid = True

        async def pay_late(buyer: Buyer, progress: Progress, wave: int) -> None:
            if chooser.random() < 0.5:
                # After the second wave has had its answers, and so the seats freed.
                await progress.reached(wave)
            await pay(localstripe, str(buyer.intent_id))
            buyer.paid = True

        # The first wave books, and those who pay on time pay while it goes on.
        first, second = crowd[:FIRST_WAVE], crowd[FIRST_WAVE:]
        progress = Progress()
        await asyncio.gather(
            *(buy_and_pay(i, b, progress, len(first)) for i, b in enumerate(first))
        )
        # A minute passes for the holds of those who have not paid.
        unpaid = [b.booking_id for b in first if b.plan != ON_TIME and b.booking_id]
        await end_holds(db, unpaid)
        # The second wave rushes for the seats those holds leave, while the late pay.
        progress = Progress()
        await asyncio.gather(
            *(buy_and_pay(i, b, progress, len(second)) for i, b in enumerate(second)),
            *(pay_late(b, progress, len(second)) for b in first if b.plan == LATE and b.intent_id),
        )

    assert all(a.status_code < 500 for a in answers), [
        a.text for a in answers if a.status_code >= 500
    ]
    paid = [b for b in crowd if b.paid]
    assert paid, "nobody got as far as paying"
    # Each paid intent's webhooks are applied (twice delivered: once per process), and every
    # refund decided is sent by the processes' sweepers.
    await until(lambda: settled(db, len(paid)), what="payments settled")
    await until(lambda: refunds_sent(db), what="refunds sent")
    await until(lambda: no_hold_past_its_end(db, event_id), what="holds swept")

    quotas = await assert_quotas_exact(db, event_id)
    assert quotas[quota_id].seats_taken <= VIP_QUOTA
    kept, refunded = await check_money(db, localstripe, event_id, paid)
    statuses = Counter(
        str(s)
        for s in (await db.scalars(select(Booking.status).where(Booking.event_id == event_id)))
    )
    await db.commit()
    # The rush went every way it should: seats sold and paid for, holds that ran out, and
    # money that came too late and went back.
    assert kept, (kept, refunded)
    assert refunded, (kept, refunded)
    assert statuses[BookingStatus.EXPIRED], statuses


async def end_holds(db: AsyncSession, booking_ids: list[int]) -> None:
    """Time passes for these holds: their end moves into the past."""
    await db.execute(
        update(Booking)
        .where(Booking.id.in_(booking_ids), Booking.status == BookingStatus.PENDING)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await db.commit()


async def until(check: Callable[[], Awaitable[bool]], *, what: str, seconds: float = 60) -> None:
    """Waits for a condition the servers bring about on their own (webhooks, sweeps)."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"not done within {seconds} s: {what}"
        await asyncio.sleep(0.2)


async def settled(db: AsyncSession, paid: int) -> bool:
    """Every payment whose card was charged has been applied (confirmed or refunded)."""
    done = await db.scalar(
        select(func.count(Payment.id)).where(
            Payment.status.in_((PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED))
        )
    )
    await db.commit()
    return done == paid


async def refunds_sent(db: AsyncSession) -> bool:
    waiting = await db.scalar(
        select(func.count(Refund.id)).where(Refund.status == RefundStatus.REQUESTED)
    )
    await db.commit()
    return waiting == 0


async def no_hold_past_its_end(db: AsyncSession, event_id: int) -> bool:
    left = await db.scalar(
        select(func.count(Booking.id)).where(
            Booking.event_id == event_id,
            Booking.status == BookingStatus.PENDING,
            Booking.expires_at <= utcnow(),
        )
    )
    await db.commit()
    return left == 0


async def check_money(
    db: AsyncSession, localstripe: str, event_id: int, paid: list[Buyer]
) -> tuple[int, int]:
    """Checks every payment against its booking and Stripe; how many were kept and refunded."""
    rows = (
        await db.execute(
            select(Booking.id, Booking.status, Booking.total_price_minor, Payment, Refund)
            .join(Payment, Payment.booking_id == Booking.id)
            .outerjoin(Refund, Refund.payment_id == Payment.id)
            .where(Booking.event_id == event_id)
        )
    ).all()
    await db.commit()
    by_intent: dict[str, Any] = {row.Payment.provider_id: row for row in rows}
    confirmed_paid: Counter[int] = Counter()
    for buyer in paid:
        assert buyer.intent_id is not None
        row = by_intent[buyer.intent_id]
        intent = await stripe_object(localstripe, f"/v1/payment_intents/{buyer.intent_id}")
        assert intent["status"] == "succeeded"
        on_stripe = await stripe_object(localstripe, "/v1/refunds", payment_intent=buyer.intent_id)
        refunded = sum(r["amount"] for r in on_stripe["data"])
        if row.Payment.status == PaymentStatus.CONFIRMED:
            # The money is kept: the booking has its seats, and nothing went back.
            assert row.status == BookingStatus.CONFIRMED, (buyer.plan, row)
            assert refunded == 0
            confirmed_paid[row.id] += 1
        else:
            # Not given its seats: refunded in full on Stripe, once.
            assert row.Payment.status == PaymentStatus.REFUNDED
            assert row.status != BookingStatus.CONFIRMED or confirmed_paid[row.id], row
            assert row.Refund is not None
            assert row.Refund.status == RefundStatus.SUCCEEDED
            assert (len(on_stripe["data"]), refunded) == (1, row.Payment.amount_minor)
        assert row.Payment.amount_minor == row.total_price_minor
    confirmed = (
        await db.scalars(
            select(Booking.id).where(
                Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED
            )
        )
    ).all()
    receipts = Counter(
        (
            await db.scalars(
                select(Notification.booking_id).where(
                    Notification.kind == NotificationKind.PAYMENT_RECEIVED
                )
            )
        ).all()
    )
    await db.commit()
    # Every confirmed booking of a paid event was paid, once, and its holder told once.
    assert dict.fromkeys(confirmed, 1) == dict(confirmed_paid)
    assert dict.fromkeys(confirmed, 1) == dict(receipts)
    return len(confirmed_paid), len(paid) - len(confirmed_paid)
