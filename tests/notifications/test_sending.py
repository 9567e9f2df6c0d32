"""The worker sends the outbox through a real SMTP server; messages are read back and parsed."""

import asyncio
import io
import shutil
import ssl
import subprocess
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import BookingStatus
from boxoffice.db import utcnow
from boxoffice.notifications import outbox
from boxoffice.notifications.backends import ConsoleBackend
from boxoffice.notifications.models import NotificationKind, NotificationStatus
from boxoffice.notifications.worker import Worker
from boxoffice.payments.models import RefundReason
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.conftest import IN_CI
from tests.factories import make_event, make_ticket_type, make_user
from tests.notifications.smtp import Mailbox, SmtpServer
from tests.notifications.support import (
    Clock,
    due_now,
    make_booking,
    make_payment,
    make_refund,
    was,
)
from tests.notifications.support import outbox as read_outbox
from tests.servers import free_port


def _parts(message: EmailMessage) -> dict[str, EmailMessage]:
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


def _worker(app: FastAPI, settings: Settings, clock: Clock | None = None) -> Worker:
    return Worker(settings, app.state.sessionmaker, clock=clock or Clock(), name="test-worker")


async def test_a_confirmation_arrives_with_headers_both_parts_and_the_event_as_calendar_file(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(
        db,
        organizer,
        title="Jazz <Night> & more",
        timezone="Europe/Berlin",
        starts_in=timedelta(days=9),
    )
    attendee = await make_user(db, email="ada@example.com", full_name="Ada Lovelace")
    booking = await make_booking(db, event, attendee)
    await outbox.booking_confirmed(db, booking)
    await db.commit()

    assert await _worker(app, smtp_settings).run_once() == 1

    (message,) = mailbox.wait_for(1)
    assert message["From"] == "boxoffice <tickets@boxoffice.test>"
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    assert "Jazz <Night> & more" in message["Subject"]
    assert message["X-Boxoffice-Kind"] == "booking_confirmed"
    (confirmation,) = await read_outbox(db, NotificationKind.BOOKING_CONFIRMED)
    assert message["Message-ID"] == f"<notification-{confirmation.id}@boxoffice.test>"
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html", "text/calendar"}
    local_start = event.starts_at.astimezone(ZoneInfo("Europe/Berlin"))
    shown = f"{local_start:%H:%M} (Europe/Berlin)"
    text = parts["text/plain"].get_content()
    assert "Jazz <Night> & more" in text
    assert shown in text
    assert booking.ticket_code in text
    html = parts["text/html"].get_content()
    assert "Jazz &lt;Night&gt; &amp; more" in html
    assert "<Night>" not in html
    assert shown in html
    calendar = icalendar.Calendar.from_ical(parts["text/calendar"].get_content())
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["summary"]) == "Jazz <Night> & more"
    assert entry.decoded("dtstart") == local_start.replace(microsecond=0)
    assert str(entry.decoded("dtstart").tzinfo) == "Europe/Berlin"
    assert confirmation.status is NotificationStatus.SENT
    assert confirmation.attempts == 1
    assert confirmation.sent_at is not None
    assert confirmation.message_id == message["Message-ID"]


async def test_confirmations_of_one_event_carry_its_calendar_file_as_it_is_when_sent(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    """Messages of one event share what they have in common; an edit still shows in the next."""
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), title="Before")
    for _ in range(2):
        await outbox.booking_confirmed(db, await make_booking(db, event))
    await db.commit()
    assert await _worker(app, smtp_settings).run_once() == 2
    event.title = "After"
    await outbox.booking_confirmed(db, await make_booking(db, event))
    await db.commit()
    assert await _worker(app, smtp_settings).run_once() == 1

    messages = mailbox.wait_for(3)
    calendars = [_parts(m)["text/calendar"] for m in messages]
    assert {c.get_filename() for c in calendars} == {f"event-{event.id}.ics"}
    titles = [
        str(icalendar.Calendar.from_ical(c.get_content()).walk("VEVENT")[0]["summary"])
        for c in calendars
    ]
    assert titles == ["Before", "Before", "After"]


