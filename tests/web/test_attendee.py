"""An attendee in a real browser: sign up, search, book, see the ticket, cancel; waiting list;
ticket types with prices and a hidden one behind an access code."""

import json

import httpx
import pytest
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import auth_headers, make_event
from tests.web.conftest import MakePerson, event_through_api, registered

pytestmark = pytest.mark.engines("sqlite", "postgresql")

WAITING = "You are number 1 on the waiting list for 1 seat: 1× General admission."


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
    await page.get_by_label("General admission").fill("2")
    async with page.expect_request(f"{ann.base_url}/api/v1/bookings") as sent:
        await page.get_by_role("button", name="Book").click()
    assert len((await sent.value).headers["idempotency-key"]) >= 32
    await expect(page.get_by_text("Booked. Your ticket is under My bookings.")).to_be_visible()
    await expect(page.get_by_text("You have 2 seats booked: 2× General admission.")).to_be_visible()
    await expect(page.get_by_text("8 of 10 seats left")).to_be_visible()

    await page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(ann.heading).to_have_text("My bookings")
    await expect(page.get_by_text("2 seats")).to_be_visible()
    code = await page.locator(".booking-card .party-code").inner_text()
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
    await expect(
        early.page.get_by_text("You have 1 seat booked: 1× General admission.")
    ).to_be_visible()
    await expect(early.page.locator(".booking .status")).to_have_text(
        "Booked. Your ticket is under My bookings."
    )
    assert bookings_sent == [f"{early.base_url}/api/v1/bookings"]

    bob = await person()
    page = bob.page
    await bob.log_in("second.fan@example.com")
    await bob.open(f"/events/{event.id}")
    await expect(page.locator("p.seats")).to_have_text("sold out")
    await expect(page.locator(".ticket-type")).to_contain_text("sold out")
    await page.get_by_role("button", name="Book").click()
    # The API's own detail, next to the button.
    refusal = page.locator(".booking .status.error")
    await expect(refusal).to_contain_text("only 0 seats left, 1 asked")

    await page.get_by_label("Join the waiting list if there are not enough seats").check()
    await page.get_by_role("button", name="Book").click()
    await expect(page.get_by_text(WAITING)).to_be_visible()
    await bob.check_page("event-waitlisted")
    await expect(page.get_by_text(WAITING)).to_be_visible()

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

    await expect(page.get_by_text("You have 1 seat booked: 1× General admission.")).to_be_visible()


