"""Sessions in the browser: tokens refreshed before they expire, logout ends the session on
the server, the tabs of one session keep it together without a token in localStorage, and what
an anonymous visitor sees."""

import asyncio

import httpx
import pytest
from playwright.async_api import Page, Route, expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.users.models import Role
from tests.factories import PASSWORD, make_event
from tests.web.conftest import MakePerson, registered

pytestmark = pytest.mark.engines("sqlite", "postgresql")

REFRESH_TOKEN = "sessionStorage.getItem('boxoffice.refresh_token')"
LOCAL_STORAGE = "Object.entries(localStorage)"
SESSION_ENDED = "Your session has ended; please log in again."


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


async def test_two_tabs_of_one_session_both_stay_logged_in_across_refreshes(
    person: MakePerson, db: AsyncSession
) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.context.clock.install()
    await ann.log_in(attendee.email)
    # The new tab resumes the copied session with a refresh: the first tab's token is rotated out.
    tab = await ann.open_tab("/bookings")
    await expect(tab.locator("main h1")).to_have_text("My bookings")
    tokens = [await page.evaluate(REFRESH_TOKEN) for page in (ann.page, tab)]

    # Both tabs refresh a minute before their access tokens expire.
    await ann.context.clock.fast_forward("14:05")
    for page, token in zip((ann.page, tab), tokens, strict=True):
        await page.wait_for_function(f"old => {REFRESH_TOKEN} !== old", arg=token)

    for page in (ann.page, tab):
        await page.get_by_role("link", name="My bookings", exact=True).click()
        await expect(page.locator("main h1")).to_have_text("My bookings")
        await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def test_reload_while_the_refresh_of_the_last_load_is_held_up_draws_the_page(
    person: MakePerson, db: AsyncSession
) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.log_in(attendee.email)
    await ann.open("/bookings")
    held: asyncio.Future[Route] = asyncio.get_running_loop().create_future()

    async def hold(route: Route) -> None:
        held.set_result(route)

    await ann.page.route("**/api/v1/auth/refresh", hold)
    # The reloaded page holds the refresh lock and waits for an answer...
    await ann.page.reload()
    refresh = await asyncio.wait_for(held, timeout=10)
    await expect(ann.page.locator("main")).to_have_text("Loading…")

    # ...and the request is cut off without an answer, as leaving the page cuts it off; then
    # the person presses reload again: the session was not ended, so the page is drawn.
    await refresh.abort()
    await ann.page.unroute("**/api/v1/auth/refresh")
    await ann.page.reload()
    await expect(ann.heading).to_have_text("My bookings")
    await expect(ann.logout_button).to_be_visible()


async def test_after_logging_out_in_one_tab_the_other_tab_goes_to_the_log_in_page(
    person: MakePerson, db: AsyncSession
) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.log_in(attendee.email)
    tab = await ann.open_tab("/")
    await expect(tab.get_by_role("button", name="Log out")).to_be_visible()

    await ann.logout_button.click()
    await expect(ann.page.get_by_role("link", name="Log in")).to_be_visible()

    # The other tab forgets the session at once, and its next page that needs a login is the
    # log-in page, which says why.
    await expect(tab.get_by_role("link", name="Log in")).to_be_visible()
    await tab.goto(f"{ann.base_url}/bookings")
    await expect(tab.locator("main h1")).to_have_text("Log in")
    await expect(tab).to_have_url(f"{ann.base_url}/login?next=%2Fbookings")
    await expect(tab.locator("#status-login")).to_have_text(SESSION_ENDED)
    await tab.get_by_label("E-mail").fill(attendee.email)
    await tab.get_by_label("Password").fill(PASSWORD)
    await tab.get_by_role("button", name="Log in").click()
    await expect(tab.locator("main h1")).to_have_text("My bookings")


async def test_no_token_is_kept_in_local_storage(person: MakePerson, db: AsyncSession) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.page.clock.install()
    async with ann.page.expect_response("**/api/v1/auth/login") as logged_in:
        await ann.log_in(attendee.email)
    async with ann.page.expect_response("**/api/v1/auth/refresh") as refreshed:
        await ann.page.clock.fast_forward("14:05")
    # The rotation leaves its mark where every tab of the site sees it.
    await ann.page.wait_for_function("localStorage.length > 0")

    issued = [await (await logged_in.value).json(), await (await refreshed.value).json()]
    tokens = {pair[kind] for pair in issued for kind in ("access_token", "refresh_token")}
    assert await ann.page.evaluate(REFRESH_TOKEN) in tokens
    stored = await ann.page.evaluate(LOCAL_STORAGE)
    assert [key for key, value in stored if any(t in key or t in value for t in tokens)] == []

    await ann.logout_button.click()
    await expect(ann.page.get_by_role("link", name="Log in")).to_be_visible()
    assert await ann.page.evaluate(LOCAL_STORAGE) == []


