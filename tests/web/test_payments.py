"""Holds, payments and waiting-list offers in a real browser (SPEC §10): a booking's page with
its checkout, countdown and the manual provider, the organizer recording the money, a hold that
runs out, offers accepted and declined, the event form's hold fields, and the booking page's own
Content-Security-Policy. With stripe enabled, the server talks to localstripe and the browser
to a stand-in for Stripe.js: no test reaches Stripe."""

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Request, Route, expect
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.app import create_app
from boxoffice.bookings import service as bookings
from boxoffice.security import CHECKOUT_CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from boxoffice.web.router import page_paths
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import auth_headers
from tests.servers import running_server
from tests.stripe_server import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    localstripe_server,
    pay,
    register_webhook,
)
from tests.web.conftest import MakePerson, event_through_api, registered

pytestmark = pytest.mark.engines("sqlite", "postgresql")

ADULT = {"name": "Adult", "price": "12.00"}
# A booking's page (the checkout while it is pending), not the API's /api/v1/bookings/{id}.
BOOKING_PAGE = re.compile(r"^http://[^/]+/bookings/(\d+)$")
STRIPE_HOSTS = ("js.stripe.com", "api.stripe.com", "hooks.stripe.com")
STRIPE_JS = "https://js.stripe.com/v3/"
PUBLISHABLE_KEY = "pk_test_boxoffice"
# Stripe.js as far as the checkout uses it: the card field it mounts says so, and confirming a
# card waits for the test to answer as Stripe would.
FAKE_STRIPE_JS = """
window.Stripe = (key) => ({
  elements: () => ({
    create: (type) => ({ mount: (element) => { element.dataset.mounted = `${type} ${key}`; } }),
  }),
  confirmCardPayment: (secret, data) =>
    new Promise((resolve) => {
      window.confirming = { secret, card: Boolean(data.payment_method.card), resolve };
    }),
});
"""


async def book_through_api(
    base_url: str, db: AsyncSession, settings: Settings, holder: User, event_id: int, **body: Any
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url) as api:
        response = await api.post(
            "/api/v1/bookings",
            headers=await auth_headers(db, settings, holder),
            json={"event_id": event_id, **body},
        )
    assert response.status_code == 201, response.text
    booking: dict[str, Any] = response.json()
    return booking


