"""The messages of holds, offers and payments (SPEC §10): what each writes in the outbox, what
arrives through a real SMTP server, and which are dropped when their moment has passed."""

from datetime import timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.notifications import outbox
from boxoffice.notifications.models import NotificationKind, NotificationStatus
from boxoffice.notifications.worker import Worker
from boxoffice.payments.models import RefundReason
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import make_event, make_ticket_type, make_user
from tests.notifications.smtp import Mailbox
from tests.notifications.support import (
    Clock,
    booking_ids,
    close_to,
    make_booking,
    make_payment,
    make_refund,
)
from tests.notifications.support import outbox as read_outbox

PENDING, OFFERED, CONFIRMED, EXPIRED, CANCELLED = (
    BookingStatus.PENDING,
    BookingStatus.OFFERED,
    BookingStatus.CONFIRMED,
    BookingStatus.EXPIRED,
    BookingStatus.CANCELLED,
)
BERLIN = "Europe/Berlin"


async def _event(
    db: AsyncSession, *, starts_in: timedelta = timedelta(days=7), currency: str = "EUR"
) -> Event:
    organizer = await make_user(db, role=Role.ORGANIZER)
    return await make_event(
        db, organizer, title="Jazz Night", timezone=BERLIN, starts_in=starts_in, currency=currency
    )


async def _paid_booking(
    db: AsyncSession,
    event: Event,
    status: BookingStatus = PENDING,
    *,
    held_for: timedelta | None = timedelta(minutes=15),
) -> Booking:
    """Two adults at 12.50 and a child at 8.00 (33.00 in EUR), held for that long from now."""
    adult = await make_ticket_type(db, event, name="Adult", price_minor=1250)
    child = await make_ticket_type(db, event, name="Child", price_minor=800)
    return await make_booking(
        db,
        event,
        status=status,
        lines=[(adult, 2), (child, 1)],
        expires_at=None if held_for is None else utcnow() + held_for,
    )


def _worker(app: FastAPI, settings: Settings, clock: Clock | None = None) -> Worker:
    return Worker(settings, app.state.sessionmaker, clock=clock or Clock(), name="test-worker")


def _parts(message: EmailMessage) -> dict[str, list[EmailMessage]]:
    parts: dict[str, list[EmailMessage]] = {}
    for part in message.walk():
        if not part.is_multipart():
            parts.setdefault(part.get_content_type(), []).append(part)
    return parts


def _text(message: EmailMessage) -> str:
    # SMTP carries lines ending in CRLF.
    return str(_parts(message)["text/plain"][0].get_content()).replace("\r\n", "\n")


def _html(message: EmailMessage) -> str:
    return str(_parts(message)["text/html"][0].get_content())


def _in_berlin(booking: Booking) -> str:
    assert booking.expires_at is not None
    return f"{booking.expires_at.astimezone(ZoneInfo(BERLIN)):%H:%M} ({BERLIN})"


def _link(booking: Booking) -> str:
    return f"https://tickets.example.org/box/bookings/{booking.id}"


async def _send(
    app: FastAPI, settings: Settings, mailbox: Mailbox, count: int
) -> list[EmailMessage]:
    assert await _worker(app, settings).run_once() == count
    return mailbox.wait_for(count)


# What each function writes.


async def test_a_pending_booking_is_asked_to_pay_and_gets_no_reminder_before_it_has(
    db: AsyncSession,
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event)

    await outbox.booking_pending(db, booking)
    await db.commit()

    (asked,) = await read_outbox(db)
    assert asked.kind is NotificationKind.BOOKING_PENDING
    assert (asked.user_id, asked.event_id, asked.booking_id) == (
        booking.user_id,
        event.id,
        booking.id,
    )
    assert asked.payload is None


async def test_each_expired_booking_is_told_once_and_no_one_else(db: AsyncSession) -> None:
    event = await _event(db)
    expired = [await _paid_booking(db, event, EXPIRED) for _ in range(3)]
    await _paid_booking(db, event, PENDING)

    await outbox.bookings_expired(db, [b.id for b in expired])
    await outbox.bookings_expired(db, [])
    await db.commit()

    told = await read_outbox(db, NotificationKind.BOOKING_EXPIRED)
    assert booking_ids(told) == sorted(b.id for b in expired)
    assert {(n.user_id, n.event_id) for n in told} == {(b.user_id, event.id) for b in expired}


