"""An organizer in a real browser: an event's whole life, its ticket types and quotas, the guest
list and check-in."""

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import auth_headers, make_event
from tests.web.conftest import MakePerson, event_through_api, registered

pytestmark = pytest.mark.engines("sqlite", "postgresql")


async def book_through_api(
    base_url: str, db: AsyncSession, settings: Settings, event_id: int, name: str, seats: int
) -> dict[str, object]:
    attendee = await registered(db, Role.ATTENDEE, name)
    async with httpx.AsyncClient(base_url=base_url) as api:
        response = await api.post(
            "/api/v1/bookings",
            headers=await auth_headers(db, settings, attendee),
            json={"event_id": event_id, "seats": seats},
        )
    assert response.status_code == 201, response.text
    booking: dict[str, object] = response.json()
    return booking


async def test_organizer_creates_edits_publishes_and_cancels_an_event_and_downloads_guests(
    person: MakePerson, db: AsyncSession, settings: Settings
) -> None:
    await registered(db, Role.ORGANIZER, "Olga Organizer")
    olga = await person()
    page = olga.page
    await olga.log_in("olga.organizer@example.com")
    await expect(olga.heading).to_have_text("My events")
    await olga.check_page("organizer-dashboard-empty")

    await page.get_by_role("link", name="New event").click()
    await expect(olga.heading).to_have_text("New event")
    await olga.check_page("organizer-new-event")
    starts = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=30)).replace(
        hour=19, minute=30, second=0, microsecond=0
    )
    await page.get_by_label("Title").fill("Spring concert")
    await page.get_by_label("Location").fill("Town hall")
    await page.get_by_label("Time zone").fill("Europe/Berlin")
    await page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Seats").fill("5")
    await expect(page.get_by_label("Currency")).to_have_value("EUR")
    await page.get_by_label("Currency").fill("chf")
    await page.get_by_role("button", name="Create event").click()
    await expect(page.get_by_text('Created "Spring concert" as draft.')).to_be_visible()
    await expect(olga.heading).to_have_text("Edit: Spring concert")
    event_id = int(page.url.rstrip("/edit").rsplit("/", 1)[1])

    async with httpx.AsyncClient(base_url=olga.base_url) as api:
        assert (await api.get(f"/api/v1/events/{event_id}")).status_code == 404  # a draft
    await olga.check_page("organizer-edit-event")

    await page.get_by_label("Title").fill("Spring gala concert")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await expect(olga.heading).to_have_text("Edit: Spring gala concert")

    await page.get_by_role("button", name="Publish: Spring gala concert").click()
    await expect(page.locator("main .badge").first).to_have_text("published")
    async with httpx.AsyncClient(base_url=olga.base_url) as api:
        event = (await api.get(f"/api/v1/events/{event_id}")).json()
    assert event["title"] == "Spring gala concert"
    assert event["timezone"] == "Europe/Berlin"
    assert event["currency"] == "CHF"
    assert datetime.fromisoformat(event["starts_at"]) == starts.astimezone(UTC)

    await book_through_api(olga.base_url, db, settings, event_id, "Gus Guest", seats=3)
    await page.get_by_role("link", name="Guests: Spring gala concert").click()
    await expect(olga.heading).to_have_text("Guests: Spring gala concert")
    await expect(page.get_by_role("row", name="Gus Guest")).to_contain_text("3× General admission")
    await olga.check_page("organizer-guests")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Download guest list (CSV)").click()
    download = await download_info.value
    assert download.suggested_filename == f"event-{event_id}-guests.csv"
    rows = list(csv.DictReader(io.StringIO((await download.path()).read_text(encoding="utf-8"))))
    assert [(r["full_name"], r["email"], r["seats"]) for r in rows] == [
        ("Gus Guest", "gus.guest@example.com", "3")
    ]

    await page.get_by_role("link", name="My events", exact=True).click()
    await expect(page.get_by_role("row", name="Spring gala concert")).to_contain_text("3 / 5")
    await olga.check_page("organizer-dashboard")
    await page.get_by_role("button", name="Cancel event: Spring gala concert").click()
    await expect(page.get_by_role("row", name="Spring gala concert")).to_contain_text("cancelled")
    async with httpx.AsyncClient(base_url=olga.base_url) as api:
        event = (await api.get(f"/api/v1/events/{event_id}")).json()
    assert (event["status"], event["seats_booked"]) == ("cancelled", 0)

    await page.get_by_role("button", name="Delete: Spring gala concert").click()
    await expect(page.get_by_text('Deleted "Spring gala concert".')).to_be_visible()
    await expect(page.get_by_text("You have no events yet.")).to_be_visible()


