"""Failed notifications in the admin area, with retry (SPEC §4 /admin/notifications): a real
server whose mail server refuses, then accepts."""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.conftest import TEST_SECRET
from tests.factories import make_event
from tests.servers import free_port, running_server
from tests.web.conftest import MakePerson, Person, registered
from tests.web.test_organizer import book_through_api

pytestmark = pytest.mark.engines("sqlite", "postgresql")


@dataclass
class Inbox:
    """A real SMTP server that refuses every message until told otherwise."""

    refusing: bool = True
    messages: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        if self.refusing:
            return "550 5.7.1 refused by the test"
        content = envelope.original_content or b""
        self.messages.append(content)
        return "250 OK"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
def mailing_base_url(database_url: str, inbox: tuple[Inbox, int]) -> Iterator[str]:
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": TEST_SECRET,
        "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
        "BOXOFFICE_EMAIL_BACKEND": "smtp",
        "BOXOFFICE_SMTP_HOST": "127.0.0.1",
        "BOXOFFICE_SMTP_PORT": str(inbox[1]),
        "BOXOFFICE_EMAIL_MAX_ATTEMPTS": "1",
    }
    with running_server(env, sends_mail=True) as url:
        yield url


async def reload_until_visible(admin: Person, text: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while await admin.page.get_by_role("row", name=text).count() == 0:
        assert time.monotonic() < deadline, f"no row with {text!r} within {seconds} s"
        await asyncio.sleep(0.5)
        await admin.page.reload()
        # "load" comes before the page is drawn (app.js awaits the session and the page's data
        # after it): look for the row only in the drawn page, or every look sees "Loading…".
        await expect(admin.heading).to_be_visible()


async def test_admin_retries_a_failed_notification(
    person: MakePerson,
    mailing_base_url: str,
    inbox: tuple[Inbox, int],
    db: AsyncSession,
    settings: Settings,
) -> None:
    mail, _ = inbox
    # The server is the module's, shared by every engine's run: refuse again from the start.
    mail.refusing = True
    admin = await registered(db, Role.ADMIN, "Ada Admin")
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Mail day")
    await book_through_api(mailing_base_url, db, settings, event.id, "Mo Mailed", seats=1)

    ada = await person()
    ada.base_url = mailing_base_url
    await ada.log_in(admin.email)
    await ada.open("/admin/notifications")
    await expect(ada.heading).to_have_text("Failed notifications")
    await reload_until_visible(ada, "booking_confirmed")
    await ada.check_page("admin-notifications")

    mail.refusing = False
    retry = ada.page.get_by_role("button", name="Retry booking_confirmed to mo.mailed@example.com")
    await retry.click()
    await expect(ada.page.get_by_text("No failed notifications.")).to_be_visible()
    deadline = time.monotonic() + 30
    while not any(b"X-Boxoffice-Kind: booking_confirmed" in m for m in mail.messages):
        assert time.monotonic() < deadline, "the retried message was not delivered within 30 s"
        await asyncio.sleep(0.2)