async def test_each_offered_booking_is_told_once_and_no_one_else(db: AsyncSession) -> None:
    event = await _event(db)
    offered = [await _paid_booking(db, event, OFFERED) for _ in range(2)]
    await _paid_booking(db, event, BookingStatus.WAITLISTED)

    await outbox.waitlist_offered(db, {b.id for b in offered})
    await outbox.waitlist_offered(db, set())
    await db.commit()

    told = await read_outbox(db, NotificationKind.WAITLIST_OFFER)
    assert booking_ids(told) == sorted(b.id for b in offered)


async def test_a_receipt_keeps_its_payment_and_gives_the_booking_its_reminder(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, starts_in=timedelta(days=3))
    booking = await _paid_booking(db, event, CONFIRMED, held_for=None)
    payment = await make_payment(db, booking, provider="stripe", reference="pi_42")

    await outbox.payment_received(db, booking, payment)
    await db.commit()

    receipt, reminder = await read_outbox(db)
    assert receipt.kind is NotificationKind.PAYMENT_RECEIVED
    assert receipt.booking_id == booking.id
    assert receipt.payload == {
        "amount_minor": 3300,
        "currency": "EUR",
        "provider": "stripe",
        "reference": "pi_42",
    }
    assert (reminder.kind, reminder.booking_id) == (NotificationKind.REMINDER, booking.id)
    lead = timedelta(minutes=settings.reminder_lead_minutes)
    assert close_to(reminder.due_at, event.starts_at - lead)


async def test_a_receipt_after_the_reminder_moment_brings_no_reminder(db: AsyncSession) -> None:
    event = await _event(db, starts_in=timedelta(hours=3))
    booking = await _paid_booking(db, event, CONFIRMED, held_for=None)

    await outbox.payment_received(db, booking, await make_payment(db, booking))
    await db.commit()

    assert [n.kind for n in await read_outbox(db)] == [NotificationKind.PAYMENT_RECEIVED]


async def test_a_booking_still_pending_gets_no_reminder_from_a_receipt_or_a_moved_start(
    db: AsyncSession,
) -> None:
    """Reminders are for confirmed bookings only: a hold gets one when it is paid."""
    event = await _event(db, starts_in=timedelta(days=5))
    pending = await _paid_booking(db, event, PENDING)
    offered = await _paid_booking(db, event, OFFERED)
    confirmed = await make_booking(db, event)

    await outbox.payment_received(db, pending, await make_payment(db, pending))
    before = outbox.noteworthy(event)
    event.starts_at += timedelta(days=1)
    await outbox.event_changed(db, event, before)
    await db.commit()

    reminders = await read_outbox(db, NotificationKind.REMINDER)
    assert booking_ids(reminders) == [confirmed.id]
    changed = await read_outbox(db, NotificationKind.EVENT_CHANGED)
    assert booking_ids(changed) == sorted([pending.id, offered.id, confirmed.id])


async def test_a_refund_keeps_its_amount_reason_and_the_payments_provider(
    db: AsyncSession,
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, EXPIRED)
    payment = await make_payment(db, booking, provider="manual", reference="BX-7Q2M")
    refund = await make_refund(db, payment, RefundReason.LATE_PAYMENT)

    await outbox.payment_refunded(db, booking, refund)
    await db.commit()

    (told,) = await read_outbox(db)
    assert told.kind is NotificationKind.PAYMENT_REFUNDED
    assert told.payload == {
        "amount_minor": 3300,
        "currency": "EUR",
        "reason": "late_payment",
        "provider": "manual",
        "reference": "BX-7Q2M",
    }
    stored = await db.scalars(text("SELECT payload FROM notifications"))
    assert stored.one().startswith('{"amount_minor":3300,')


async def test_messages_of_a_rolled_back_change_are_never_written(db: AsyncSession) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, CONFIRMED, held_for=None)
    payment = await make_payment(db, booking)
    refund = await make_refund(db, payment, RefundReason.CANCELLED)

    await outbox.booking_pending(db, booking)
    await outbox.waitlist_offered(db, [booking.id])
    await outbox.bookings_expired(db, [booking.id])
    await outbox.payment_received(db, booking, payment)
    await outbox.payment_refunded(db, booking, refund)
    await db.rollback()

    assert await read_outbox(db) == []


