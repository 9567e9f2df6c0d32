"""Holds, manual payments, late payments, refunds and waiting-list offers (SPEC §10), through
the API, with every count checked against the database after each step."""

from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import service as bookings
from boxoffice.bookings.errors import SoldOut
from boxoffice.bookings.models import Booking
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.payments.models import Payment, Refund
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_quotas_exact, assert_seats_exact
from tests.factories import (
    Caller,
    first_ticket_type,
    make_event,
    make_quota,
    make_ticket_type,
    signed_in,
)

BOOKINGS = "/api/v1/bookings"


async def paid_event(
    db: AsyncSession, organizer: Caller, *, capacity: int, **fields: object
) -> Event:
    """An event whose one type costs 25.00 EUR."""
    event = await make_event(db, organizer.user, capacity=capacity)
    kind = await first_ticket_type(db, event)
    await db.execute(update(type(kind)).where(type(kind).id == kind.id).values(price_minor=2500))
    if fields:
        await db.execute(update(Event).where(Event.id == event.id).values(**fields))
    await db.commit()
    return event


async def book(
    client: httpx.AsyncClient, who: Caller, event: Event, seats: int = 1, **more: object
) -> dict[str, object]:
    answer = await client.post(
        BOOKINGS, headers=who.headers, json={"event_id": event.id, "seats": seats, **more}
    )
    assert answer.status_code == 201, answer.text
    booking: dict[str, object] = answer.json()
    return booking


async def end_hold(db: AsyncSession, booking_id: object) -> None:
    """Moves a hold's end into the past, as time would."""
    await db.execute(
        update(Booking)
        .where(Booking.id == booking_id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await db.commit()


async def status_of(db: AsyncSession, booking_id: object) -> str:
    status = await db.scalar(select(Booking.status).where(Booking.id == booking_id))
    await db.commit()
    return str(status)


@pytest.fixture
async def organizer(db: AsyncSession, settings: Settings) -> Caller:
    return await signed_in(db, settings, Role.ORGANIZER)


async def attendee(db: AsyncSession, settings: Settings) -> Caller:
    return await signed_in(db, settings, Role.ATTENDEE)


async def test_a_priced_booking_holds_its_seats_until_paid(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=5, hold_minutes=20)
    before = utcnow()
    booking = await book(client, await attendee(db, settings), event, 2)

    assert booking["status"] == "pending"
    assert booking["total_price"] == "50.00"
    expires_at = booking["expires_at"]
    assert isinstance(expires_at, str)
    held_for = _parse(expires_at) - before
    assert timedelta(minutes=19) < held_for <= timedelta(minutes=20, seconds=5)
    seen = (await client.get(f"/api/v1/events/{event.id}")).json()
    assert (seen["seats_booked"], seen["seats_held"], seen["seats_available"]) == (0, 2, 3)
    await assert_seats_exact(db, event.id)


async def test_a_priced_booking_that_waits_has_no_end_until_it_is_offered(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=1)
    await book(client, await attendee(db, settings), event, 1)

    waiting = await book(client, await attendee(db, settings), event, 1, join_waitlist=True)

    assert (waiting["status"], waiting["expires_at"]) == ("waitlisted", None)


async def test_a_free_booking_is_confirmed_at_once_as_before(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await make_event(db, organizer.user, capacity=5)
    booking = await book(client, await attendee(db, settings), event, 2)
    assert (booking["status"], booking["expires_at"]) == ("confirmed", None)


async def test_an_expired_hold_never_stops_a_sale(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=2)
    quota = await make_quota(db, event, 2, [await first_ticket_type(db, event)])
    stale = await book(client, await attendee(db, settings), event, 2)
    await end_hold(db, stale["id"])

    fresh = await book(client, await attendee(db, settings), event, 2)

    assert fresh["status"] == "pending"
    assert await status_of(db, stale["id"]) == "expired"
    quotas = await assert_quotas_exact(db, event.id)
    assert quotas[quota.id].seats_taken == 2


@pytest.mark.parametrize("way", ["as it is", "with an Idempotency-Key", "priced from old terms"])
async def test_a_refusal_keeps_the_holds_it_reclaimed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller, way: str
) -> None:
    event = await paid_event(db, organizer, capacity=3)
    stale = await book(client, await attendee(db, settings), event, 1)
    await book(client, await attendee(db, settings), event, 2)
    await end_hold(db, stale["id"])
    buyer = await attendee(db, settings)
    headers = dict(buyer.headers)
    if way == "with an Idempotency-Key":
        headers["Idempotency-Key"] = "one-try"
    if way == "priced from old terms":
        # The app priced this event before; a new type makes what it remembers out of date.
        added = await client.post(
            f"/api/v1/events/{event.id}/ticket-types",
            headers=organizer.headers,
            json={"name": "Late addition", "price": "0.00"},
        )
        assert added.status_code == 201, added.text

    refused = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id, "seats": 2})

    assert (refused.status_code, refused.json()["code"]) == (409, "sold_out")
    assert await status_of(db, stale["id"]) == "expired"
    current = await assert_seats_exact(db, event.id)
    assert current.seats_held == 2


