"""The public list of events: pages, filters in the URL (reload and back keep them), and seats
left kept fresh while the page is open."""

from datetime import timedelta

import pytest
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import make_event
from tests.web.conftest import MakePerson, registered
from tests.web.test_organizer import book_through_api

pytestmark = pytest.mark.engines("sqlite", "postgresql")


async def test_pages_through_events_and_back(person: MakePerson, db: AsyncSession) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    for day in range(1, 13):
        await make_event(db, organizer, title=f"Talk {day:02}", starts_in=timedelta(days=day))
    visitor = await person()
    page = visitor.page
    await visitor.open("/")
    cards = page.get_by_role("list", name="Events").get_by_role("listitem")
    await expect(cards).to_have_count(10)
    await expect(page.get_by_text("1–10 of 12")).to_be_visible()

    pages = page.get_by_role("navigation", name="Pages")
    await expect(pages.get_by_role("link", name="Previous")).to_have_count(0)
    await pages.get_by_role("link", name="Next").click()
    await expect(page).to_have_url(f"{visitor.base_url}/?offset=10")
    await expect(cards).to_have_count(2)
    await expect(pages.get_by_role("link", name="Previous")).to_have_attribute("href", "/")
    await expect(pages.get_by_role("link", name="Next")).to_have_count(0)
    await expect(cards.first).to_contain_text("Talk 11")
    await visitor.page.reload()
    await expect(cards.first).to_contain_text("Talk 11")

    await page.go_back()
    await expect(cards).to_have_count(10)
    await expect(cards.first).to_contain_text("Talk 01")


async def test_location_and_date_filters(person: MakePerson, db: AsyncSession) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    await make_event(
        db, organizer, title="Soon in Berlin", location="Berlin", starts_in=timedelta(days=3)
    )
    await make_event(
        db, organizer, title="Later in Berlin", location="Berlin", starts_in=timedelta(days=40)
    )
    await make_event(
        db, organizer, title="Soon in Lyon", location="Lyon", starts_in=timedelta(days=3)
    )
    visitor = await person()
    page = visitor.page
    await visitor.open("/")

    await page.get_by_label("Location").fill("berlin")
    later = await page.evaluate("new Date(Date.now() + 20 * 86400000).toISOString().slice(0, 10)")
    await page.get_by_label("To").fill(later)
    await page.get_by_role("button", name="Search").click()

    titles = page.get_by_role("list", name="Events").get_by_role("heading")
    await expect(titles).to_have_text(["Soon in Berlin"])
    await page.reload()
    await expect(titles).to_have_text(["Soon in Berlin"])
    await expect(page.get_by_label("To")).to_have_value(later)


async def test_seats_left_are_kept_fresh_while_the_list_is_open(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Popular", capacity=5)
    visitor = await person()
    await visitor.page.clock.install()
    await visitor.open("/")
    seats = visitor.page.locator(f'[data-seats-for="{event.id}"]')
    await expect(seats).to_have_text("5 of 5 seats left")

    await book_through_api(base_url, db, settings, event.id, "Early Bird", seats=3)
    await visitor.page.clock.run_for("00:16")  # the list refreshes every 15 seconds

    await expect(seats).to_have_text("2 of 5 seats left")
