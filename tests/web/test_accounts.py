"""Recovering an account in the browser (SPEC §13): the banner until the address is verified,
the verification link, a forgotten password, each link read from the mail the server sent to
a real SMTP server."""

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from playwright.async_api import expect

from tests.conftest import TEST_SECRET
from tests.notifications.smtp import Mailbox, SmtpServer
from tests.servers import free_port, running_server
from tests.web.conftest import MakePerson, Person

pytestmark = pytest.mark.engines("sqlite", "postgresql")

NEW_PASSWORD = "a-new-password-2"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(free_port()) as server:
        yield server


@pytest.fixture(scope="module")
def mailbox(smtp: SmtpServer) -> Mailbox:
    return smtp.mailbox


@pytest.fixture(scope="module")
def base_url(database_url: str, smtp: SmtpServer) -> Iterator[str]:
    """This module's server mails to the test's SMTP server, and sends at once."""
    port = smtp.port
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": TEST_SECRET,
        "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
        "BOXOFFICE_EMAIL_BACKEND": "smtp",
        "BOXOFFICE_SMTP_HOST": "127.0.0.1",
        "BOXOFFICE_SMTP_PORT": str(port),
        "BOXOFFICE_WORKER_POLL_SECONDS": "0.2",
        "BOXOFFICE_PUBLIC_URL": "https://tickets.example.org",
    }
    with running_server(env, sends_mail=True) as url:
        yield url


async def link_in_mail(mailbox: Mailbox, kind: str, to: str, count: int = 1) -> str:
    """The path and fragment of the link in the `count`-th `kind` message to this address."""

    def wanted() -> list[EmailMessage]:
        return [m for m in mailbox.messages if m["X-Boxoffice-Kind"] == kind and to in m["To"]]

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while len(wanted()) < count:
        assert loop.time() < deadline, f"no {kind} message number {count} to {to}"
        await asyncio.sleep(0.1)
    body = wanted()[count - 1].get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    (link,) = [word for word in content.split() if "#token=" in word]
    assert link.startswith("https://tickets.example.org/")
    parts = urlsplit(link)
    return f"{parts.path}#{parts.fragment}"


async def sign_up(someone: Person, email: str) -> None:
    page = someone.page
    await someone.open("/signup")
    await page.get_by_label("Full name").fill("Vera Verified")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill("first-password-1")
    await page.get_by_role("button", name="Sign up").click()
    await expect(someone.heading).to_have_text("Upcoming events")


async def test_a_new_account_is_told_until_it_follows_its_link(
    person: MakePerson, mailbox: Mailbox, engine_name: str
) -> None:
    email = f"vera.{engine_name}@example.com"
    vera = await person()
    await sign_up(vera, email)
    banner = vera.page.get_by_role("region", name="Unverified address")
    await expect(banner).to_contain_text(f"{email} is not verified")
    await vera.check_page("unverified-banner")

    await banner.get_by_role("button", name="Send the link again").click()
    await expect(banner.get_by_role("status")).to_contain_text("We sent a new link")
    # The second link replaced the first: only it works.
    first = await link_in_mail(mailbox, "verify_email", email, 1)
    second = await link_in_mail(mailbox, "verify_email", email, 2)

    outcome = vera.page.locator("main").get_by_role("status")
    await vera.open(first)
    await expect(outcome).to_contain_text("invalid or has expired")
    # From another page: a link that differs only in its fragment would not load the page.
    await vera.open("/")
    await vera.open(second)
    await expect(outcome).to_contain_text(f"Done: {email} is verified")
    await expect(banner).to_have_count(0)
    await vera.assert_accessible("verify-email")


async def test_a_forgotten_password_is_reset_by_its_link_and_ends_the_sessions(
    person: MakePerson, mailbox: Mailbox, engine_name: str
) -> None:
    email = f"fred.{engine_name}@example.com"
    fred = await person()
    await sign_up(fred, email)
    elsewhere = await person()
    await elsewhere.log_in(email, "first-password-1")
    await fred.logout_button.click()

    await fred.open("/login")
    await fred.page.get_by_role("link", name="Forgot password?").click()
    await expect(fred.heading).to_have_text("Forgot password")
    await fred.page.get_by_label("E-mail").fill(email)
    await fred.page.get_by_role("button", name="Send the link").click()
    await expect(fred.page.locator("main").get_by_role("status")).to_contain_text(
        "If an account exists"
    )
    await fred.check_page("forgot-password")

    await fred.open(await link_in_mail(mailbox, "password_reset", email))
    await fred.check_page("reset-password")
    await fred.page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await fred.page.get_by_label("New password again").fill("something-else-3")
    await fred.page.get_by_role("button", name="Set the password").click()
    await expect(fred.page.locator("main").get_by_role("status")).to_contain_text(
        "The two passwords differ"
    )
    await fred.page.get_by_label("New password again").fill(NEW_PASSWORD)
    await fred.page.get_by_role("button", name="Set the password").click()

    await expect(fred.heading).to_have_text("Log in")
    await expect(fred.page.locator("main").get_by_role("status")).to_contain_text(
        "Your password is changed"
    )
    await fred.log_in(email, NEW_PASSWORD)
    # The session opened elsewhere before the reset has ended.
    await elsewhere.page.reload()
    await expect(elsewhere.page.get_by_role("link", name="Log in")).to_be_visible()


async def test_an_address_nobody_has_gets_the_same_answer(person: MakePerson) -> None:
    someone = await person()
    await someone.open("/forgot-password")
    await someone.page.get_by_label("E-mail").fill("nobody.at.all@example.com")
    await someone.page.get_by_role("button", name="Send the link").click()

    await expect(someone.page.locator("main").get_by_role("status")).to_contain_text(
        "If an account exists"
    )