@pytest.mark.parametrize("way", ["sale", "joining the line", "during a rush"])
@pytest.mark.parametrize("capacity", [1, 4], ids=["sold out", "seats left"])
async def test_an_attendee_whose_own_hold_ended_may_book_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    organizer: Caller,
    way: str,
    capacity: int,
) -> None:
    event = await paid_event(db, organizer, capacity=capacity)
    holder = await attendee(db, settings)
    ended = await book(client, holder, event, 1)
    await end_hold(db, ended["id"])
    if way == "during a rush":
        app.state.rush_hint.noted(event.id, SoldOut("a rush is on"))

    joins = way == "joining the line"

    again = await book(client, holder, event, 1, join_waitlist=joins)

    # One that asks to wait is served from the line (SPEC §10): its seats are offered.
    assert again["status"] == ("offered" if joins and capacity == 1 else "pending")
    assert await status_of(db, ended["id"]) == "expired"
    current = await assert_seats_exact(db, event.id)
    assert (current.seats_held, current.waitlist_count) == (1, 0)


async def test_the_sweep_ends_holds_and_offers_their_seats_to_the_line(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    organizer: Caller,
) -> None:
    event = await paid_event(db, organizer, capacity=2, offer_hours=6)
    stale = await book(client, await attendee(db, settings), event, 2)
    waiting = await book(client, await attendee(db, settings), event, 2, join_waitlist=True)
    assert waiting["status"] == "waitlisted"
    await end_hold(db, stale["id"])

    expired = await bookings.sweep_expired_holds(app.state.sessionmaker, utcnow())

    assert expired == 1
    assert await status_of(db, stale["id"]) == "expired"
    offer = await db.scalar(select(Booking).where(Booking.id == waiting["id"]))
    assert offer is not None
    assert offer.status == "offered"
    assert offer.expires_at is not None
    assert timedelta(hours=5) < offer.expires_at - utcnow() <= timedelta(hours=6)
    await db.commit()
    current = await assert_seats_exact(db, event.id)
    assert (current.seats_booked, current.seats_held, current.waitlist_count) == (0, 2, 0)


async def test_a_manual_payment_tells_how_to_pay_and_holds_for_days(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=5, manual_payment_days=4)
    holder = await attendee(db, settings)
    booking = await book(client, holder, event, 1)

    started = await client.post(
        f"{BOOKINGS}/{booking['id']}/payments", headers=holder.headers, json={"provider": "manual"}
    )

    assert started.status_code == 201, started.text
    payment = started.json()
    assert (payment["provider"], payment["status"]) == ("manual", "pending")
    assert (payment["amount"], payment["currency"]) == ("25.00", "EUR")
    assert payment["reference"] == f"BOX-{booking['id']}"
    assert payment["reference"] in payment["instructions"]
    assert payment["client_secret"] is None
    held = (await client.get(f"{BOOKINGS}/{booking['id']}", headers=holder.headers)).json()
    assert timedelta(days=3, hours=23) < _parse(held["expires_at"]) - utcnow() <= timedelta(days=4)
    listed = await client.get(f"{BOOKINGS}/{booking['id']}/payments", headers=organizer.headers)
    assert [p["id"] for p in listed.json()["items"]] == [payment["id"]]


