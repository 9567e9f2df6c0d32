"""What people are told when they act through the API: the outbox written by the booking and
event rules, sent by a worker to a real SMTP server and read back."""

import io
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

import httpx
import icalendar
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking
from boxoffice.bookings.tickets import qr_svg
from boxoffice.catalogue.models import TicketType
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.notifications.models import NotificationKind, NotificationStatus
from boxoffice.notifications.outbox import reminder_lead
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import (
    first_ticket_type,
    make_attendees_with_headers,
    make_event,
    signed_in,
)
from tests.notifications.smtp import Mailbox
from tests.notifications.support import close_to, deliver, due_now
from tests.notifications.support import outbox as read_outbox

BOOKINGS = "/api/v1/bookings"
EVENTS = "/api/v1/events"


@dataclass
class Post:
    """The mail a test's actions caused: a worker sends what is due to the test's SMTP server."""

    app: FastAPI
    settings: Settings
    mailbox: Mailbox

    async def deliver(self) -> None:
        """Runs a worker until nothing due is left; the mailbox then holds what it sent (a
        message no longer wanted when its turn came is dropped, not sent)."""
        worker = Worker(self.settings, self.app.state.sessionmaker, name="api-test-worker")
        await deliver(worker, self.mailbox)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages

    def kinds(self) -> Counter[str]:
        return Counter(str(message["X-Boxoffice-Kind"]) for message in self.messages)


@pytest.fixture
def post(app: FastAPI, smtp_settings: Settings, mailbox: Mailbox) -> Post:
    return Post(app, smtp_settings, mailbox)


def calendar_of(message: EmailMessage) -> icalendar.Calendar:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return icalendar.Calendar.from_ical(io.BytesIO(payload).read())