# What arrives.


async def test_a_pending_booking_is_asked_for_its_total_by_its_deadline_with_a_link_to_pay(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event)
    await outbox.booking_pending(db, booking)
    await db.commit()

    (message,) = await _send(app, smtp_settings, mailbox, 1)

    assert message["X-Boxoffice-Kind"] == "booking_pending"
    assert message["Subject"] == "Pay to confirm your booking: Jazz Night"
    text, html = _text(message), _html(message)
    for body in (text, html):
        assert "33.00 EUR" in body
        assert _in_berlin(booking) in body
        assert "2× Adult" in body
        assert "1× Child" in body
        assert booking.ticket_code not in body
    assert "2× Adult at 12.50 EUR\n" in text
    assert "1× Child at 8.00 EUR\n" in text
    assert "Total:  33.00 EUR\n" in text
    assert f"\n{_link(booking)}\n" in text
    assert f'<a href="{_link(booking)}">' in html
    assert set(_parts(message)) == {"text/plain", "text/html"}


async def test_an_expired_booking_is_told_its_seats_were_released(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, EXPIRED, held_for=timedelta(minutes=-1))
    await outbox.bookings_expired(db, [booking.id])
    await db.commit()

    (message,) = await _send(app, smtp_settings, mailbox, 1)

    assert message["X-Boxoffice-Kind"] == "booking_expired"
    assert message["Subject"] == "Booking expired, seats released: Jazz Night"
    for body in (_text(message), _html(message)):
        assert "seats have been released" in body
        assert _in_berlin(booking) in body
        assert booking.ticket_code not in body


@pytest.mark.parametrize(
    ("paid", "accepting"),
    [
        (True, "Accepting asks you to pay 33.00 EUR next"),
        (False, "Accepting confirms your booking at once; there is nothing to pay."),
    ],
)
async def test_an_offer_names_its_deadline_its_link_and_whether_accepting_asks_for_payment(
    app: FastAPI,
    db: AsyncSession,
    smtp_settings: Settings,
    mailbox: Mailbox,
    paid: bool,
    accepting: str,
) -> None:
    event = await _event(db)
    expires_at = utcnow() + timedelta(hours=24)
    if paid:
        booking = await _paid_booking(db, event, OFFERED, held_for=timedelta(hours=24))
    else:
        booking = await make_booking(db, event, status=OFFERED, seats=2, expires_at=expires_at)
    await outbox.waitlist_offered(db, [booking.id])
    await db.commit()

    (message,) = await _send(app, smtp_settings, mailbox, 1)

    assert message["X-Boxoffice-Kind"] == "waitlist_offer"
    assert "Jazz Night" in message["Subject"]
    text, html = _text(message), _html(message)
    assert accepting in text
    assert accepting.replace("33.00 EUR", "<strong>33.00 EUR</strong>") in html
    assert _in_berlin(booking) in text
    assert _in_berlin(booking) in html
    assert f"\n{_link(booking)}\n" in text
    assert f'<a href="{_link(booking)}">' in html
    assert booking.ticket_code not in text


async def test_the_receipt_lists_lines_total_method_and_reference_and_carries_the_tickets(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, CONFIRMED, held_for=None)
    payment = await make_payment(db, booking, provider="stripe", reference="pi_3Pq0AbCdEf")
    await outbox.payment_received(db, booking, payment)
    await db.commit()

    (message,) = await _send(app, smtp_settings, mailbox, 1)

    assert message["X-Boxoffice-Kind"] == "payment_received"
    assert message["Subject"] == "Payment received, booking confirmed: Jazz Night"
    text, html = _text(message), _html(message)
    assert "Paid:      33.00 EUR\n" in text
    assert "Method:    card, through Stripe\n" in text
    assert "Reference: pi_3Pq0AbCdEf\n" in text
    assert "2× Adult at 12.50 EUR\n" in text
    assert "1× Child at 8.00 EUR\n" in text
    assert "Total:  33.00 EUR\n" in text
    assert f"Ticket code: {booking.ticket_code}" in text
    for shown in ("33.00 EUR", "card, through Stripe", "pi_3Pq0AbCdEf", "12.50 EUR each"):
        assert shown in html
    parts = _parts(message)
    (calendar,) = parts["text/calendar"]
    (entry,) = icalendar.Calendar.from_ical(calendar.get_content()).walk("VEVENT")
    assert str(entry["summary"]) == "Jazz Night"
    assert len(parts["image/svg+xml"]) == 3