async def test_the_owner_marks_a_manual_payment_paid(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=5)
    holder = await attendee(db, settings)
    booking = await book(client, holder, event, 2)
    path = f"{BOOKINGS}/{booking['id']}"
    await client.post(f"{path}/payments", headers=holder.headers, json={"provider": "manual"})

    by_holder = await client.post(f"{path}/mark-paid", headers=holder.headers)
    assert by_holder.status_code == 403
    paid = await client.post(f"{path}/mark-paid", headers=organizer.headers)

    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["expires_at"]) == ("confirmed", None)
    payments = (await client.get(f"{path}/payments", headers=holder.headers)).json()["items"]
    assert [p["status"] for p in payments] == ["confirmed"]
    again = await client.post(f"{path}/mark-paid", headers=organizer.headers)
    assert again.json()["code"] == "booking_not_pending"
    current = await assert_seats_exact(db, event.id)
    assert (current.seats_booked, current.seats_held) == (2, 0)


async def test_a_late_payment_confirms_when_the_seats_are_still_there(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=3)
    booking = await book(client, await attendee(db, settings), event, 2)
    await end_hold(db, booking["id"])

    paid = await client.post(f"{BOOKINGS}/{booking['id']}/mark-paid", headers=organizer.headers)

    assert paid.json()["status"] == "confirmed"
    current = await assert_seats_exact(db, event.id)
    assert (current.seats_booked, current.seats_held) == (2, 0)


async def test_a_late_payment_whose_seats_are_gone_is_refunded(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=2)
    late = await book(client, await attendee(db, settings), event, 2)
    await end_hold(db, late["id"])
    await book(client, await attendee(db, settings), event, 1)

    answer = await client.post(f"{BOOKINGS}/{late['id']}/mark-paid", headers=organizer.headers)

    assert answer.json()["status"] == "expired"
    refund = await db.scalar(select(Refund))
    payment = await db.scalar(select(Payment))
    assert refund is not None
    assert payment is not None
    assert (payment.status, refund.reason, refund.status) == ("refunded", "late_payment", "owed")
    assert refund.amount_minor == payment.amount_minor == 5000
    await db.commit()
    current = await assert_seats_exact(db, event.id)
    assert (current.seats_booked, current.seats_held) == (0, 1)


async def test_a_late_payment_of_a_banned_holder_is_refunded(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=3)
    holder = await attendee(db, settings)
    late = await book(client, holder, event, 2)
    await end_hold(db, late["id"])
    await bookings.sweep_expired_holds(app.state.sessionmaker, utcnow())
    admin = await signed_in(db, settings, Role.ADMIN)
    banned = await client.patch(
        f"/api/v1/admin/users/{holder.user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert banned.status_code == 200, banned.text

    answer = await client.post(f"{BOOKINGS}/{late['id']}/mark-paid", headers=organizer.headers)

    assert answer.json()["status"] == "expired", answer.text
    refund = await db.scalar(select(Refund))
    assert refund is not None
    assert (refund.reason, refund.amount_minor) == ("late_payment", 5000)
    await db.commit()
    current = await assert_seats_exact(db, event.id)
    assert (current.seats_booked, current.seats_held) == (0, 0)


async def test_cancelling_a_paid_booking_refunds_it_until_the_deadline(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=5)
    holder = await attendee(db, settings)
    first = await book(client, holder, event, 1)
    await client.post(f"{BOOKINGS}/{first['id']}/mark-paid", headers=organizer.headers)

    cancelled = await client.delete(f"{BOOKINGS}/{first['id']}", headers=holder.headers)

    assert cancelled.json()["status"] == "cancelled"
    refund = await db.scalar(select(Refund))
    assert refund is not None
    assert (refund.reason, refund.status, refund.amount_minor) == ("cancelled", "owed", 2500)
    await db.commit()
    second = await book(client, holder, event, 1)
    await client.post(f"{BOOKINGS}/{second['id']}/mark-paid", headers=organizer.headers)
    await db.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(cancellation_deadline=utcnow() - timedelta(minutes=1))
    )
    await db.commit()
    closed = await client.delete(f"{BOOKINGS}/{second['id']}", headers=holder.headers)
    assert (closed.status_code, closed.json()["code"]) == (409, "cancellation_closed")
    await assert_seats_exact(db, event.id)


