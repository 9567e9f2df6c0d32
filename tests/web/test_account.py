"""A person's own account in a real browser (SPEC §13): their data downloaded, the account
deleted with the password; an admin erasing someone else's account, and never their own."""

import json

import httpx
import pytest
from playwright.async_api import Dialog, expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.factories import PASSWORD, auth_headers, make_event
from tests.web.conftest import PHONE, MakePerson, registered
from tests.web.test_payments import book_through_api

pytestmark = pytest.mark.engines("sqlite", "postgresql")


async def seats_booked(base_url: str, event_id: int) -> int:
    async with httpx.AsyncClient(base_url=base_url) as api:
        response = await api.get(f"/api/v1/events/{event_id}")
    assert response.status_code == 200, response.text
    seats: int = response.json()["seats_booked"]
    return seats


async def test_attendee_downloads_their_data_with_their_bookings(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Harbour jazz night")
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    booking = await book_through_api(base_url, db, settings, attendee, event.id, seats=2)
    ann = await person()
    page = ann.page
    await ann.log_in(attendee.email)

    await page.get_by_role("link", name="My account").click()
    await expect(ann.heading).to_have_text("My account")
    await expect(page.get_by_text(attendee.email)).to_be_visible()
    await ann.check_page("account")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Download my data").click()
    download = await download_info.value
    assert download.suggested_filename == f"boxoffice-export-{attendee.id}.json"
    exported = json.loads((await download.path()).read_text(encoding="utf-8"))
    assert exported["profile"]["email"] == attendee.email
    [kept] = exported["bookings"]
    assert (kept["id"], kept["seats"], kept["status"]) == (booking["id"], 2, "confirmed")
    assert kept["event"]["title"] == "Harbour jazz night"
    await expect(page.get_by_text("Your data was downloaded.")).to_be_visible()


async def test_attendee_deletes_their_account_on_a_phone_only_with_the_right_password(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Harbour jazz night")
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    await book_through_api(base_url, db, settings, attendee, event.id, seats=2)
    ann = await person()
    page = ann.page
    await page.set_viewport_size(PHONE)
    await ann.log_in(attendee.email)
    await page.get_by_role("link", name="My account").click()
    danger = page.get_by_role("region", name="Delete my account")
    await expect(danger).to_contain_text("cancels your upcoming bookings, and refunds")
    await expect(danger).to_contain_text("you cannot log in to this account again")
    await expect(danger).to_contain_text("without your name")
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    await page.get_by_label("Your password").fill("not my password")
    await page.get_by_role("button", name="Delete my account").click()
    await expect(danger.locator(".status.error")).to_have_text("the password is wrong")
    await expect(ann.logout_button).to_be_visible()
    assert await seats_booked(base_url, event.id) == 2
    await ann.assert_accessible("account-wrong-password")

    await page.get_by_label("Your password").fill(PASSWORD)
    await page.get_by_role("button", name="Delete my account").click()
    await expect(ann.heading).to_have_text("Upcoming events")
    await expect(page.get_by_text("Your account has been deleted.")).to_be_visible()
    await expect(ann.logout_button).to_have_count(0)
    assert await seats_booked(base_url, event.id) == 0
    await page.reload()
    await expect(ann.logout_button).to_have_count(0)

    await ann.open("/login")
    await page.get_by_label("E-mail").fill(attendee.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator(".status.error")).to_have_text("wrong e-mail or password")
    await expect(ann.logout_button).to_have_count(0)


async def test_organizer_whose_upcoming_event_has_bookings_is_told_to_cancel_it_first(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Harbour jazz night")
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    await book_through_api(base_url, db, settings, attendee, event.id, seats=1)
    olga = await person()
    page = olga.page
    await olga.log_in(organizer.email)
    await page.get_by_role("link", name="My account").click()
    danger = page.get_by_role("region", name="Delete my account")
    await expect(danger.get_by_role("link", name="My events")).to_be_visible()

    await page.get_by_label("Your password").fill(PASSWORD)
    await page.get_by_role("button", name="Delete my account").click()
    await expect(danger.locator(".status.error")).to_have_text(
        f"your event {event.id} is still to come and has bookings; cancel it first"
    )
    await expect(olga.logout_button).to_be_visible()
    assert await seats_booked(base_url, event.id) == 1


async def test_admin_erases_another_user_who_then_shows_as_deleted_user(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    admin = await registered(db, Role.ADMIN, "Ada Admin")
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Harbour jazz night")
    victim = await registered(db, Role.ATTENDEE, "Vic Victim")
    await book_through_api(base_url, db, settings, victim, event.id, seats=3)
    ada = await person()
    page = ada.page
    await ada.log_in(admin.email)

    await page.get_by_role("link", name="Vic Victim").click()
    await expect(ada.heading).to_have_text("Vic Victim")
    await expect(page.get_by_role("link", name="Harbour jazz night")).to_be_visible()
    await ada.check_page("admin-user")
    async with page.expect_event("dialog") as asked:
        await page.get_by_role("button", name="Erase account").click()
    question: Dialog = await asked.value
    assert question.message.startswith(f"Erase {victim.email}?")
    assert "can never log in again" in question.message
    await expect(ada.heading).to_have_text("Deleted user")
    await expect(
        page.get_by_text(f'Erased {victim.email}: the account is now "Deleted user".')
    ).to_be_visible()
    await expect(page.get_by_text(f"erased-{victim.id}@invalid")).to_be_visible()
    await expect(page.get_by_text("This account has been erased.")).to_be_visible()
    await expect(page.get_by_role("button", name="Erase account")).to_have_count(0)
    assert await seats_booked(base_url, event.id) == 0

    await page.get_by_role("link", name="Users and stats").click()
    await expect(page.get_by_role("row", name="Deleted user")).to_contain_text(
        f"erased-{victim.id}@invalid"
    )
    await page.get_by_role("link", name="Ada Admin").click()
    await expect(ada.heading).to_have_text("Ada Admin")
    await expect(page.get_by_text("This is your own account")).to_be_visible()
    await expect(page.get_by_role("button", name="Erase account")).to_have_count(0)


async def _mail_wishes(
    base_url: str, db: AsyncSession, settings: Settings, user: User
) -> tuple[bool, bool]:
    async with httpx.AsyncClient(base_url=base_url) as api:
        response = await api.get("/api/v1/users/me", headers=await auth_headers(db, settings, user))
    assert response.status_code == 200, response.text
    me = response.json()
    return bool(me["notify_reminders"]), bool(me["notify_changes"])


async def test_attendee_turns_reminders_off_and_back_on_with_the_checkboxes(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    page = ann.page
    await ann.log_in(attendee.email)
    await page.get_by_role("link", name="My account").click()
    mail = page.get_by_role("region", name="E-mail")
    reminders = mail.get_by_label("E-mail me reminders before my events")
    changes = mail.get_by_label("E-mail me when an event I booked changes")
    await expect(reminders).to_be_checked()
    await expect(changes).to_be_checked()

    await reminders.uncheck()
    await mail.get_by_role("button", name="Save e-mail choices").click()

    await expect(mail.locator(".status.ok")).to_have_text("Your e-mail choices were saved.")
    assert await _mail_wishes(base_url, db, settings, attendee) == (False, True)
    await ann.check_page("account-mail")
    await expect(reminders).not_to_be_checked()
    await expect(changes).to_be_checked()

    await page.set_viewport_size(PHONE)
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await reminders.check()
    await changes.uncheck()
    await mail.get_by_role("button", name="Save e-mail choices").click()
    await expect(mail.locator(".status.ok")).to_have_text("Your e-mail choices were saved.")
    assert await _mail_wishes(base_url, db, settings, attendee) == (True, False)
    await ann.assert_accessible("account-mail-phone")