async def reload_held(tab: Page) -> Route:
    """Starts reloading the tab and holds it before its scripts run: the old page is gone and
    the new one does not listen yet, so it misses what the other tabs announce meanwhile."""
    held: asyncio.Future[Route] = asyncio.get_running_loop().create_future()

    async def hold(route: Route) -> None:
        held.set_result(route)

    await tab.route("**/web/js/app.js", hold)
    await tab.reload(wait_until="commit")
    return await asyncio.wait_for(held, timeout=10)


async def rotate(page: Page) -> str:
    """The tab refreshes its access token a minute before it expires; its new refresh token."""
    before = await page.evaluate(REFRESH_TOKEN)
    await page.clock.fast_forward("14:05")
    await page.wait_for_function(f"old => {REFRESH_TOKEN} !== old", arg=before)
    return str(await page.evaluate(REFRESH_TOKEN))


def refreshes_of(page: Page) -> list[str]:
    """The refresh requests the tab makes from now on."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.url.endswith("/auth/refresh") else None)
    return seen


async def test_a_tab_that_missed_rotations_while_reloading_gets_the_pair_from_another(
    person: MakePerson, db: AsyncSession
) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.context.clock.install()
    await ann.log_in(attendee.email)
    tab = await ann.open_tab("/bookings")
    await expect(tab.locator("main h1")).to_have_text("My bookings")

    held = await reload_held(tab)
    refreshes = refreshes_of(tab)
    await rotate(ann.page)
    latest = await rotate(ann.page)
    await held.continue_()
    await tab.unroute("**/web/js/app.js")

    # The reloaded tab took the pair from the first one instead of presenting its old token,
    # which would have ended the session for both.
    await expect(tab.locator("main h1")).to_have_text("My bookings")
    await expect(tab.get_by_role("button", name="Log out")).to_be_visible()
    assert await tab.evaluate(REFRESH_TOKEN) == latest
    assert refreshes == []
    for page in (ann.page, tab):
        await page.get_by_role("link", name="Events", exact=True).click()
        await page.get_by_role("link", name="My bookings", exact=True).click()
        await expect(page.locator("main h1")).to_have_text("My bookings")
        await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def test_a_tab_whose_token_was_rotated_by_a_closed_tab_goes_to_the_log_in_page(
    person: MakePerson, db: AsyncSession
) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.context.clock.install()
    await ann.log_in(attendee.email)
    tab = await ann.open_tab("/bookings")
    await expect(tab.locator("main h1")).to_have_text("My bookings")

    held = await reload_held(tab)
    refreshes = refreshes_of(tab)
    latest = await rotate(ann.page)
    await ann.page.close()
    await held.continue_()
    await tab.unroute("**/web/js/app.js")

    # Nobody holds the successor of its token: the tab ends its session without presenting the
    # old token, so the API did not revoke the session's tokens.
    await expect(tab.locator("main h1")).to_have_text("Log in")
    await expect(tab).to_have_url(f"{ann.base_url}/login?next=%2Fbookings")
    await expect(tab.locator("#status-login")).to_have_text(SESSION_ENDED)
    assert await tab.evaluate(REFRESH_TOKEN) is None
    assert refreshes == []
    async with httpx.AsyncClient(base_url=ann.base_url) as api:
        still_valid = await api.post("/api/v1/auth/refresh", json={"refresh_token": latest})
    assert still_valid.status_code == 200


@pytest.mark.parametrize(
    "next_page", ["/%5Cevil.example/", "/%09/evil.example/", "//evil.example/"]
)
async def test_log_in_goes_to_the_default_page_when_next_leaves_this_site(
    person: MakePerson, db: AsyncSession, next_page: str
) -> None:
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    await ann.open(f"/login?next={next_page}")
    await ann.page.get_by_label("E-mail").fill(attendee.email)
    await ann.page.get_by_label("Password").fill(PASSWORD)
    await ann.page.get_by_role("button", name="Log in").click()

    await expect(ann.heading).to_have_text("Upcoming events")
    await expect(ann.page).to_have_url(f"{ann.base_url}/")