async def test_attendee_books_two_types_sees_the_total_and_a_qr_code_per_ticket(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await event_through_api(
        base_url,
        db,
        settings,
        organizer,
        title="Harbour festival",
        currency="EUR",
        ticket_types=[
            {"name": "Adult", "price": "12.00"},
            {"name": "Child", "price": "5.50", "description": "Under 12", "max_per_booking": 4},
        ],
    )
    adult, child = (item["id"] for item in event["ticket_types"])
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    page = ann.page
    await ann.log_in(attendee.email)
    await expect(page.get_by_role("listitem").filter(has_text="Harbour festival")).to_contain_text(
        "from €5.50"
    )

    await page.get_by_role("link", name="Harbour festival").click()
    await expect(ann.heading).to_have_text("Harbour festival")
    await expect(page.get_by_label("Child")).to_have_attribute("max", "4")
    await expect(page.locator(".ticket-type", has_text="Child")).to_contain_text("Under 12")
    await expect(page.locator(".booking .total")).to_have_text("No tickets chosen yet.")
    await page.get_by_label("Adult").fill("2")
    await page.get_by_label("Child").fill("1")
    await expect(page.locator(".booking .total")).to_have_text("3 tickets · total €29.50")
    await ann.check_page("event-ticket-types")
    await page.get_by_label("Adult").fill("2")
    await page.get_by_label("Child").fill("1")
    async with page.expect_request(f"{base_url}/api/v1/bookings") as sent:
        await page.get_by_role("button", name="Book").click()
    request = await sent.value
    assert json.loads(request.post_data or "") == {
        "event_id": event["id"],
        "lines": [
            {"ticket_type_id": adult, "quantity": 2},
            {"ticket_type_id": child, "quantity": 1},
        ],
        "join_waitlist": False,
    }
    assert len(request.headers["idempotency-key"]) >= 32
    # Tickets with a price are held until paid (SPEC §10): the checkout shows what is held.
    await expect(ann.heading).to_have_text("Checkout: Harbour festival")
    held = page.get_by_role("list", name="Tickets booked")
    await expect(held.get_by_role("listitem")).to_have_text(["2× Adult €12.00", "1× Child €5.50"])
    await expect(page.locator(".booking-details .total")).to_have_text("Total €29.50")

    async with httpx.AsyncClient(base_url=base_url) as api:
        mine = await api.get(
            "/api/v1/bookings/me", headers=await auth_headers(db, settings, attendee)
        )
        paid = await api.post(
            f"/api/v1/bookings/{mine.json()['items'][0]['id']}/mark-paid",
            headers=await auth_headers(db, settings, organizer),
        )
    assert paid.status_code == 200, paid.text
    booking = paid.json()
    assert (booking["status"], booking["total_price"]) == ("confirmed", "29.50")
    await ann.open(f"/events/{event['id']}")
    await expect(page.get_by_text("You have 3 seats booked: 2× Adult, 1× Child.")).to_be_visible()
    names = {adult: "Adult", child: "Child"}
    labels = [f"QR code of ticket {booking['ticket_code']}"] + [
        f"QR code of {names[ticket['ticket_type_id']]} ticket {ticket['code']}"
        for ticket in booking["tickets"]
    ]
    assert len(labels) == 4  # the party's code and one per seat

    for where in ("the event page", "My bookings"):
        if where == "My bookings":
            await page.get_by_role("link", name="My bookings", exact=True).click()
            await expect(ann.heading).to_have_text("My bookings")
        lines = page.get_by_role("list", name="Tickets booked")
        await expect(lines.get_by_role("listitem")).to_have_text(
            ["2× Adult €12.00", "1× Child €5.50"]
        )
        await expect(page.locator(".booking-details .total")).to_have_text("Total €29.50")
        codes = page.get_by_role("group", name="Ticket QR codes").get_by_role("img")
        await expect(codes).to_have_count(4)
        for label in labels:
            qr = page.get_by_role("img", name=label, exact=True)
            await expect(qr).to_be_visible()
            assert await qr.evaluate("img => img.complete && img.naturalWidth > 0"), where
    await ann.check_page("my-bookings-ticket-types")


async def test_an_access_code_reveals_a_hidden_type_that_is_then_booked_with_it(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await event_through_api(
        base_url,
        db,
        settings,
        organizer,
        title="Gallery opening",
        ticket_types=[
            {"name": "Visitor", "price": "9.00"},
            {"name": "Press", "price": "0.00", "hidden": True, "access_code": "PRESS-2027"},
        ],
    )
    attendee = await registered(db, Role.ATTENDEE, "Pat Press")
    pat = await person()
    page = pat.page
    await pat.log_in(attendee.email)
    await pat.open(f"/events/{event['id']}")
    await expect(page.get_by_label("Visitor")).to_be_visible()
    await expect(page.get_by_label("Press", exact=True)).to_have_count(0)

    await page.get_by_label("Access code").fill("WRONG-CODE")
    await page.get_by_role("button", name="Apply code").click()
    await expect(page.get_by_text("This code unlocks no further tickets.")).to_be_visible()
    await expect(page.get_by_label("Press", exact=True)).to_have_count(0)

    await page.get_by_label("Access code").fill("PRESS-2027")
    await page.get_by_role("button", name="Apply code").click()
    await expect(page.get_by_text("Unlocked: Press.")).to_be_visible()
    await expect(page.locator(".ticket-type", has_text="Press")).to_contain_text("free")
    # The one visitor ticket preset while Visitor was the only type stays chosen.
    await expect(page.get_by_label("Visitor")).to_have_value("1")
    await page.get_by_label("Visitor").fill("0")
    await page.get_by_label("Press", exact=True).fill("1")
    await expect(page.locator(".booking .total")).to_have_text("1 ticket · total free")
    await pat.assert_accessible("event-access-code")
    async with page.expect_request(f"{base_url}/api/v1/bookings") as sent:
        await page.get_by_role("button", name="Book").click()
    body = json.loads((await sent.value).post_data or "")
    assert (body["access_code"], body["lines"][0]["quantity"]) == ("PRESS-2027", 1)
    await expect(page.get_by_text("You have 1 seat booked: 1× Press.")).to_be_visible()
    await pat.check_page("event-booked-with-access-code")


async def test_a_quantity_the_type_refuses_shows_the_apis_detail(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await event_through_api(
        base_url,
        db,
        settings,
        organizer,
        title="Dinner for two",
        ticket_types=[{"name": "Table", "price": "40.00", "min_per_booking": 2}],
    )
    attendee = await registered(db, Role.ATTENDEE, "Solo Sam")
    sam = await person()
    page = sam.page
    await sam.log_in(attendee.email)
    await sam.open(f"/events/{event['id']}")
    await expect(page.locator(".ticket-type")).to_contain_text("2 to 10 per booking")
    await page.get_by_label("Table").fill("1")
    await page.get_by_role("button", name="Book").click()

    lines = [{"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 1}]
    async with httpx.AsyncClient(base_url=base_url) as api:
        refused = await api.post(
            "/api/v1/bookings",
            headers=await auth_headers(db, settings, attendee),
            json={"event_id": event["id"], "lines": lines},
        )
    assert (refused.status_code, refused.json()["code"]) == (422, "quantity_out_of_range")
    await expect(page.locator(".booking .status.error")).to_have_text(refused.json()["detail"])
