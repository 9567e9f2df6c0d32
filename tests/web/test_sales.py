"""An organizer reads an event's sales in a real browser: the totals with what they owe back, the
four charts the API draws and the tables of their figures."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import BookingStatus
from boxoffice.catalogue.models import TicketType
from boxoffice.events.models import Event
from boxoffice.payments.models import PaymentStatus, RefundStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.factories import auth_headers, first_ticket_type, make_event, make_ticket_type
from tests.sales.support import pay, sales_path, sell
from tests.web.conftest import MakePerson, registered

pytestmark = pytest.mark.engines("sqlite", "postgresql")

CHARTS = {
    "seats-by-day": "Seats sold by day",
    "revenue-by-day": "Revenue by day",
    "seats-by-type": "Seats sold by ticket type",
    "revenue-by-type": "Revenue by ticket type",
}


def euros(amount: str) -> str:
    """An amount as the browser (en-US) writes it in EUR, for amounts under a thousand."""
    return f"€{amount}"


async def festival_with_sales(db: AsyncSession, organizer: User) -> Event:
    """A festival in Berlin selling Adult at 25.00 and Child at 10.00 EUR and a free Press type:
    four seats sold and paid, three held, a card payment refunded and a bank transfer owed back
    (the scenario of docs/api.md, days ago; the holds end days from now)."""
    event = await make_event(
        db, organizer, title="Autumn festival", capacity=50, timezone="Europe/Berlin"
    )
    adult = await first_ticket_type(db, event)
    await db.execute(
        update(TicketType).where(TicketType.id == adult.id).values(name="Adult", price_minor=2500)
    )
    await db.commit()
    adult.price_minor = 2500
    child = await make_ticket_type(db, event, name="Child", price_minor=1000, position=1)
    await make_ticket_type(db, event, name="Press", price_minor=0, position=2)
    first = (datetime.now(UTC) - timedelta(days=4)).replace(hour=10, minute=0)
    now = datetime.now(UTC)

    family = await sell(
        db, event, [(adult, 2), (child, 1)], status=BookingStatus.CONFIRMED, at=first
    )
    await pay(db, family, at=first + timedelta(minutes=5))
    # 23:30 UTC is the next day in Berlin; paid by bank transfer two days later.
    late = await sell(
        db,
        event,
        [(adult, 1)],
        status=BookingStatus.CONFIRMED,
        at=first.replace(hour=23, minute=30),
    )
    await pay(db, late, provider="manual", at=first + timedelta(days=2))
    waiting = await sell(db, event, [(child, 2)], status=BookingStatus.PENDING, at=now)
    await pay(db, waiting, status=PaymentStatus.PENDING)
    await sell(db, event, [(adult, 1)], status=BookingStatus.OFFERED, at=now)
    by_card = await sell(
        db, event, [(adult, 1)], status=BookingStatus.CANCELLED, at=first + timedelta(hours=2)
    )
    await pay(
        db,
        by_card,
        status=PaymentStatus.REFUNDED,
        at=first + timedelta(hours=2),
        refund=RefundStatus.SUCCEEDED,
    )
    by_hand = await sell(
        db, event, [(child, 1)], status=BookingStatus.CANCELLED, at=first + timedelta(hours=3)
    )
    await pay(
        db,
        by_hand,
        status=PaymentStatus.REFUNDED,
        at=first + timedelta(hours=3),
        provider="manual",
        refund=RefundStatus.OWED,
    )
    return event


async def table_rows(page: Page, caption: str) -> list[list[str]]:
    """Each row of a table as its cells' text; a day is given as its <time datetime>."""
    rows = page.get_by_role("table", name=caption).locator("tbody tr")
    cells: list[list[str]] = await rows.evaluate_all(
        """rows => rows.map(row => [...row.cells].map(
            cell => cell.querySelector("time")?.dateTime ?? cell.textContent))"""
    )
    return cells