async def test_organizer_checks_an_attendee_in_by_typed_code(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Poetry slam", capacity=10)
    booking = await book_through_api(base_url, db, settings, event.id, "Cara Comer", seats=2)
    code = str(booking["ticket_code"])
    olga = await person()
    page = olga.page
    await olga.log_in(organizer.email)
    await olga.open(f"/organizer/events/{event.id}/guests")
    guest = page.get_by_role("row", name="Cara Comer")
    await expect(guest).to_contain_text("no")

    # Typed at the door: any case, with a dash between groups.
    await page.get_by_label("Ticket code").fill(f"{code[:5].lower()}-{code[5:].lower()}")
    await page.get_by_label("Ticket code").press("Enter")
    await expect(guest).to_contain_text("yes")
    # The page was drawn again with the new state; the message and the focus stayed.
    await expect(page.get_by_text(f"Checked in: ticket {code}, 2 seats.")).to_be_visible()
    await expect(page.get_by_label("Ticket code")).to_be_focused()

    await page.get_by_label("Ticket code").fill(code)
    await page.get_by_role("button", name="Check in").click()
    refusal = page.locator(".inline-form .status.error")
    await expect(refusal).to_contain_text("this ticket has already been checked in")


async def test_organizer_sells_two_types_with_a_quota_reorders_them_and_hides_one(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    headers = await auth_headers(db, settings, organizer)
    event = await event_through_api(base_url, db, settings, organizer, title="Summer fair")
    event_id = event["id"]
    general_id = event["ticket_types"][0]["id"]
    # A seat of the default type is sold: that type can no longer be deleted.
    await book_through_api(base_url, db, settings, event_id, "Early Bird", seats=1)
    olga = await person()
    page = olga.page
    await olga.log_in(organizer.email)
    await page.get_by_role("link", name="Tickets: Summer fair").click()
    await expect(olga.heading).to_have_text("Tickets: Summer fair")
    names = page.get_by_role("list", name="Ticket types").locator("h3")
    await expect(names).to_have_text(["General admission"])

    await page.locator("summary", has_text="Add a ticket type").click()
    new_type = page.get_by_role("form", name="New ticket type")
    added: list[str] = ["General admission"]
    for name, price, most in (("Adult", "12.00", "10"), ("Student", "8.50", "4")):
        await new_type.get_by_label("Name").fill(name)
        await new_type.get_by_label("Price (EUR)").fill(price)
        await new_type.get_by_label("Max per booking").fill(most)
        await new_type.get_by_role("button", name="Add type").click()
        added.append(name)
        await expect(names).to_have_text(added)  # the page was drawn again with the new type
        await expect(new_type.get_by_text(f'Added "{name}".')).to_be_visible()
    await expect(page.locator(".type-card", has_text="Student")).to_contain_text("€8.50")

    await page.get_by_role("button", name="Delete: General admission").click()
    refusal = page.locator(".type-card", has_text="General admission").locator(".status.error")
    async with httpx.AsyncClient(base_url=base_url) as api:
        again = await api.delete(
            f"/api/v1/events/{event_id}/ticket-types/{general_id}", headers=headers
        )
    assert (again.status_code, again.json()["code"]) == (409, "ticket_type_in_use")
    await expect(refusal).to_have_text(again.json()["detail"])

    await page.locator("summary", has_text="Add a quota").click()
    new_quota = page.get_by_role("form", name="New quota")
    await new_quota.get_by_label("Name").fill("Student places")
    await new_quota.get_by_label("Size").fill("3")
    await new_quota.get_by_label("Student").check()
    await new_quota.get_by_role("button", name="Add quota").click()
    quota = page.get_by_role("list", name="Quotas").locator(".quota-card")
    await expect(quota).to_contain_text("Counts: Student")
    await expect(quota.get_by_role("meter", name="0 of 3 taken")).to_have_attribute("max", "3")

    await quota.locator("summary", has_text="Edit quota Student places").click()
    edit_quota = page.get_by_role("form", name="Edit quota Student places")
    await edit_quota.get_by_label("Size").fill("5")
    await edit_quota.get_by_label("Adult").check()
    await edit_quota.get_by_role("button", name="Save quota: Student places").click()
    await expect(quota).to_contain_text("Counts: Adult, Student")
    await expect(quota.get_by_role("meter", name="0 of 5 taken")).to_be_visible()

    await page.get_by_role("button", name="Move up: Student").click()
    await expect(names).to_have_text(["General admission", "Student", "Adult"])
    await page.get_by_role("button", name="Move up: Student").click()
    await expect(names).to_have_text(["Student", "General admission", "Adult"])
    await expect(page.get_by_role("button", name="Move up: Student")).to_be_disabled()
    await expect(page.get_by_role("button", name="Move down: Adult")).to_be_disabled()

    await page.locator("summary", has_text="Edit Student").click()
    edit_type = page.get_by_role("form", name="Edit Student")
    await edit_type.get_by_label("Hidden").check()
    await edit_type.get_by_label("Access code", exact=True).fill("STUDENT-2027")
    await edit_type.get_by_role("button", name="Save: Student").click()
    await expect(names).to_have_text(["Student hidden", "General admission", "Adult"])
    await expect(page.locator(".type-card", has_text="Student")).to_contain_text(
        "Access code STUDENT-2027"
    )
    await olga.check_page("organizer-tickets")

    async with httpx.AsyncClient(base_url=base_url) as api:
        path = f"/api/v1/events/{event_id}"
        owner_view = (await api.get(f"{path}/ticket-types", headers=headers)).json()["items"]
        public = (await api.get(f"{path}/ticket-types")).json()["items"]
        with_code = await api.get(f"{path}/ticket-types", params={"access_code": "STUDENT-2027"})
        quotas = (await api.get(f"{path}/quotas", headers=headers)).json()["items"]
    by_name = {item["name"]: item for item in owner_view}
    assert [item["name"] for item in owner_view] == ["Student", "General admission", "Adult"]
    assert (by_name["Adult"]["price"], by_name["Student"]["price"]) == ("12.00", "8.50")
    assert by_name["Student"]["max_per_booking"] == 4
    assert (by_name["Student"]["hidden"], by_name["Student"]["access_code"]) == (
        True,
        "STUDENT-2027",
    )
    assert [item["name"] for item in public] == ["General admission", "Adult"]
    assert [item["name"] for item in with_code.json()["items"]] == [
        "Student",
        "General admission",
        "Adult",
    ]
    assert [(q["name"], q["size"], sorted(q["ticket_type_ids"])) for q in quotas] == [
        ("Student places", 5, sorted([by_name["Adult"]["id"], by_name["Student"]["id"]]))
    ]
