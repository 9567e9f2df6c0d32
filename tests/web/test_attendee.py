"""An attendee in a real browser: sign up, search, book, see the ticket, cancel; waiting list."""

import httpx
import pytest
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.users.models import Role
from tests.factories import make_event
from tests.web.conftest import MakePerson, registered

pytestmark = pytest.mark.engines("sqlite", "postgresql")


async def test_attendee_signs_up_finds_an_event_books_two_seats_sees_the_ticket_and_cancels(
    person: MakePerson, db: AsyncSession
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    await make_event(db, organizer, title="Harbour jazz night", capacity=10, timezone="Asia/Tokyo")
    await make_event(db, organizer, title="Chess club", capacity=10)
    ann = await person()
    page = ann.page

    await ann.open("/signup")
    await ann.check_page("signup")
    await page.get_by_label("Full name").fill("Ann Attendee")
    await page.get_by_label("E-mail").fill("ann@example.com")
    await page.get_by_label("Password").fill("a long password")
    await page.get_by_role("button", name="Sign up").click()
    await expect(ann.heading).to_have_text("Upcoming events")
    await expect(ann.logout_button).to_be_visible()

    await page.get_by_label("Search").fill("JAZZ")
    await page.get_by_role("button", name="Search").click()
    await expect(page).to_have_url(f"{ann.base_url}/?q=JAZZ")
    await expect(page.get_by_role("link", name="Harbour jazz night")).to_be_visible()
    await expect(page.get_by_role("link", name="Chess club")).to_have_count(0)
    await expect(page.get_by_text("10 of 10 seats left")).to_be_visible()
    await ann.check_page("events-search")

    await page.get_by_role("link", name="Harbour jazz night").click()
    await expect(ann.heading).to_have_text("Harbour jazz night")
    await expect(page.locator(".facts dd").first).to_contain_text("GMT+9")  # the event's zone
    await ann.check_page("event")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Add to calendar (.ics)").click()
    calendar = (await (await download_info.value).path()).read_text(encoding="utf-8")
    assert calendar.startswith("BEGIN:VCALENDAR")
    assert "Harbour jazz night" in calendar
    await page.get_by_label("Seats", exact=True).select_option("2")
    async with page.expect_request(f"{ann.base_url}/api/v1/bookings") as sent:
        await page.get_by_role("button", name="Book").click()
    assert len((await sent.value).headers["idempotency-key"]) >= 32
    await expect(page.get_by_text("Booked. Your ticket is under My bookings.")).to_be_visible()
    await expect(page.get_by_text("You have 2 seats booked.")).to_be_visible()
    await expect(page.get_by_text("8 of 10 seats left")).to_be_visible()

    await page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(ann.heading).to_have_text("My bookings")
    await expect(page.get_by_text("2 seats")).to_be_visible()
    code = await page.locator(".booking-card .code").inner_text()
    qr = page.get_by_role("img", name=f"QR code of ticket {code}")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    await ann.check_page("my-bookings")

    await page.get_by_role("button", name="Cancel booking").click()
    await expect(page.locator(".booking-card .badge")).to_have_text("cancelled")
    await expect(page.get_by_role("button", name="Cancel booking")).to_have_count(0)

    async with httpx.AsyncClient(base_url=ann.base_url) as api:
        event = (await api.get("/api/v1/events", params={"q": "jazz"})).json()["items"][0]
    assert event["seats_booked"] == 0


async def test_sold_out_error_is_shown_then_the_attendee_joins_the_waiting_list(
    person: MakePerson, db: AsyncSession
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Tiny recital", capacity=1)
    first = await registered(db, Role.ATTENDEE, "First Fan")
    await registered(db, Role.ATTENDEE, "Second Fan")
    early = await person()
    await early.log_in(first.email)
    await early.open(f"/events/{event.id}")
    # A double click books once: the button is disabled while the first request runs.
    bookings_sent: list[str] = []
    early.page.on(
        "request",
        lambda request: bookings_sent.append(request.url) if request.method == "POST" else None,
    )
    await early.page.get_by_role("button", name="Book").dblclick()
    await expect(early.page.get_by_text("You have 1 seat booked.")).to_be_visible()
    await expect(early.page.locator(".booking .status")).to_have_text(
        "Booked. Your ticket is under My bookings."
    )
    assert bookings_sent == [f"{early.base_url}/api/v1/bookings"]

    bob = await person()
    page = bob.page
    await bob.log_in("second.fan@example.com")
    await bob.open(f"/events/{event.id}")
    await expect(page.get_by_text("sold out")).to_be_visible()
    await page.get_by_role("button", name="Book").click()
    # The API's own detail, next to the button.
    refusal = page.locator(".booking .status.error")
    await expect(refusal).to_contain_text("only 0 seats left, 1 asked")

    await page.get_by_label("Join the waiting list if there are not enough seats").check()
    await page.get_by_role("button", name="Book").click()
    await expect(
        page.get_by_text("You are number 1 on the waiting list for 1 seat.")
    ).to_be_visible()
    await bob.check_page("event-waitlisted")
    await expect(
        page.get_by_text("You are number 1 on the waiting list for 1 seat.")
    ).to_be_visible()

    await page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(page.get_by_text("number 1 on the waiting list")).to_be_visible()


async def test_booking_works_with_the_keyboard_alone_and_focus_is_visible(
    person: MakePerson, db: AsyncSession
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Keyboard concert")
    attendee = await registered(db, Role.ATTENDEE, "Kay Keys")
    kay = await person()
    page = kay.page
    await kay.log_in(attendee.email)
    await kay.open(f"/events/{event.id}")

    focused = "document.activeElement.textContent.trim()"
    for _ in range(20):
        await page.keyboard.press("Tab")
        if await page.evaluate(focused) == "Book":
            break
    else:
        pytest.fail("Tab never reached the Book button")
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    await page.keyboard.press("Enter")

    await expect(page.get_by_text("You have 1 seat booked.")).to_be_visible()