async def test_attendee_pays_by_transfer_and_is_confirmed_once_the_organizer_marks_it_paid(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await event_through_api(
        base_url,
        db,
        settings,
        organizer,
        title="Harbour gala",
        ticket_types=[ADULT],
        hold_minutes=20,
    )
    attendee = await registered(db, Role.ATTENDEE, "Ann Attendee")
    ann = await person()
    page = ann.page
    stripe_requests: list[str] = []

    def to_stripe(request: Request) -> None:
        if any(host in request.url for host in STRIPE_HOSTS):
            stripe_requests.append(request.url)

    page.on("request", to_stripe)
    await ann.log_in(attendee.email)
    await ann.open(f"/events/{event['id']}")
    hold_note = page.get_by_text("Your seats will be held for 20 minutes while you pay.")
    await expect(hold_note).to_be_visible()  # one Adult ticket is chosen to start with
    await page.get_by_label("Adult").fill("0")
    await expect(hold_note).to_be_hidden()
    await page.get_by_label("Adult").fill("2")
    await expect(page.locator(".booking .total")).to_have_text("2 tickets · total €24.00")
    await expect(hold_note).to_be_visible()

    # The booking's page is a document of its own, here under the strict policy: no stripe.
    async with page.expect_response(BOOKING_PAGE) as checkout_document:
        await page.get_by_role("button", name="Book").click()
    assert (await checkout_document.value).headers[
        "content-security-policy"
    ] == CONTENT_SECURITY_POLICY
    await expect(ann.heading).to_have_text("Checkout: Harbour gala")
    found = BOOKING_PAGE.search(page.url)
    assert found
    booking_id = int(found.group(1))
    await expect(page.get_by_role("heading", name="Amount due €24.00")).to_be_visible()
    lines = page.get_by_role("list", name="Tickets booked")
    await expect(lines.get_by_role("listitem")).to_have_text(["2× Adult €12.00"])
    timer = page.get_by_role("timer")
    await expect(timer).to_have_text(re.compile(r"^(20 minutes|19 minutes( \d+ seconds?)?)$"))
    await expect(timer).not_to_have_text(await timer.inner_text())  # it counts down
    await ann.check_page("checkout")

    how = page.get_by_role("group", name="How to pay")
    await expect(how.get_by_role("radio")).to_have_count(1)
    await expect(how.get_by_label("Bank transfer or cash at the desk")).to_be_checked()
    await page.get_by_role("button", name="Continue").click()
    await expect(
        page.get_by_role("heading", name="Pay by bank transfer or at the desk")
    ).to_be_visible()
    await expect(page.locator(".reference")).to_have_text(f"BOX-{booking_id}")
    await expect(
        page.get_by_text(f"Quote the reference BOX-{booking_id} when you pay.")
    ).to_be_visible()
    # A transfer takes days: the hold now lasts the event's manual_payment_days (3).
    await expect(timer).to_have_text("2 days 23 hours")
    async with httpx.AsyncClient(base_url=base_url) as api:
        held = await api.get(
            f"/api/v1/bookings/{booking_id}", headers=await auth_headers(db, settings, attendee)
        )
    expires_at = datetime.fromisoformat(held.json()["expires_at"])
    assert expires_at > datetime.now(UTC) + timedelta(days=2, hours=23)
    await ann.check_page("checkout-transfer")
    await expect(page.locator(".reference")).to_have_text(f"BOX-{booking_id}")  # after a reload

    olga = await person()
    await olga.log_in(organizer.email)
    await olga.open(f"/organizer/events/{event['id']}/guests")
    row = olga.page.get_by_role("row", name="Ann Attendee")
    await expect(row).to_contain_text("€24.00 owed")
    await expect(row).to_contain_text("pending")
    await olga.check_page("organizer-guests-owed")
    await olga.page.get_by_role("button", name="Mark paid: Ann Attendee").click()
    await expect(row).to_contain_text("confirmed")
    await expect(row).to_contain_text("Recorded: Ann Attendee paid €24.00.")
    await expect(olga.page.get_by_role("button", name="Mark paid: Ann Attendee")).to_have_count(0)

    await page.reload()
    await expect(page.get_by_text("Paid: your booking is confirmed.")).to_be_visible()
    await page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(ann.heading).to_have_text("My bookings")
    await expect(page.locator(".booking-card .badge")).to_have_text("confirmed")
    await expect(
        page.get_by_role("group", name="Ticket QR codes").get_by_role("img")
    ).to_have_count(3)
    assert stripe_requests == []


async def test_a_hold_that_runs_out_is_announced_and_the_booking_shows_expired(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings, app: FastAPI
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await event_through_api(
        base_url, db, settings, organizer, title="Late show", ticket_types=[ADULT]
    )
    attendee = await registered(db, Role.ATTENDEE, "Sam Slow")
    booking = await book_through_api(base_url, db, settings, attendee, event["id"], seats=1)
    assert booking["status"] == "pending"
    sam = await person()
    page = sam.page
    # The page's clock, driven by the test: its timers fire as time is moved on.
    await page.clock.install()
    await sam.log_in(attendee.email)
    await page.get_by_role("link", name="My bookings", exact=True).click()
    card = page.locator(".booking-card")
    await expect(card.locator(".badge")).to_have_text("pending")
    await expect(card).to_contain_text("Pay by")
    await card.get_by_role("link", name="Pay: Late show").click()
    await expect(sam.heading).to_have_text("Checkout: Late show")
    timer = page.get_by_role("timer")
    await expect(timer).to_have_text(re.compile(r"^1[45] minutes"))
    spoken = page.locator(".hold [role=status]")
    await expect(spoken).to_have_text("")  # the page itself says what is left at first

    await page.clock.fast_forward("01:00")
    await expect(spoken).to_have_text("14 minutes left to pay.")
    await expect(timer).to_have_text(re.compile(r"^1[34] minutes"))

    # The server's time passes the hold's end too: its sweep ends the hold.
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert await bookings.sweep_expired_holds(app.state.sessionmaker, later) == 1
    await page.clock.fast_forward("15:00")
    await expect(page.locator("#status-checkout")).to_have_text(
        "Your hold has ended: the seats went back on sale."
    )
    await expect(page.get_by_text("Book again on the event's page.")).to_be_visible()
    await expect(page.get_by_role("button", name="Continue")).to_have_count(0)
    await sam.assert_accessible("checkout-ended")

    await page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(card.locator(".badge")).to_have_text("expired")
    await expect(card).to_contain_text("The hold has ended")
    await expect(card.get_by_role("link", name="Pay: Late show")).to_have_count(0)
    await expect(card.get_by_role("button", name="Cancel booking")).to_have_count(0)


async def test_offers_are_accepted_into_the_checkout_or_declined(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await event_through_api(
        base_url, db, settings, organizer, title="Small room", capacity=3, ticket_types=[ADULT]
    )
    first = await registered(db, Role.ATTENDEE, "Fay First")
    yes = await registered(db, Role.ATTENDEE, "Yan Yes")
    no = await registered(db, Role.ATTENDEE, "Nia No")
    linked = await registered(db, Role.ATTENDEE, "Lou Link")
    taken = await book_through_api(base_url, db, settings, first, event["id"], seats=3)
    offers = {}
    for waiting in (yes, no, linked):
        booking = await book_through_api(
            base_url, db, settings, waiting, event["id"], seats=1, join_waitlist=True
        )
        assert booking["status"] == "waitlisted"
        offers[waiting.id] = booking["id"]
    async with httpx.AsyncClient(base_url=base_url) as api:
        cancelled = await api.delete(
            f"/api/v1/bookings/{taken['id']}", headers=await auth_headers(db, settings, first)
        )
    assert cancelled.status_code == 200, cancelled.text  # the seats are offered, one each

    yan = await person()
    await yan.log_in(yes.email)
    await yan.page.get_by_role("link", name="My bookings", exact=True).click()
    card = yan.page.locator(".booking-card")
    await expect(card.locator(".badge")).to_have_text("offered")
    await expect(card).to_contain_text("Seats offered to you until")
    await yan.check_page("my-bookings-offer")
    await yan.page.get_by_role("button", name="Accept: Small room").click()
    await expect(yan.page).to_have_url(BOOKING_PAGE)
    await expect(yan.heading).to_have_text("Checkout: Small room")
    await expect(yan.page.get_by_role("heading", name="Amount due €12.00")).to_be_visible()
    await expect(yan.page.get_by_role("timer")).to_have_text(re.compile(r"^1[45] minutes"))

    nia = await person()
    await nia.log_in(no.email)
    await nia.page.get_by_role("link", name="My bookings", exact=True).click()
    card = nia.page.locator(".booking-card")
    await expect(card.locator(".badge")).to_have_text("offered")
    await nia.page.get_by_role("button", name="Decline: Small room").click()
    await expect(card.locator(".badge")).to_have_text("cancelled")
    await expect(card).to_contain_text("Offer declined: the seats go to the next in line.")
    await expect(nia.page.get_by_role("button", name="Accept: Small room")).to_have_count(0)

    # The offer's message links to the booking's page: the offer is answered there too.
    lou = await person()
    await lou.log_in(linked.email)
    await lou.open(f"/bookings/{offers[linked.id]}")
    await expect(lou.heading).to_have_text("Booking: Small room")
    await expect(lou.page.get_by_text("Accept, then pay €12.00.")).to_be_visible()
    await lou.check_page("booking-offer")
    await lou.page.get_by_role("button", name="Accept: Small room").click()
    await expect(lou.heading).to_have_text("Checkout: Small room")
    await expect(lou.page.locator("#status-checkout")).to_have_text(
        "Offer accepted: pay to keep the seats."
    )
    await expect(lou.page.get_by_role("group", name="How to pay")).to_be_visible()


async def test_organizer_sets_how_long_holds_last_and_what_the_waiting_list_does(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    olga = await person()
    page = olga.page
    await olga.log_in(organizer.email)
    await olga.open("/organizer/events/new")
    berlin = ZoneInfo("Europe/Berlin")
    starts = (datetime.now(berlin) + timedelta(days=30)).replace(
        hour=19, minute=30, second=0, microsecond=0
    )
    deadline = starts - timedelta(days=2)
    await page.get_by_label("Title").fill("Opera night")
    await page.get_by_label("Location").fill("Opera house")
    await page.get_by_label("Time zone").fill("Europe/Berlin")
    await page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Seats").fill("50")
    await expect(page.get_by_label("Minutes to pay")).to_have_value("15")
    await expect(page.get_by_label("Waiting list")).to_have_value("promote")
    await page.get_by_label("Minutes to pay").fill("30")
    await page.get_by_label("Days to pay by transfer").fill("5")
    await page.get_by_label("Hours to answer an offer").fill("12")
    await page.get_by_label("Waiting list").select_option("offer")
    await page.get_by_label("Cancellation deadline").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="Create event").click()
    await expect(olga.heading).to_have_text("Edit: Opera night")
    await expect(page.get_by_label("Minutes to pay")).to_have_value("30")
    await expect(page.get_by_label("Waiting list")).to_have_value("offer")
    await olga.check_page("organizer-edit-event-holds")

    await page.get_by_label("Cancellation deadline").fill("")
    await page.get_by_label("Hours to answer an offer").fill("48")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    event_id = int(page.url.rstrip("/edit").rsplit("/", 1)[1])
    async with httpx.AsyncClient(base_url=base_url) as api:
        event = (
            await api.get(
                f"/api/v1/events/{event_id}", headers=await auth_headers(db, settings, organizer)
            )
        ).json()
    assert (
        event["hold_minutes"],
        event["manual_payment_days"],
        event["offer_hours"],
        event["waitlist_mode"],
        event["cancellation_deadline"],
    ) == (30, 5, 48, "offer", None)


# -- the booking page's Content-Security-Policy ------------------------------------------------


@pytest.fixture
async def stripe_app(database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(
        make_settings(
            database_url,
            payment_providers="manual,stripe",
            stripe_secret_key="sk_test_not_used",
            stripe_webhook_secret="whsec_not_used",
            stripe_publishable_key="pk_test_not_used",
        )
    )
    yield app
    await app.state.payment_providers["stripe"].aclose()
    await app.state.engine.dispose()


async def test_only_the_booking_page_lets_stripe_in_and_only_where_stripe_is_enabled(
    stripe_app: FastAPI, client: httpx.AsyncClient
) -> None:
    transport = httpx.ASGITransport(app=stripe_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        policies = {
            path: (await http.get(path.replace("{id}", "42"))).headers["content-security-policy"]
            for path in page_paths()
        }
    manual_only = (await client.get("/bookings/42")).headers["content-security-policy"]

    checkout = dict(part.split(" ", 1) for part in policies.pop("/bookings/{id}").split("; "))
    assert checkout["script-src"] == "'self' https://js.stripe.com"
    assert checkout["frame-src"] == "https://js.stripe.com https://hooks.stripe.com"
    assert checkout["connect-src"] == "'self' https://api.stripe.com"
    assert (
        "; ".join(f"{name} {sources}" for name, sources in checkout.items())
        == CHECKOUT_CONTENT_SECURITY_POLICY
    )
    assert set(policies.values()) == {CONTENT_SECURITY_POLICY}
    assert "stripe" not in CONTENT_SECURITY_POLICY
    assert manual_only == CONTENT_SECURITY_POLICY


# -- Stripe: the booking page alone loads Stripe.js and confirms the card -----------------------


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    with localstripe_server() as url:
        yield url


@pytest.fixture(scope="module")
def stripe_base_url(database_url: str, localstripe: str) -> Iterator[str]:
    """A server on the tests' database with stripe enabled, whose Stripe is localstripe."""
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": TEST_SECRET,
        "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
        "BOXOFFICE_PAYMENT_PROVIDERS": "manual,stripe",
        "BOXOFFICE_STRIPE_SECRET_KEY": SECRET_KEY,
        "BOXOFFICE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BOXOFFICE_STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "BOXOFFICE_STRIPE_API_BASE": localstripe,
    }
    with running_server(env) as url:
        yield url


async def test_with_stripe_the_checkout_alone_loads_stripe_js_and_confirms_the_card(
    person: MakePerson,
    stripe_base_url: str,
    localstripe: str,
    db: AsyncSession,
    settings: Settings,
) -> None:
    await register_webhook(localstripe, f"{stripe_base_url}/api/v1/payments/stripe/webhook")
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await event_through_api(
        stripe_base_url, db, settings, organizer, title="Card night", ticket_types=[ADULT]
    )
    attendee = await registered(db, Role.ATTENDEE, "Cora Card")
    cora = await person()
    cora.base_url = stripe_base_url
    page = cora.page
    loaded_on: list[str] = []

    async def stand_in(route: Route) -> None:
        loaded_on.append(page.url)
        await route.fulfill(body=FAKE_STRIPE_JS, content_type="text/javascript")

    await page.route(STRIPE_JS, stand_in)
    await cora.log_in(attendee.email)
    await cora.open(f"/events/{event['id']}")
    async with page.expect_response(BOOKING_PAGE) as checkout_document:
        await page.get_by_role("button", name="Book").click()
    policy = (await checkout_document.value).headers["content-security-policy"]
    assert policy == CHECKOUT_CONTENT_SECURITY_POLICY
    await expect(cora.heading).to_have_text("Checkout: Card night")
    how = page.get_by_role("group", name="How to pay")
    await expect(how.get_by_role("radio")).to_have_count(2)
    assert loaded_on == []  # not before a card is chosen

    await how.get_by_label("Card").check()
    card_field = page.get_by_role("group", name="Card details")
    await expect(card_field).to_have_attribute("data-mounted", f"card {PUBLISHABLE_KEY}")
    assert loaded_on == [page.url]
    await cora.assert_accessible("checkout-card")

    # Declined first: Stripe's message is shown, and the next try confirms the same intent.
    await page.get_by_role("button", name="Pay €12.00").click()
    await page.wait_for_function("() => window.confirming")
    secret = await page.evaluate("window.confirming.secret")
    assert await page.evaluate("window.confirming.card")
    await page.evaluate(
        "window.confirming.resolve({error: {message: 'Your card was declined.'}});"
        "window.confirming = null;"
    )
    await expect(page.locator("#status-checkout")).to_have_text("Your card was declined.")

    await page.get_by_role("button", name="Pay €12.00").click()
    await page.wait_for_function("() => window.confirming")
    assert await page.evaluate("window.confirming.secret") == secret
    assert await pay(localstripe, secret.split("_secret_")[0]) == "succeeded"
    await page.evaluate("window.confirming.resolve({})")
    # Stripe's webhook confirms the booking; the page waits for it.
    await expect(page.locator("#status-checkout")).to_have_text(
        "Paid: your booking is confirmed.", timeout=20_000
    )
    await expect(page.get_by_text("Your tickets are below")).to_be_visible()

    async with page.expect_response(f"{stripe_base_url}/bookings") as bookings_document:
        await page.get_by_role("link", name="My bookings", exact=True).click()
    policy = (await bookings_document.value).headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    await expect(page.locator(".booking-card .badge")).to_have_text("confirmed")
    assert await page.evaluate("typeof window.Stripe") == "undefined"  # a page of its own
    assert len(loaded_on) == 1  # on the checkout, once