async def test_a_booking_sends_exactly_one_confirmation_with_the_event_as_calendar_file(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, _ = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    ann = await signed_in(db, settings, Role.ATTENDEE, email="ann@example.com")

    booked = await client.post(BOOKINGS, headers=ann.headers, json={"event_id": event.id})
    await post.deliver()

    assert booked.status_code == 201
    (message,) = post.messages
    assert message["X-Boxoffice-Kind"] == "booking_confirmed"
    assert "ann@example.com" in message["To"]
    assert event.title in message["Subject"]
    (vevent,) = calendar_of(message).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == event.title
    (reminder,) = await read_outbox(db, NotificationKind.REMINDER)
    assert reminder.status is NotificationStatus.PENDING
    assert close_to(reminder.due_at, event.starts_at - reminder_lead(db))


async def test_a_confirmation_lists_the_lines_and_carries_a_qr_code_per_ticket(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, _ = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    ann = await signed_in(db, settings, Role.ATTENDEE)

    booked = await client.post(
        BOOKINGS, headers=ann.headers, json={"event_id": event.id, "seats": 2}
    )
    await post.deliver()

    (message,) = post.messages
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert "2× General admission at 0.00 EUR" in text
    assert "Total:  0.00 EUR" in text
    codes = [ticket["code"] for ticket in booked.json()["tickets"]]
    assert all(code in text for code in [booked.json()["ticket_code"], *codes])
    attached = {
        str(p.get_filename()): p.get_payload(decode=True)
        for p in message.walk()
        if p.get_content_type() == "image/svg+xml"
    }
    assert attached == {f"ticket-{code}.svg": qr_svg(code) for code in codes}


async def test_a_refused_booking_sends_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, _ = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=1)
    first, second = await make_attendees_with_headers(db, settings, 2)
    await client.post(BOOKINGS, headers=first, json={"event_id": event.id})
    await post.deliver()
    before = len(await read_outbox(db))

    sold_out = await client.post(BOOKINGS, headers=second, json={"event_id": event.id})
    twice = await client.post(BOOKINGS, headers=first, json={"event_id": event.id})
    await post.deliver()

    assert (sold_out.json()["code"], twice.json()["code"]) == ("sold_out", "already_booked")
    assert len(await read_outbox(db)) == before
    assert post.kinds() == {"booking_confirmed": 1}


async def test_cancelling_an_event_tells_each_of_its_30_attendees_once_and_cancels_no_booking(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, organizer_headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=25)
    crowd = await make_attendees_with_headers(db, settings, 30)
    for headers in crowd:
        booked = await client.post(
            BOOKINGS, headers=headers, json={"event_id": event.id, "join_waitlist": True}
        )
        assert booked.status_code == 201
    await post.deliver()
    post.messages.clear()

    cancelled = await client.post(f"{EVENTS}/{event.id}/cancel", headers=organizer_headers)
    await post.deliver()

    assert cancelled.status_code == 200
    assert post.kinds() == {"event_cancelled": 30}
    assert len({str(message["To"]) for message in post.messages}) == 30
    assert await read_outbox(db, NotificationKind.REMINDER, NotificationStatus.PENDING) == []


async def test_seats_coming_back_promote_the_next_in_line_and_tell_them(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, _ = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=1)
    holder = await signed_in(db, settings, Role.ATTENDEE, email="holder@example.com")
    waiting = await signed_in(db, settings, Role.ATTENDEE, email="waiting@example.com")
    held = await client.post(BOOKINGS, headers=holder.headers, json={"event_id": event.id})
    await client.post(
        BOOKINGS, headers=waiting.headers, json={"event_id": event.id, "join_waitlist": True}
    )

    await client.delete(f"{BOOKINGS}/{held.json()['id']}", headers=holder.headers)
    await post.deliver()

    told = [(str(m["X-Boxoffice-Kind"]), str(m["To"])) for m in post.messages]
    assert sorted(kind for kind, _ in told) == [
        "booking_cancelled",
        "booking_confirmed",
        "waitlist_joined",
        "waitlist_promoted",
    ]
    (joined,) = [m for m in post.messages if m["X-Boxoffice-Kind"] == "waitlist_joined"]
    assert "waiting@example.com" in str(joined["To"])
    assert "1" in joined.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    (promoted,) = [m for m in post.messages if m["X-Boxoffice-Kind"] == "waitlist_promoted"]
    assert "waiting@example.com" in str(promoted["To"])
    calendar_of(promoted)
    (cancelled,) = [m for m in post.messages if m["X-Boxoffice-Kind"] == "booking_cancelled"]
    assert "holder@example.com" in str(cancelled["To"])


async def test_a_title_edit_tells_nobody_and_a_new_start_tells_everyone_and_moves_reminders(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, organizer_headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=5)
    for headers in await make_attendees_with_headers(db, settings, 3):
        await client.post(BOOKINGS, headers=headers, json={"event_id": event.id})
    await post.deliver()
    post.messages.clear()
    new_start = utcnow() + timedelta(days=20)

    retitled = await client.patch(
        f"{EVENTS}/{event.id}", headers=organizer_headers, json={"title": "A better name"}
    )
    await post.deliver()
    told_after_title = post.kinds()
    moved = await client.patch(
        f"{EVENTS}/{event.id}",
        headers=organizer_headers,
        json={
            "starts_at": new_start.isoformat(),
            "ends_at": (new_start + timedelta(hours=2)).isoformat(),
        },
    )
    await due_now(db, NotificationKind.EVENT_CHANGED)
    await post.deliver()

    assert (retitled.status_code, moved.status_code) == (200, 200)
    assert told_after_title == Counter()
    assert post.kinds() == {"event_changed": 3}
    reminders = await read_outbox(db, NotificationKind.REMINDER, NotificationStatus.PENDING)
    assert len(reminders) == 3
    assert all(close_to(r.due_at, new_start - reminder_lead(db)) for r in reminders)


async def test_a_ban_tells_the_holder_of_each_cancelled_booking_and_drops_their_reminders(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, _ = await signed_in(db, settings, Role.ORGANIZER)
    admin = await signed_in(db, settings, Role.ADMIN)
    banned = await signed_in(db, settings, Role.ATTENDEE, email="banned@example.com")
    for _ in range(2):
        event = await make_event(db, organizer)
        await client.post(BOOKINGS, headers=banned.headers, json={"event_id": event.id})
    await post.deliver()
    post.messages.clear()

    ban = await client.patch(
        f"/api/v1/admin/users/{banned.id}", headers=admin.headers, json={"is_active": False}
    )
    await post.deliver()

    assert ban.status_code == 200
    assert post.kinds() == {"booking_cancelled": 2}
    assert all("banned@example.com" in str(m["To"]) for m in post.messages)
    assert await read_outbox(db, NotificationKind.REMINDER, NotificationStatus.PENDING) == []


async def _priced(db: AsyncSession, event: Event, price_minor: int) -> None:
    """The event's one ticket type now costs that much."""
    kind = await first_ticket_type(db, event)
    await db.execute(
        update(TicketType).where(TicketType.id == kind.id).values(price_minor=price_minor)
    )
    await db.commit()


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


async def test_a_paid_booking_is_asked_to_pay_then_gets_its_receipt_and_reminder(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, organizer_headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, starts_in=timedelta(days=5))
    await _priced(db, event, 2500)
    ann = await signed_in(db, settings, Role.ATTENDEE, email="ann@example.com")

    booked = await client.post(
        BOOKINGS, headers=ann.headers, json={"event_id": event.id, "seats": 2}
    )
    await post.deliver()
    path = f"{BOOKINGS}/{booked.json()['id']}"
    await client.post(f"{path}/payments", headers=ann.headers, json={"provider": "manual"})
    paid = await client.post(f"{path}/mark-paid", headers=organizer_headers)
    await post.deliver()

    assert (booked.json()["status"], paid.json()["status"]) == ("pending", "confirmed")
    assert [m["X-Boxoffice-Kind"] for m in post.messages] == [
        "booking_pending",
        "payment_received",
    ]
    asking, receipt = (_text_of(m) for m in post.messages)
    assert "payment of 50.00 EUR" in asking
    assert f"/bookings/{booked.json()['id']}\n" in asking
    assert "Paid:      50.00 EUR\n" in receipt
    assert f"Reference: BOX-{booked.json()['id']}\n" in receipt
    assert "2× General admission at 25.00 EUR\n" in receipt
    assert booked.json()["ticket_code"] in receipt
    (reminder,) = await read_outbox(db, NotificationKind.REMINDER)
    assert (reminder.booking_id, reminder.status) == (
        booked.json()["id"],
        NotificationStatus.PENDING,
    )
    assert close_to(reminder.due_at, event.starts_at - reminder_lead(db))


async def test_a_booking_paid_before_its_request_to_pay_went_out_gets_only_the_receipt(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, organizer_headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    await _priced(db, event, 2500)
    ann = await signed_in(db, settings, Role.ATTENDEE)

    booked = await client.post(BOOKINGS, headers=ann.headers, json={"event_id": event.id})
    await client.post(f"{BOOKINGS}/{booked.json()['id']}/mark-paid", headers=organizer_headers)
    await post.deliver()

    assert post.kinds() == {"payment_received": 1}
    (request,) = await read_outbox(db, NotificationKind.BOOKING_PENDING)
    assert request.status is NotificationStatus.CANCELLED


async def test_a_late_payment_for_seats_gone_tells_of_the_expiry_and_the_refund(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, organizer_headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=1)
    await _priced(db, event, 2500)
    late = await signed_in(db, settings, Role.ATTENDEE)
    other = await signed_in(db, settings, Role.ATTENDEE)
    held = await client.post(BOOKINGS, headers=late.headers, json={"event_id": event.id})
    await db.execute(
        update(Booking)
        .where(Booking.id == held.json()["id"])
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await db.commit()
    await client.post(BOOKINGS, headers=other.headers, json={"event_id": event.id})
    await post.deliver()
    post.messages.clear()

    answer = await client.post(
        f"{BOOKINGS}/{held.json()['id']}/mark-paid", headers=organizer_headers
    )
    await post.deliver()

    assert answer.json()["status"] == "expired"
    told = await read_outbox(db)
    expired = [n for n in told if n.kind is NotificationKind.BOOKING_EXPIRED]
    assert [(n.booking_id, n.status) for n in expired] == [
        (held.json()["id"], NotificationStatus.SENT)
    ]
    (refunded,) = post.messages
    assert refunded["X-Boxoffice-Kind"] == "payment_refunded"
    text = _text_of(refunded)
    assert "your payment came after your hold ended and the seats were gone" in text
    assert "the organizer of the event pays the money back to you" in text


async def test_seats_coming_back_to_a_paid_event_are_offered_and_accepting_asks_for_payment(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    organizer, organizer_headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=1)
    await _priced(db, event, 2500)
    first = await signed_in(db, settings, Role.ATTENDEE)
    second = await signed_in(db, settings, Role.ATTENDEE, email="second@example.com")
    taken = await client.post(BOOKINGS, headers=first.headers, json={"event_id": event.id})
    await client.post(f"{BOOKINGS}/{taken.json()['id']}/mark-paid", headers=organizer_headers)
    waiting = await client.post(
        BOOKINGS, headers=second.headers, json={"event_id": event.id, "join_waitlist": True}
    )
    await post.deliver()
    post.messages.clear()

    await client.delete(f"{BOOKINGS}/{taken.json()['id']}", headers=first.headers)
    await post.deliver()
    offers = [m for m in post.messages if m["X-Boxoffice-Kind"] == "waitlist_offer"]
    accepted = await client.post(
        f"{BOOKINGS}/{waiting.json()['id']}/accept", headers=second.headers
    )
    await post.deliver()

    assert sorted(str(m["X-Boxoffice-Kind"]) for m in post.messages) == [
        "booking_cancelled",
        "booking_pending",
        "payment_refunded",
        "waitlist_offer",
    ]
    (offer,) = offers
    assert "second@example.com" in str(offer["To"])
    assert "Accepting asks you to pay 25.00 EUR next" in _text_of(offer)
    assert f"/bookings/{waiting.json()['id']}\n" in _text_of(offer)
    assert accepted.json()["status"] == "pending"


async def _two_holders(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> tuple[str, dict[str, str]]:
    """An event with two holders, their confirmations delivered; its URL, the organizer's
    headers."""
    organizer, organizer_headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=5)
    for headers in await make_attendees_with_headers(db, settings, 2):
        await client.post(BOOKINGS, headers=headers, json={"event_id": event.id})
    await post.deliver()
    post.messages.clear()
    return f"{EVENTS}/{event.id}", organizer_headers


async def test_three_edits_of_the_place_in_a_row_tell_each_holder_once_with_the_last(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    url, headers = await _two_holders(client, db, settings, post)

    for place in ("Hall A", "Hall B", "Hall C"):
        assert (await client.patch(url, headers=headers, json={"location": place})).is_success
    await post.deliver()
    held = post.kinds()
    await due_now(db, NotificationKind.EVENT_CHANGED)
    await post.deliver()

    assert held == Counter()
    assert post.kinds() == {"event_changed": 2}
    assert all("at Hall C." in _text_of(message) for message in post.messages)


async def test_an_edit_undone_within_the_burst_tells_nobody(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    url, headers = await _two_holders(client, db, settings, post)

    await client.patch(url, headers=headers, json={"location": "Elsewhere"})
    await client.patch(url, headers=headers, json={"location": "Main Hall"})
    await due_now(db, NotificationKind.EVENT_CHANGED)
    await post.deliver()

    assert post.kinds() == Counter()


async def test_edits_more_than_ten_minutes_apart_tell_each_holder_twice(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    url, headers = await _two_holders(client, db, settings, post)

    await client.patch(url, headers=headers, json={"location": "Hall A"})
    # The first edit's messages were written eleven minutes ago and are still unsent.
    await due_now(db, NotificationKind.EVENT_CHANGED, ago=timedelta(minutes=11))
    await client.patch(url, headers=headers, json={"location": "Hall B"})
    await due_now(db, NotificationKind.EVENT_CHANGED)
    await post.deliver()

    assert post.kinds() == {"event_changed": 4}


async def test_an_edit_after_the_message_went_out_tells_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, post: Post
) -> None:
    url, headers = await _two_holders(client, db, settings, post)
    await client.patch(url, headers=headers, json={"location": "Hall A"})
    await due_now(db, NotificationKind.EVENT_CHANGED)
    await post.deliver()

    await client.patch(url, headers=headers, json={"location": "Hall B"})
    await due_now(db, NotificationKind.EVENT_CHANGED)
    await post.deliver()

    assert post.kinds() == {"event_changed": 4}
    assert sum("at Hall B." in _text_of(message) for message in post.messages) == 2