async def test_text_beyond_ascii_and_long_lines_arrive_as_written(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    title = "Zürich – Fête de la Musique 🎉 " + "encore " * 20  # one line of 170 characters
    event = await make_event(
        db, await make_user(db, role=Role.ORGANIZER), title=title, location="Straße 5, Köln"
    )
    attendee = await make_user(db, full_name="Zoë Ærøskøbing")
    await outbox.booking_confirmed(db, await make_booking(db, event, attendee))
    await db.commit()

    assert await _worker(app, smtp_settings).run_once() == 1

    (message,) = mailbox.wait_for(1)
    parts = _parts(message)
    # SMTP carries lines ending in CRLF.
    text = parts["text/plain"].get_content().replace("\r\n", "\n")
    html = parts["text/html"].get_content()
    assert f'Hello Zoë Ærøskøbing,\n\nyour booking for "{title}" is confirmed.' in text
    assert "Where:  Straße 5, Köln\n" in text
    assert f"<strong>{title}</strong>" in html
    assert message["Subject"] == f"Booking confirmed: {title.strip()}"


async def test_a_place_on_the_waiting_list_is_named(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    for _ in range(2):
        await make_booking(db, event, status=BookingStatus.WAITLISTED)
    third = await make_booking(db, event, status=BookingStatus.WAITLISTED)
    await outbox.waitlist_joined(db, third)
    await db.commit()

    await _worker(app, smtp_settings).run_once()

    (message,) = mailbox.wait_for(1)
    assert message["X-Boxoffice-Kind"] == "waitlist_joined"
    text = _parts(message)["text/plain"].get_content()
    assert "position 3" in text
    assert "text/calendar" not in _parts(message)


# About an account, not an event (SPEC §13).
ACCOUNT_KINDS = (NotificationKind.VERIFY_EMAIL, NotificationKind.PASSWORD_RESET)


async def test_every_kind_is_sent_with_a_calendar_file_where_the_spec_wants_one(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await make_event(
        db, await make_user(db, role=Role.ORGANIZER), starts_in=timedelta(days=3)
    )
    paid = await make_ticket_type(db, event, price_minor=2000)
    booking = await make_booking(db, event, lines=[(paid, 1)])
    waiting = await make_booking(db, event, status=BookingStatus.WAITLISTED)
    held = utcnow() + timedelta(minutes=15)
    pending = await make_booking(db, event, status=BookingStatus.PENDING, expires_at=held)
    offered = await make_booking(db, event, status=BookingStatus.OFFERED, expires_at=held)
    expired = await make_booking(db, event, status=BookingStatus.EXPIRED)
    payment = await make_payment(db, booking)
    refund = await make_refund(db, payment, RefundReason.EVENT_CANCELLED)
    await outbox.booking_confirmed(db, booking)
    await outbox.waitlist_joined(db, waiting)
    await outbox.waitlist_promoted(db, [booking.id])
    await outbox.booking_pending(db, pending)
    await outbox.waitlist_offered(db, [offered.id])
    await outbox.bookings_expired(db, [expired.id])
    await outbox.payment_received(db, booking, payment)
    await outbox.event_changed(db, event, was(event, location="Old Hall"))
    await outbox.booking_cancelled(db, waiting)
    await outbox.payment_refunded(db, booking, refund)
    await outbox.event_cancelled(db, event.id)
    # To an address not verified yet, which a verification link is for.
    newcomer = await make_user(db, email_verified=False)
    for kind in ACCOUNT_KINDS:
        await outbox.account_link(db, kind, newcomer.id, seed=f"seed-{kind}")
    await db.commit()
    await due_now(db, NotificationKind.EVENT_CHANGED)
    clock = Clock()

    sent = await _worker(app, smtp_settings, clock).run_once()

    kinds = {m["X-Boxoffice-Kind"]: m for m in mailbox.wait_for(sent)}
    assert set(kinds) == {k.value for k in NotificationKind} - {"reminder"}
    with_calendar = {k for k, m in kinds.items() if "text/calendar" in _parts(m)}
    assert with_calendar == {
        "booking_confirmed",
        "waitlist_promoted",
        "payment_received",
        "event_changed",
    }
    assert all(event.title in m["Subject"] for k, m in kinds.items() if k not in ACCOUNT_KINDS)
    changed = _parts(kinds["event_changed"])["text/plain"].get_content()
    assert "the place" in changed


async def test_a_reminder_goes_at_its_moment_and_not_before(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await make_event(
        db, await make_user(db, role=Role.ORGANIZER), starts_in=timedelta(days=3)
    )
    booking = await make_booking(db, event)
    await outbox.booking_confirmed(db, booking)
    await db.commit()
    clock = Clock()
    worker = _worker(app, smtp_settings, clock)
    await worker.run_once()
    mailbox.wait_for(1)

    assert await worker.run_once() == 0
    clock.advance(days=2, minutes=1)
    assert await worker.run_once() == 1

    reminder = mailbox.wait_for(2)[1]
    assert reminder["X-Boxoffice-Kind"] == "reminder"
    assert event.title in reminder["Subject"]


async def test_a_reminder_of_a_booking_cancelled_meanwhile_is_dropped_unsent(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await make_event(
        db, await make_user(db, role=Role.ORGANIZER), starts_in=timedelta(days=3)
    )
    booking = await make_booking(db, event)
    await outbox.booking_confirmed(db, booking)
    await db.commit()
    booking.status, booking.active = BookingStatus.CANCELLED, None
    await db.commit()
    clock = Clock()
    clock.advance(days=3)

    await _worker(app, smtp_settings, clock).run_once()

    assert [m["X-Boxoffice-Kind"] for m in mailbox.wait_for(1)] == ["booking_confirmed"]
    (reminder,) = await read_outbox(db, NotificationKind.REMINDER)
    assert reminder.status is NotificationStatus.CANCELLED


async def test_a_server_refusing_twice_gets_the_message_on_the_third_attempt_after_backoff(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    await outbox.waitlist_joined(db, await make_booking(db, event, status=BookingStatus.WAITLISTED))
    await db.commit()
    mailbox.refuse_next = 2
    clock = Clock()
    worker = _worker(app, smtp_settings, clock)
    base = smtp_settings.email_retry_seconds

    waits = []
    for attempt in (1, 2):
        assert await worker.run_once() == 1
        (row,) = await read_outbox(db)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, attempt)
        assert row.last_error is not None
        assert "451" in row.last_error
        waits.append((row.due_at - clock.now).total_seconds())
        # Not due before its backoff has passed.
        assert await worker.run_once() == 0
        clock.now = row.due_at

    assert base * 0.8 <= waits[0] <= base * 1.2
    assert 2 * base * 0.8 <= waits[1] <= 2 * base * 1.2
    assert await worker.run_once() == 1
    (row,) = await read_outbox(db)
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 3)
    assert len(mailbox.wait_for(1)) == 1
    assert mailbox.refusals == 2


async def test_backoff_doubles_with_jitter_around_each_step(
    app: FastAPI, smtp_settings: Settings
) -> None:
    worker = _worker(app, smtp_settings)
    base = smtp_settings.email_retry_seconds

    for attempts in range(1, 6):
        waits = {worker.backoff(attempts).total_seconds() for _ in range(50)}
        step = base * 2 ** (attempts - 1)
        assert all(step * 0.8 <= wait <= step * 1.2 for wait in waits)
        assert len(waits) > 1


async def test_a_lease_keeps_other_workers_off_until_it_expires(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    await outbox.booking_confirmed(db, await make_booking(db, event))
    await db.commit()
    clock = Clock()
    dying = _worker(app, smtp_settings, clock)
    # Claims, then "dies" before sending or recording anything.
    assert len(await dying._claim("dying:1")) == 1
    other = Worker(smtp_settings, app.state.sessionmaker, clock=clock, name="other")

    assert await other.run_once() == 0
    clock.advance(seconds=smtp_settings.worker_lease_seconds + 1)
    assert await other.run_once() == 1

    assert len(mailbox.wait_for(1)) == 1
    (row,) = await read_outbox(db, NotificationKind.BOOKING_CONFIRMED)
    assert row.status is NotificationStatus.SENT


async def test_the_console_backend_writes_a_readable_message(
    app: FastAPI, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), title="Poetry Slam")
    await outbox.booking_confirmed(db, await make_booking(db, event))
    await db.commit()
    log = io.StringIO()
    worker = Worker(settings, app.state.sessionmaker, ConsoleBackend(log), clock=Clock())

    await worker.run_once()

    written = log.getvalue()
    assert "Subject: Booking confirmed: Poetry Slam" in written
    assert "X-Boxoffice-Kind: booking_confirmed" in written
    assert "is confirmed" in written
    assert "text/calendar event-" in written
    assert (await read_outbox(db))[0].status is NotificationStatus.SENT


async def test_the_smtp_back_end_logs_in_when_credentials_are_set(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    await outbox.booking_confirmed(db, await make_booking(db, event))
    await db.commit()
    with SmtpServer(free_port(), login=("mailer", "s3cret")) as server:
        right = smtp_settings.model_copy(
            update={
                "smtp_port": server.port,
                "smtp_username": "mailer",
                "smtp_password": SecretStr("s3cret"),
            }
        )
        anonymous = smtp_settings.model_copy(update={"smtp_port": server.port})
        clock = Clock()

        await _worker(app, anonymous, clock).run_once()
        (row,) = await read_outbox(db, NotificationKind.BOOKING_CONFIRMED)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
        assert row.last_error is not None
        assert "530" in row.last_error
        clock.now = row.due_at
        await _worker(app, right, clock).run_once()

        assert len(server.mailbox.wait_for(1)) == 1
    (row,) = await read_outbox(db, NotificationKind.BOOKING_CONFIRMED)
    assert row.status is NotificationStatus.SENT


async def test_what_went_out_is_recorded_while_the_rest_of_its_batch_is_on_its_way(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    """Outcomes are recorded as they come (those that finish together, together): a message the
    server holds up delays nobody else's record, and a worker that dies then resends only it."""
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    for _ in range(3):
        await outbox.booking_cancelled(db, await make_booking(db, event))
    await db.commit()
    slow, *quick = await read_outbox(db)
    mailbox.stall(message_id=f"<notification-{slow.id}@boxoffice.test>")
    batch = asyncio.create_task(_worker(app, smtp_settings).run_once())
    try:
        deadline = time.monotonic() + 30
        while len(await read_outbox(db, status=NotificationStatus.SENT)) < len(quick):
            assert time.monotonic() < deadline, "the quick messages were never recorded"
            await asyncio.sleep(0.02)
        (held,) = await read_outbox(db, status=NotificationStatus.PENDING)
        assert (held.id, held.attempts) == (slow.id, 0)
        assert mailbox.stalled == 1
    finally:
        mailbox.flow()
    assert await batch == 3
    assert {row.status for row in await read_outbox(db)} == {NotificationStatus.SENT}


async def test_a_batch_cancelled_mid_send_gives_its_claims_back_at_once(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    for _ in range(3):
        await outbox.booking_cancelled(db, await make_booking(db, event))
    await db.commit()
    mailbox.stall()
    batch = asyncio.create_task(_worker(app, smtp_settings).run_once())
    deadline = time.monotonic() + 30
    while mailbox.stalled < 3:
        assert time.monotonic() < deadline, "the batch never reached the server"
        await asyncio.sleep(0.02)

    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch

    rows = await read_outbox(db)
    assert {(r.status, r.claimed_by, r.attempts) for r in rows} == {
        (NotificationStatus.PENDING, None, 0)
    }


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl, and trusted by this process
    (as a deployment trusts its mail server's CA), so that STARTTLS is verified for real."""
    if shutil.which("openssl") is None:
        if IN_CI:
            pytest.fail("CI=true and no openssl to make the STARTTLS test's certificate")
        pytest.skip("openssl is needed to make a certificate for the STARTTLS test")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


async def test_the_smtp_back_end_upgrades_to_tls_when_starttls_is_set(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, certificate: tuple[Path, Path]
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    await outbox.booking_confirmed(db, await make_booking(db, event))
    await db.commit()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(*certificate)
    mailbox = Mailbox()
    port = free_port()
    # A server that refuses mail on a plain connection: only an upgraded one gets through.
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True
    )
    controller.start()
    try:
        plain = smtp_settings.model_copy(update={"smtp_port": port})
        clock = Clock()
        await _worker(app, plain, clock).run_once()
        (refused,) = await read_outbox(db, NotificationKind.BOOKING_CONFIRMED)
        clock.now = refused.due_at

        await _worker(app, plain.model_copy(update={"smtp_starttls": True}), clock).run_once()

        assert len(mailbox.wait_for(1)) == 1
    finally:
        controller.stop()
    assert refused.attempts == 1
    assert refused.last_error is not None
    assert "STARTTLS" in refused.last_error
    (row,) = await read_outbox(db, NotificationKind.BOOKING_CONFIRMED)
    assert row.status is NotificationStatus.SENT
