"""An admin in a real browser: users, role changes, a ban that ends the user's session
elsewhere at once, stats and the audit log."""

import pytest
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.users.models import Role
from tests.web.conftest import MakePerson, registered

pytestmark = pytest.mark.engines("sqlite", "postgresql")

SELF_DEMOTION_DETAIL = "you cannot demote or ban yourself; ask another admin"


async def test_admin_bans_a_user_whose_session_in_another_browser_stops_working(
    person: MakePerson, db: AsyncSession
) -> None:
    admin = await registered(db, Role.ADMIN, "Ada Admin")
    victim = await registered(db, Role.ATTENDEE, "Vic Victim")
    vic = await person()
    await vic.log_in(victim.email)
    await vic.page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(vic.heading).to_have_text("My bookings")

    ada = await person()
    page = ada.page
    await ada.log_in(admin.email)
    await expect(ada.heading).to_have_text("Admin")
    await ada.check_page("admin-users")
    await page.get_by_label("Name or e-mail").fill("vic")
    await page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row", name="Vic Victim")
    await expect(page.locator("tbody tr")).to_have_count(1)
    await page.get_by_role("button", name=f"Ban {victim.email}").click()
    await expect(row).to_contain_text("banned")
    await expect(page.get_by_role("button", name=f"Unban {victim.email}")).to_be_visible()

    # Vic's tab still holds tokens; the next request finds the session over.
    await vic.page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(vic.heading).to_have_text("Log in")
    await expect(
        vic.page.get_by_text("Your session has ended; please log in again.")
    ).to_be_visible()
    await expect(vic.logout_button).to_have_count(0)
    await vic.page.reload()
    await expect(vic.heading).to_have_text("Log in")
    await expect(vic.logout_button).to_have_count(0)

    await page.get_by_role("link", name="Audit log").click()
    await expect(ada.heading).to_have_text("Audit log")
    await expect(page.get_by_role("row", name="user.banned")).to_contain_text(f"user {victim.id}")
    await ada.check_page("admin-audit-log")


async def test_admin_changes_a_role_and_sees_it_in_the_stats(
    person: MakePerson, db: AsyncSession
) -> None:
    admin = await registered(db, Role.ADMIN, "Ada Admin")
    rita = await registered(db, Role.ATTENDEE, "Rita Rising")
    ada = await person()
    page = ada.page
    await ada.log_in(admin.email)
    attendees = page.locator(".stat").filter(has_text="Users").locator("dd").first
    await expect(attendees).to_have_text("1")

    await page.get_by_label(f"Role of {rita.email}", exact=True).select_option("organizer")
    await page.get_by_role("button", name=f"Change role of {rita.email}").click()
    await expect(attendees).to_have_text("0")
    await expect(page.get_by_label(f"Role of {rita.email}", exact=True)).to_have_value("organizer")

    await page.get_by_label(f"Role of {admin.email}", exact=True).select_option("attendee")
    await page.get_by_role("button", name=f"Change role of {admin.email}").click()
    refusal = page.get_by_role("row", name="Ada Admin").locator(".status.error")
    await expect(refusal).to_have_text(SELF_DEMOTION_DETAIL)