async def test_organizer_reads_totals_charts_and_their_figures(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await festival_with_sales(db, organizer)
    async with httpx.AsyncClient(base_url=base_url) as api:
        response = await api.get(
            sales_path(event.id), headers=await auth_headers(db, settings, organizer)
        )
    sales: dict[str, Any] = response.json()
    assert sales["totals"] == {
        "seats_sold": 4,
        "seats_held": 3,
        "revenue": "85.00",
        "refunded": "25.00",
        "owed": "10.00",
        "pending_payments": "20.00",
    }
    olga = await person()
    page = olga.page
    await olga.log_in(organizer.email)

    await page.get_by_role("link", name="Sales: Autumn festival").click()
    await expect(olga.heading).to_have_text("Sales: Autumn festival")
    totals = {
        "Seats sold": "4",
        "Seats held": "3",
        "Revenue": "€85.00",
        "Refunded": "€25.00",
        "Owed back": "€10.00",
        "Pending payments": "€20.00",
    }
    for label, figure in totals.items():
        total = page.locator(
            ".sales-total", has=page.locator("dt", has_text=re.compile(f"^{label}$"))
        )
        await expect(total.locator(".figure")).to_have_text(figure)
    owed = page.locator(".sales-total", has=page.locator("dt", has_text="Owed back"))
    await expect(owed).to_have_class(re.compile(r"\bowed\b"))
    await expect(owed).to_contain_text("you must pay this back")

    for title in CHARTS.values():
        chart = page.get_by_role("img", name=f"Bar chart: {title.lower()}.")
        # decode() settles once the image is loaded, and fails if it cannot be shown.
        width = await chart.evaluate(
            "async img => { await img.decode(); return img.naturalWidth; }"
        )
        assert width > 0, title
    assert await table_rows(page, "Seats sold by day: the figures") == [
        [day["date"], str(day["seats"])] for day in sales["by_day"]
    ]
    assert await table_rows(page, "Revenue by day: the figures") == [
        [day["date"], euros(day["revenue"])] for day in sales["by_day"]
    ]
    assert await table_rows(page, "Seats sold by ticket type: the figures") == [
        [kind["name"], str(kind["seats"])] for kind in sales["by_ticket_type"]
    ]
    assert await table_rows(page, "Revenue by ticket type: the figures") == [
        [kind["name"], euros(kind["revenue"])] for kind in sales["by_ticket_type"]
    ]
    # The late booking's local day sits between the first and the transfer's.
    assert [day["seats"] for day in sales["by_day"]] == [3, 1, 0]
    assert [kind["revenue"] for kind in sales["by_ticket_type"]] == ["75.00", "10.00", "0.00"]
    await olga.check_page("organizer-sales")


async def test_another_organizer_is_refused_the_sales(
    person: MakePerson, base_url: str, db: AsyncSession, settings: Settings
) -> None:
    owner = await registered(db, Role.ORGANIZER, "Olga Organizer")
    other = await registered(db, Role.ORGANIZER, "Otto Other")
    event = await make_event(db, owner, title="Autumn festival")
    async with httpx.AsyncClient(base_url=base_url) as api:
        refusal = await api.get(
            sales_path(event.id), headers=await auth_headers(db, settings, other)
        )
    assert refusal.status_code == 403
    otto = await person()
    page = otto.page
    await otto.log_in(other.email)

    await otto.open(f"/organizer/events/{event.id}/sales")

    await expect(otto.heading).to_have_text("Something went wrong")
    await expect(page.get_by_role("alert")).to_have_text(refusal.json()["detail"])
    await expect(page.locator("main img")).to_have_count(0)
    await otto.assert_accessible("organizer-sales-refused")


async def test_a_chart_that_cannot_load_says_why_and_leaves_the_rest(
    person: MakePerson, db: AsyncSession
) -> None:
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Quiet evening")
    olga = await person()
    page = olga.page
    await olga.log_in(organizer.email)
    problem = {"title": "Service Unavailable", "status": 503, "detail": "try again in a minute"}
    await page.route(
        "**/sales/revenue-by-type.svg",
        lambda route: route.fulfill(
            status=503, json=problem, headers={"Content-Type": "application/problem+json"}
        ),
    )

    await olga.open(f"/organizer/events/{event.id}/sales")

    failed = page.get_by_role("region", name="Revenue by ticket type", exact=True)
    await expect(failed.locator(".status.error")).to_have_text(
        "The chart could not be shown: try again in a minute"
    )
    assert await table_rows(page, "Revenue by ticket type: the figures") == [
        ["General admission", "€0.00"]
    ]
    await expect(page.locator("main img")).to_have_count(3)
    # Nothing was sold on any day; nothing is owed, and that is not marked.
    by_day = page.get_by_role("region", name="Seats sold by day", exact=True)
    await expect(by_day).to_contain_text("Nothing sold yet.")
    owed = page.locator(".sales-total", has=page.locator("dt", has_text="Owed back"))
    await expect(owed.locator(".figure")).to_have_text("€0.00")
    await expect(owed).not_to_have_class(re.compile(r"\bowed\b"))