async def test_a_receipt_shows_amounts_in_the_currencys_own_digits(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await _event(db, currency="JPY")
    seat = await make_ticket_type(db, event, name="Seat", price_minor=1500)
    booking = await make_booking(db, event, lines=[(seat, 2)])
    await outbox.payment_received(db, booking, await make_payment(db, booking))
    await db.commit()

    (message,) = await _send(app, smtp_settings, mailbox, 1)

    text = _text(message)
    assert "Paid:      3000 JPY\n" in text
    assert "2× Seat at 1500 JPY\n" in text


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        (RefundReason.CANCELLED, "your booking was cancelled"),
        (RefundReason.EVENT_CANCELLED, "the event was cancelled"),
        (
            RefundReason.LATE_PAYMENT,
            "your payment came after your hold ended and the seats were gone",
        ),
        (RefundReason.DUPLICATE, "the booking had already been paid for"),
    ],
)
async def test_a_refund_says_how_much_and_why(
    app: FastAPI,
    db: AsyncSession,
    smtp_settings: Settings,
    mailbox: Mailbox,
    reason: RefundReason,
    why: str,
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, CANCELLED, held_for=None)
    payment = await make_payment(db, booking, provider="stripe", reference="pi_9")
    await outbox.payment_refunded(db, booking, await make_refund(db, payment, reason))
    await db.commit()

    (message,) = await _send(app, smtp_settings, mailbox, 1)

    assert message["X-Boxoffice-Kind"] == "payment_refunded"
    assert message["Subject"] == "Payment refunded: Jazz Night"
    text, html = _text(message), _html(message)
    assert f'33.00 EUR for "Jazz Night" is being refunded in full: {why}.\n' in text
    assert f"{why}." in html
    assert "goes back the way you paid (card, through Stripe, reference pi_9)" in text
    assert "organizer" not in text
    assert booking.ticket_code not in text


async def test_a_refund_of_a_manual_payment_says_the_organizer_pays_it_back(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, CANCELLED, held_for=None)
    payment = await make_payment(db, booking, provider="manual", reference="BX-7Q2M")
    refund = await make_refund(db, payment, RefundReason.EVENT_CANCELLED)
    await outbox.payment_refunded(db, booking, refund)
    await db.commit()

    (message,) = await _send(app, smtp_settings, mailbox, 1)

    expected = (
        "You paid by bank transfer or cash at the desk, so the organizer of the event pays the"
        " money back to you."
    )
    assert expected in _text(message)
    assert expected in _html(message)
    assert "BX-7Q2M" in _text(message)


def test_links_are_made_from_a_public_url_that_must_be_a_web_address() -> None:
    assert Settings(public_url="https://tickets.example.org/").public_url == (
        "https://tickets.example.org"
    )
    with pytest.raises(ValidationError, match="http:// or https://"):
        Settings(public_url="tickets.example.org")


# What is still wanted when its turn comes.


async def _dropped(app: FastAPI, db: AsyncSession, settings: Settings, clock: Clock) -> None:
    """Runs the worker once over the one message written; it must be dropped, not sent."""
    assert await _worker(app, settings, clock).run_once() == 1
    (row,) = await read_outbox(db)
    assert (row.status, row.attempts, row.sent_at) == (NotificationStatus.CANCELLED, 0, None)


@pytest.mark.parametrize("now", [CONFIRMED, EXPIRED, CANCELLED])
async def test_a_request_to_pay_for_a_booking_no_longer_pending_is_dropped_unsent(
    app: FastAPI,
    db: AsyncSession,
    smtp_settings: Settings,
    mailbox: Mailbox,
    now: BookingStatus,
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event)
    await outbox.booking_pending(db, booking)
    await db.commit()
    booking.status, booking.active = now, None if now in (EXPIRED, CANCELLED) else True
    await db.commit()

    await _dropped(app, db, smtp_settings, Clock())

    assert mailbox.messages == []


