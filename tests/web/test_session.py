"""Sessions in the browser: tokens refreshed before they expire, logout ends the session on
the server, and what an anonymous visitor sees."""

import httpx
import pytest
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.users.models import Role
from tests.factories import make_event
from tests.web.conftest import MakePerson, registered

pytestmark = pytest.mark.engines("sqlite", "postgresql")

REFRESH_TOKEN = "sessionStorage.getItem('boxoffice.refresh_token')"


async def test_access_token_is_refreshed_before_it_expires(
    person: MakePerson, db: AsyncSession
) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.page.clock.install()
    await ann.log_in(attendee.email)
    first = await ann.page.evaluate(REFRESH_TOKEN)

    # Access tokens live 15 minutes; the UI refreshes a minute before.
    await ann.page.clock.fast_forward("14:05")
    await ann.page.wait_for_function(f"old => {REFRESH_TOKEN} !== old", arg=first)

    await ann.page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(ann.heading).to_have_text("My bookings")
    async with httpx.AsyncClient(base_url=ann.base_url) as api:
        reused = await api.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401  # it was rotated


async def test_log_out_ends_the_session_on_the_server(person: MakePerson, db: AsyncSession) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.log_in(attendee.email)
    refresh_token = await ann.page.evaluate(REFRESH_TOKEN)

    await ann.logout_button.click()

    await expect(ann.page.get_by_role("link", name="Log in")).to_be_visible()
    assert await ann.page.evaluate(REFRESH_TOKEN) is None
    async with httpx.AsyncClient(base_url=ann.base_url) as api:
        refused = await api.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert refused.status_code == 401


async def test_anonymous_visitor_browses_and_is_asked_to_log_in_to_book(
    person: MakePerson, db: AsyncSession
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Open rehearsal")
    visitor = await person()
    page = visitor.page

    await visitor.open("/")
    await visitor.check_page("events-anonymous")
    await page.get_by_role("link", name="Open rehearsal").click()
    await expect(page.get_by_role("link", name="Log in").last).to_have_attribute(
        "href", f"/login?next=/events/{event.id}"
    )
    await visitor.check_page("event-anonymous")
    await visitor.open("/bookings")
    await expect(visitor.heading).to_have_text("Please log in")
    await visitor.open("/login")
    await visitor.check_page("login")
    await visitor.open(f"/events/{event.id + 1000}")
    await expect(visitor.heading).to_have_text("Not found")
    await expect(page.get_by_role("alert")).to_have_text(f"there is no event {event.id + 1000}")


async def test_login_with_a_wrong_password_shows_the_api_detail(
    person: MakePerson, db: AsyncSession
) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.open("/login")
    await ann.page.get_by_label("E-mail").fill(attendee.email)
    await ann.page.get_by_label("Password").fill("not the password")
    await ann.page.get_by_role("button", name="Log in").click()
    await expect(ann.page.locator("form .status.error")).to_have_text("wrong e-mail or password")