async def test_a_cancelled_event_refunds_every_paid_booking(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=5)
    for _ in range(2):
        booking = await book(client, await attendee(db, settings), event, 1)
        await client.post(f"{BOOKINGS}/{booking['id']}/mark-paid", headers=organizer.headers)
    unpaid = await attendee(db, settings)
    started = await book(client, unpaid, event, 1)
    path = f"{BOOKINGS}/{started['id']}/payments"
    await client.post(path, headers=unpaid.headers, json={"provider": "manual"})

    cancelled = await client.post(f"/api/v1/events/{event.id}/cancel", headers=organizer.headers)

    assert cancelled.status_code == 200, cancelled.text
    refunds = (await db.scalars(select(Refund))).all()
    assert sorted(r.reason for r in refunds) == ["event_cancelled", "event_cancelled"]
    # A payment under way ends with its booking, as it does when a booking is cancelled.
    under_way = (await client.get(path, headers=unpaid.headers)).json()["items"]
    assert [p["status"] for p in under_way] == ["cancelled"]
    await db.commit()
    current = await assert_seats_exact(db, event.id)
    assert (current.seats_booked, current.seats_held) == (0, 0)


async def test_a_deleted_event_cancels_the_payments_under_way_of_its_ended_holds(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    organizer: Caller,
) -> None:
    event = await paid_event(db, organizer, capacity=2)
    holder = await attendee(db, settings)
    ended = await book(client, holder, event, 1)
    path = f"{BOOKINGS}/{ended['id']}/payments"
    await client.post(path, headers=holder.headers, json={"provider": "manual"})
    await end_hold(db, ended["id"])
    await bookings.sweep_expired_holds(app.state.sessionmaker, utcnow())

    # Nothing active is left: the delete cancels no booking, but the money under way still ends.
    deleted = await client.delete(f"/api/v1/events/{event.id}", headers=organizer.headers)

    assert deleted.status_code == 204, deleted.text
    statuses = (await db.scalars(select(Payment.status))).all()
    assert [str(status) for status in statuses] == ["cancelled"]


async def test_payments_only_for_pending_bookings_and_enabled_providers(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    free = await make_event(db, organizer.user, capacity=5)
    holder = await attendee(db, settings)
    confirmed = await book(client, holder, free, 1)
    paid = await paid_event(db, organizer, capacity=5)
    pending = await book(client, holder, paid, 1)

    async def pay(booking: dict[str, object], provider: str) -> httpx.Response:
        return await client.post(
            f"{BOOKINGS}/{booking['id']}/payments",
            headers=holder.headers,
            json={"provider": provider},
        )

    nothing = await pay(confirmed, "manual")
    not_enabled = await pay(pending, "stripe")
    unknown = await pay(pending, "paypal")
    assert (nothing.status_code, nothing.json()["code"]) == (409, "payment_not_allowed")
    assert (not_enabled.status_code, not_enabled.json()["code"]) == (409, "payment_not_allowed")
    assert unknown.status_code == 422
    assert await db.scalar(select(Payment)) is None


async def test_an_offer_accepted_then_paid_is_confirmed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=2, hold_minutes=10)
    first = await attendee(db, settings)
    taken = await book(client, first, event, 2)
    second = await attendee(db, settings)
    waiting = await book(client, second, event, 2, join_waitlist=True)
    await client.delete(f"{BOOKINGS}/{taken['id']}", headers=first.headers)
    path = f"{BOOKINGS}/{waiting['id']}"
    assert (await client.get(path, headers=second.headers)).json()["status"] == "offered"

    by_other = await client.post(f"{path}/accept", headers=first.headers)
    accepted = await client.post(f"{path}/accept", headers=second.headers)

    assert by_other.status_code in (403, 404)
    assert accepted.json()["status"] == "pending"
    assert _parse(accepted.json()["expires_at"]) - utcnow() <= timedelta(minutes=10)
    paid = await client.post(f"{path}/mark-paid", headers=organizer.headers)
    assert paid.json()["status"] == "confirmed"
    current = await assert_seats_exact(db, event.id)
    assert (current.seats_booked, current.seats_held) == (2, 0)


async def test_a_declined_or_expired_offer_passes_to_the_next_in_line(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    organizer: Caller,
) -> None:
    event = await paid_event(db, organizer, capacity=1)
    first = await attendee(db, settings)
    taken = await book(client, first, event, 1)
    line = [await attendee(db, settings) for _ in range(3)]
    waiting = [await book(client, who, event, 1, join_waitlist=True) for who in line]
    await client.delete(f"{BOOKINGS}/{taken['id']}", headers=first.headers)

    declined = await client.post(f"{BOOKINGS}/{waiting[0]['id']}/decline", headers=line[0].headers)
    assert declined.json()["status"] == "cancelled"
    assert await status_of(db, waiting[1]["id"]) == "offered"
    await end_hold(db, waiting[1]["id"])
    late = await client.post(f"{BOOKINGS}/{waiting[1]['id']}/accept", headers=line[1].headers)

    assert (late.status_code, late.json()["code"]) == (409, "offer_expired")
    assert await status_of(db, waiting[1]["id"]) == "expired"
    assert await status_of(db, waiting[2]["id"]) == "offered"
    await assert_seats_exact(db, event.id)


