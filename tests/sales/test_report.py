"""GET /events/{id}/sales: an event's seats and money, in total, by day in its time zone and by
ticket type, for its organizer and admins (SPEC §10)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import BookingStatus
from boxoffice.catalogue.models import TicketType
from boxoffice.events.models import Event, EventStatus
from boxoffice.payments.models import PaymentStatus, RefundStatus
from boxoffice.sales.schemas import SalesRead
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.events.support import Viewer, headers_of
from tests.factories import first_ticket_type, make_event, make_ticket_type, make_user, signed_in
from tests.sales.support import pay, sales_path, sell

CONFIRMED = BookingStatus.CONFIRMED
REFUNDED, OWED, SUCCEEDED = PaymentStatus.REFUNDED, RefundStatus.OWED, RefundStatus.SUCCEEDED


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


@dataclass
class Box:
    organizer: User
    event: Event
    adult: TicketType
    child: TicketType
    press: TicketType


@pytest.fixture
async def box(db: AsyncSession) -> Box:
    """An event in Berlin (UTC+1 in March) selling Adult at 25.00 and Child at 10.00 EUR, and a
    free Press type nobody took."""
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=50, timezone="Europe/Berlin")
    adult = await first_ticket_type(db, event)
    await db.execute(
        update(TicketType).where(TicketType.id == adult.id).values(name="Adult", price_minor=2500)
    )
    await db.commit()
    adult.price_minor = 2500
    child = await make_ticket_type(db, event, name="Child", price_minor=1000, position=1)
    press = await make_ticket_type(db, event, name="Press", price_minor=0, position=2)
    return Box(organizer, event, adult, child, press)


async def read_sales(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, box: Box
) -> Any:
    """The report as an admin reads it: JSON."""
    _, headers = await signed_in(db, settings, Role.ADMIN)
    response = await client.get(sales_path(box.event.id), headers=headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == set(SalesRead.model_fields)
    return response.json()


async def test_sales_count_what_was_sold_held_kept_refunded_and_owed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, box: Box
) -> None:
    # Paid on the 14th: two adults and a child. A first card failed.
    family = await sell(
        db, box.event, [(box.adult, 2), (box.child, 1)], status=CONFIRMED, at=utc(14, 10)
    )
    await pay(db, family, status=PaymentStatus.FAILED)
    await pay(db, family, at=utc(14, 10, 5))
    # Booked at 00:30 on the 15th in Berlin (23:30 UTC the day before), paid by bank transfer
    # the morning after next.
    late = await sell(db, box.event, [(box.adult, 1)], status=CONFIRMED, at=utc(14, 23, 30))
    await pay(db, late, provider="manual", at=utc(16, 8))
    # Held: two children waiting for payment, one adult offered from the waiting list.
    waiting = await sell(
        db, box.event, [(box.child, 2)], status=BookingStatus.PENDING, at=utc(15, 9)
    )
    await pay(db, waiting, status=PaymentStatus.PENDING)
    await sell(db, box.event, [(box.adult, 1)], status=BookingStatus.OFFERED, at=utc(15, 10))
    # Cancelled after paying: by card, given back; by bank transfer, owed back.
    by_card = await sell(
        db, box.event, [(box.adult, 1)], status=BookingStatus.CANCELLED, at=utc(14, 12)
    )
    await pay(db, by_card, status=REFUNDED, at=utc(14, 12, 1), refund=SUCCEEDED)
    by_hand = await sell(
        db, box.event, [(box.child, 1)], status=BookingStatus.CANCELLED, at=utc(14, 13)
    )
    await pay(db, by_hand, status=REFUNDED, at=utc(14, 13), provider="manual", refund=OWED)
    # Neither sold nor held.
    await sell(db, box.event, [(box.adult, 3)], status=BookingStatus.WAITLISTED, at=utc(15, 11))
    await sell(db, box.event, [(box.child, 1)], status=BookingStatus.EXPIRED, at=utc(15, 12))

    sales = await read_sales(client, db, settings, box)

    assert sales["currency"] == "EUR"
    assert sales["totals"] == {
        "seats_sold": 4,
        "seats_held": 3,
        "revenue": "85.00",
        "refunded": "25.00",
        "owed": "10.00",
        "pending_payments": "20.00",
    }
    assert sales["by_day"] == [
        {"date": "2027-03-14", "seats": 3, "revenue": "60.00"},
        {"date": "2027-03-15", "seats": 1, "revenue": "0.00"},
        {"date": "2027-03-16", "seats": 0, "revenue": "25.00"},
    ]
    assert sales["by_ticket_type"] == [
        {"ticket_type_id": box.adult.id, "name": "Adult", "seats": 3, "revenue": "75.00"},
        {"ticket_type_id": box.child.id, "name": "Child", "seats": 1, "revenue": "10.00"},
        {"ticket_type_id": box.press.id, "name": "Press", "seats": 0, "revenue": "0.00"},
    ]


async def test_an_event_without_sales_lists_its_types_with_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, owner, currency="JPY")

    response = await client.get(sales_path(event.id), headers=headers)

    assert response.status_code == 200
    assert response.json() == {
        "currency": "JPY",
        "totals": {
            "seats_sold": 0,
            "seats_held": 0,
            "revenue": "0",
            "refunded": "0",
            "owed": "0",
            "pending_payments": "0",
        },
        "by_day": [],
        "by_ticket_type": [
            {
                "ticket_type_id": (await first_ticket_type(db, event)).id,
                "name": "General admission",
                "seats": 0,
                "revenue": "0",
            }
        ],
    }


async def test_a_day_ends_at_local_midnight_even_at_a_quarter_hour_offset(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, box: Box
) -> None:
    # Kathmandu is UTC+05:45: 18:10 UTC is 23:55 on the 14th there, 18:20 UTC is 00:05 on the
    # 15th. The same UTC hour, two days.
    await db.execute(
        update(Event).where(Event.id == box.event.id).values(timezone="Asia/Kathmandu")
    )
    await db.commit()
    before = await sell(db, box.event, [(box.child, 1)], status=CONFIRMED, at=utc(14, 18, 10))
    await pay(db, before, at=utc(14, 18, 14))
    after = await sell(db, box.event, [(box.adult, 2)], status=CONFIRMED, at=utc(14, 18, 20))
    await pay(db, after, at=utc(14, 18, 15))

    sales = await read_sales(client, db, settings, box)

    assert sales["by_day"] == [
        {"date": "2027-03-14", "seats": 1, "revenue": "10.00"},
        {"date": "2027-03-15", "seats": 2, "revenue": "50.00"},
    ]


async def test_a_confirmed_booking_that_was_never_paid_for_brings_no_revenue(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, box: Box
) -> None:
    await sell(db, box.event, [(box.adult, 1)], status=CONFIRMED, at=utc(14, 9))

    sales = await read_sales(client, db, settings, box)

    assert sales["totals"]["seats_sold"] == 1
    assert sales["totals"]["revenue"] == "0.00"
    assert sales["by_ticket_type"][0] == {
        "ticket_type_id": box.adult.id,
        "name": "Adult",
        "seats": 1,
        "revenue": "0.00",
    }


# -- who may read it ---------------------------------------------------------------------------

PATHS = [None, "seats-by-day"]


@pytest.mark.parametrize("chart", PATHS)
@pytest.mark.parametrize(
    ("viewer", "status"),
    [
        ("owner", 200),
        ("admin", 200),
        ("other_organizer", 403),
        ("attendee", 403),
        ("anonymous", 401),
    ],
)
async def test_only_the_organizer_and_admins_read_the_sales(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    viewer: Viewer,
    status: int,
    chart: str | None,
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    headers = await headers_of(db, settings, viewer, organizer)

    response = await client.get(sales_path(event.id, chart), headers=headers)

    assert response.status_code == status


@pytest.mark.parametrize("chart", PATHS)
async def test_no_cache_keeps_the_sales(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, chart: str | None
) -> None:
    owner, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, owner)

    response = await client.get(sales_path(event.id, chart), headers=headers)

    assert (response.status_code, response.headers["cache-control"]) == (200, "no-store")


@pytest.mark.parametrize("chart", PATHS)
async def test_another_organizers_draft_has_no_sales_to_see(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, chart: str | None
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    draft = await make_event(db, organizer, status=EventStatus.DRAFT)
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.get(sales_path(draft.id, chart), headers=headers)

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