async def test_a_request_to_pay_at_its_deadline_is_dropped_before_the_sweep_ends_the_hold(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, held_for=timedelta(minutes=15))
    await outbox.booking_pending(db, booking)
    await db.commit()
    clock = Clock()
    assert booking.expires_at is not None
    clock.now = booking.expires_at

    await _dropped(app, db, smtp_settings, clock)

    assert mailbox.messages == []


async def test_a_request_to_pay_goes_out_with_the_hold_as_it_is_when_sent(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    """A hold lengthened before the message went (the holder chose to pay by bank transfer)
    shows its new end."""
    event = await _event(db)
    booking = await _paid_booking(db, event)
    await outbox.booking_pending(db, booking)
    await db.commit()
    assert booking.expires_at is not None
    booking.expires_at += timedelta(days=3)
    await db.commit()

    (message,) = await _send(app, smtp_settings, mailbox, 1)

    assert _in_berlin(booking) in _text(message)
    day = booking.expires_at.astimezone(ZoneInfo(BERLIN))
    assert f"{day:%A %d %B %Y}" in _text(message)


@pytest.mark.parametrize("now", [PENDING, CONFIRMED, EXPIRED, CANCELLED])
async def test_an_offer_no_longer_open_is_dropped_unsent(
    app: FastAPI,
    db: AsyncSession,
    smtp_settings: Settings,
    mailbox: Mailbox,
    now: BookingStatus,
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, OFFERED, held_for=timedelta(hours=24))
    await outbox.waitlist_offered(db, [booking.id])
    await db.commit()
    booking.status, booking.active = now, None if now in (EXPIRED, CANCELLED) else True
    await db.commit()

    await _dropped(app, db, smtp_settings, Clock())

    assert mailbox.messages == []


async def test_an_offer_at_its_deadline_is_dropped_unsent(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, OFFERED, held_for=timedelta(hours=24))
    await outbox.waitlist_offered(db, [booking.id])
    await db.commit()
    clock = Clock()
    assert booking.expires_at is not None
    clock.now = booking.expires_at

    await _dropped(app, db, smtp_settings, clock)

    assert mailbox.messages == []


async def test_an_expiry_notice_of_a_booking_a_late_payment_took_back_is_dropped_for_its_receipt(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, EXPIRED, held_for=timedelta(minutes=-1))
    await outbox.bookings_expired(db, [booking.id])
    await db.commit()
    booking.status, booking.active, booking.expires_at = CONFIRMED, True, None
    await db.commit()
    await outbox.payment_received(db, booking, await make_payment(db, booking))
    await db.commit()

    assert await _worker(app, smtp_settings).run_once() == 2

    assert [m["X-Boxoffice-Kind"] for m in mailbox.wait_for(1)] == ["payment_received"]
    statuses = {n.kind: n.status for n in await read_outbox(db)}
    assert statuses == {
        NotificationKind.BOOKING_EXPIRED: NotificationStatus.CANCELLED,
        NotificationKind.PAYMENT_RECEIVED: NotificationStatus.SENT,
        NotificationKind.REMINDER: NotificationStatus.PENDING,
    }


async def test_a_receipt_and_its_refund_go_out_whatever_the_booking_became_since(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await _event(db)
    booking = await _paid_booking(db, event, CONFIRMED, held_for=None)
    payment = await make_payment(db, booking)
    await outbox.payment_received(db, booking, payment)
    await db.commit()
    booking.status, booking.active = CANCELLED, None
    refund = await make_refund(db, payment, RefundReason.CANCELLED)
    await outbox.booking_cancelled(db, booking)
    await outbox.payment_refunded(db, booking, refund)
    await db.commit()

    messages = await _send(app, smtp_settings, mailbox, 3)

    kinds = sorted(str(m["X-Boxoffice-Kind"]) for m in messages)
    assert kinds == ["booking_cancelled", "payment_received", "payment_refunded"]
    (receipt,) = [m for m in messages if m["X-Boxoffice-Kind"] == "payment_received"]
    # Its tickets admit no one any more: neither shown nor attached.
    assert booking.ticket_code not in _text(receipt)
    assert "image/svg+xml" not in _parts(receipt)
    (reminder,) = await read_outbox(db, NotificationKind.REMINDER)
    assert reminder.status is NotificationStatus.CANCELLED