async def test_a_priced_booking_in_line_is_offered_after_the_event_turns_free(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await paid_event(db, organizer, capacity=1)
    kind = await first_ticket_type(db, event)
    first = await attendee(db, settings)
    taken = await book(client, first, event, 1)
    second = await attendee(db, settings)
    waiting = await book(client, second, event, 1, join_waitlist=True)
    made_free = await client.patch(
        f"/api/v1/events/{event.id}/ticket-types/{kind.id}",
        headers=organizer.headers,
        json={"price": "0.00"},
    )
    assert made_free.status_code == 200, made_free.text

    await client.delete(f"{BOOKINGS}/{taken['id']}", headers=first.headers)

    served = (await client.get(f"{BOOKINGS}/{waiting['id']}", headers=second.headers)).json()
    assert (served["status"], served["total_price"]) == ("offered", "25.00")
    accepted = await client.post(f"{BOOKINGS}/{waiting['id']}/accept", headers=second.headers)
    assert accepted.json()["status"] == "pending"
    current = await assert_seats_exact(db, event.id)
    assert (current.seats_booked, current.seats_held) == (0, 1)


async def test_an_expired_offer_of_free_seats_has_nothing_to_pay(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    organizer: Caller,
) -> None:
    event = await paid_event(db, organizer, capacity=1)
    free = await make_ticket_type(db, event, price_minor=0)
    first = await attendee(db, settings)
    taken = await book(client, first, event, 1)
    line = [{"ticket_type_id": free.id, "quantity": 1}]
    answer = await client.post(
        BOOKINGS,
        headers=(await attendee(db, settings)).headers,
        json={"event_id": event.id, "lines": line, "join_waitlist": True},
    )
    waiting = answer.json()
    assert waiting["status"] == "waitlisted", answer.text
    await client.delete(f"{BOOKINGS}/{taken['id']}", headers=first.headers)
    await end_hold(db, waiting["id"])
    await bookings.sweep_expired_holds(app.state.sessionmaker, utcnow())
    assert await status_of(db, waiting["id"]) == "expired"

    paid = await client.post(f"{BOOKINGS}/{waiting['id']}/mark-paid", headers=organizer.headers)

    assert (paid.status_code, paid.json()["code"]) == (409, "payment_not_allowed")
    assert await db.scalar(select(Payment)) is None


async def test_a_free_event_set_to_offer_confirms_on_accept(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await make_event(db, organizer.user, capacity=1)
    await db.execute(update(Event).where(Event.id == event.id).values(waitlist_mode="offer"))
    await db.commit()
    first = await attendee(db, settings)
    taken = await book(client, first, event, 1)
    second = await attendee(db, settings)
    waiting = await book(client, second, event, 1, join_waitlist=True)
    await client.delete(f"{BOOKINGS}/{taken['id']}", headers=first.headers)

    accepted = await client.post(f"{BOOKINGS}/{waiting['id']}/accept", headers=second.headers)

    assert accepted.json()["status"] == "confirmed"
    await assert_seats_exact(db, event.id)


async def test_a_paid_type_in_a_quota_holds_quota_seats(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, organizer: Caller
) -> None:
    event = await make_event(db, organizer.user, capacity=10)
    vip = await make_ticket_type(db, event, price_minor=9900)
    quota = await make_quota(db, event, 3, [vip])
    holder = await attendee(db, settings)
    answer = await client.post(
        BOOKINGS,
        headers=holder.headers,
        json={"event_id": event.id, "lines": [{"ticket_type_id": vip.id, "quantity": 3}]},
    )
    assert answer.json()["status"] == "pending"
    assert (await assert_quotas_exact(db, event.id))[quota.id].seats_taken == 3
    await client.delete(f"{BOOKINGS}/{answer.json()['id']}", headers=holder.headers)
    assert (await assert_quotas_exact(db, event.id))[quota.id].seats_taken == 0


def _parse(value: object) -> datetime:
    assert isinstance(value, str)
    return datetime.fromisoformat(value)
