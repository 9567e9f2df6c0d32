"""Who a message is for, as the mail server and the reader see it: internationalised addresses
and names that anyone registering chooses."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.notifications import outbox
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import make_event, make_user
from tests.notifications.smtp import SmtpServer
from tests.notifications.support import Clock, make_booking
from tests.servers import free_port


async def _confirm_to(
    app: FastAPI, db: AsyncSession, settings: Settings, *, email: str, full_name: str
) -> None:
    """One confirmation to a user with this address and name, sent by a worker."""
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, starts_in=timedelta(days=3))
    booking = await make_booking(db, event, await make_user(db, email=email, full_name=full_name))
    await outbox.booking_confirmed(db, booking)
    await db.commit()
    worker = Worker(settings, app.state.sessionmaker, clock=Clock(), name="test-worker")
    assert await worker.run_once() == 1


def _headers(content: bytes) -> bytes:
    return content.split(b"\r\n\r\n", 1)[0]


async def test_a_non_ascii_domain_is_written_to_in_punycode(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    await _confirm_to(app, db, smtp_settings, email="anna@bücher.example", full_name="Jörg Müller")

    (message,) = smtp_server.mailbox.wait_for(1)
    (delivery,) = smtp_server.mailbox.deliveries
    assert delivery.recipients == ["anna@xn--bcher-kva.example"]
    assert not delivery.smtputf8
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Jörg Müller", "anna@xn--bcher-kva.example")
    # The name RFC 2047-encoded: the headers are ASCII, for any server.
    assert _headers(delivery.content).isascii()


async def test_a_name_adds_no_recipient_and_no_header(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    name = 'Eve\r\nBcc: victim@example.net\r\n"Mallory" <spam@example.net>, x\x7f'
    await _confirm_to(app, db, smtp_settings, email="eve@example.org", full_name=name)

    (message,) = smtp_server.mailbox.wait_for(1)
    (delivery,) = smtp_server.mailbox.deliveries
    assert delivery.recipients == ["eve@example.org"]
    (to,) = message["To"].addresses
    assert to.addr_spec == "eve@example.org"
    assert to.display_name == 'Eve Bcc: victim@example.net "Mallory" <spam@example.net>, x'
    assert "Bcc" not in message
    lines = _headers(delivery.content).split(b"\r\n")
    assert not any(line.lower().startswith(b"bcc") for line in lines)


@pytest.fixture
def utf8_server() -> Iterator[SmtpServer]:
    with SmtpServer(free_port(), smtputf8=True) as server:
        yield server


async def test_a_non_ascii_mailbox_is_sent_with_smtputf8_when_the_server_takes_it(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, utf8_server: SmtpServer
) -> None:
    settings = smtp_settings.model_copy(update={"smtp_port": utf8_server.port, "smtp_utf8": True})
    await _confirm_to(app, db, settings, email="jörg@bücher.example", full_name="Müller, Jörg")

    (message,) = utf8_server.mailbox.wait_for(1)
    (delivery,) = utf8_server.mailbox.deliveries
    assert delivery.recipients == ["jörg@xn--bcher-kva.example"]
    assert delivery.smtputf8
    # One address still: the comma that would split a raw UTF-8 name is gone from it.
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Müller Jörg", "jörg@xn--bcher-kva.example")
