"""Events sell ticket types: made with the event, shown with it, in its currency."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.app import create_app
from boxoffice.catalogue.models import TicketType
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.admin.test_users_list import counted_statements
from tests.catalogue.support import types_path
from tests.conftest import make_settings
from tests.events.support import EVENTS, Viewer, count_events, event_path, headers_of, new_event
from tests.factories import make_event, make_ticket_type, make_user, signed_in


async def stored_types(db: AsyncSession, event_id: int) -> list[tuple[str, int, int]]:
    found = await db.execute(
        select(TicketType.name, TicketType.price_minor, TicketType.position)
        .where(TicketType.event_id == event_id)
        .order_by(TicketType.position, TicketType.id)
    )
    rows = [(row.name, row.price_minor, row.position) for row in found.all()]
    await db.commit()
    return rows


# -- creating ----------------------------------------------------------------------------------


async def test_an_event_made_without_types_sells_general_admission_for_free(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(EVENTS, headers=headers, json=new_event(capacity=30))

    assert response.status_code == 201
    event = response.json()
    assert (event["currency"], event["seats_held"], event["price_from"]) == ("EUR", 0, "0.00")
    (general,) = event["ticket_types"]
    assert (general["name"], general["price"], general["position"]) == (
        "General admission",
        "0.00",
        0,
    )
    assert (general["min_per_booking"], general["max_per_booking"]) == (1, 10)
    # A draft sells nothing yet.
    assert general["seats_available"] == 0
    assert await stored_types(db, event["id"]) == [("General admission", 0, 0)]


async def test_an_event_is_made_with_the_types_asked_for_in_its_currency(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    body = new_event(
        capacity=30,
        status="published",
        currency="JPY",
        ticket_types=[
            {"name": "Adult", "price": "3000"},
            {"name": "Child", "price": "1500", "max_per_booking": 4},
            {"name": "Friends", "price": "0", "hidden": True, "access_code": "TEA-FRIENDS"},
        ],
    )

    response = await client.post(EVENTS, headers=headers, json=body)

    assert response.status_code == 201, response.text
    event = response.json()
    assert (event["currency"], event["price_from"]) == ("JPY", "0")
    assert [(t["name"], t["price"], t["seats_available"]) for t in event["ticket_types"]] == [
        ("Adult", "3000", 30),
        ("Child", "1500", 30),
        ("Friends", "0", 30),
    ]
    assert event["ticket_types"][2]["access_code"] == "TEA-FRIENDS"
    assert await stored_types(db, event["id"]) == [
        ("Adult", 3000, 0),
        ("Child", 1500, 1),
        ("Friends", 0, 2),
    ]


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"currency": "XYZ"}, ["body", "currency"]),
        ({"currency": "eur"}, ["body", "currency"]),
        ({"ticket_types": []}, ["body", "ticket_types"]),
        ({"ticket_types": [{"name": "Adult", "price": "1"}] * 51}, ["body", "ticket_types"]),
        ({"ticket_types": [{"name": "Adult"}]}, ["body", "ticket_types", 0, "price"]),
        (
            {
                "currency": "JPY",
                "ticket_types": [{"name": "A", "price": "1"}, {"name": "B", "price": "1.5"}],
            },
            ["body", "ticket_types", 1, "price"],
        ),
        (
            {
                "ticket_types": [
                    {"name": "A", "price": "1", "min_per_booking": 3, "max_per_booking": 2}
                ]
            },
            ["body", "ticket_types", 0, "max_per_booking"],
        ),
    ],
)
async def test_an_event_with_a_type_that_cannot_be_is_not_made(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    fields: dict[str, object],
    where: list[object],
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(EVENTS, headers=headers, json=new_event(**fields))

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == where
    assert await count_events(db) == 0
    assert await db.scalar(select(func.count(TicketType.id))) == 0


async def test_the_currency_is_given_once(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)

    response = await client.patch(event_path(event.id), headers=headers, json={"currency": "USD"})
    types = await client.patch(
        event_path(event.id), headers=headers, json={"ticket_types": [{"name": "X", "price": "1"}]}
    )

    assert (response.status_code, types.status_code) == (422, 422)


@pytest.fixture
async def yen_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(settings.database_url, default_currency="JPY"))
    yield app
    await app.state.engine.dispose()


async def test_the_servers_default_currency_applies_when_none_is_asked_for(
    yen_app: FastAPI, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    transport = httpx.ASGITransport(app=yen_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        default = await http.post(EVENTS, headers=headers, json=new_event())
        asked = await http.post(EVENTS, headers=headers, json=new_event(currency="EUR"))

    assert (default.json()["currency"], default.json()["price_from"]) == ("JPY", "0")
    assert (asked.json()["currency"], asked.json()["price_from"]) == ("EUR", "0.00")


def test_an_unknown_default_currency_stops_the_server_from_starting() -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        Settings(default_currency="ECU")


# -- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "price_from", "shown"),
    [
        ("anonymous", "8.00", ["Adult", "Student"]),
        ("attendee", "8.00", ["Adult", "Student"]),
        ("owner", "0.00", ["Adult", "Student", "Crew"]),
        ("admin", "0.00", ["Adult", "Student", "Crew"]),
    ],
)
async def test_an_event_shows_the_types_its_reader_may_see_and_their_lowest_price(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    viewer: Viewer,
    price_from: str,
    shown: list[str],
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    await bare(db, event.id)
    await make_ticket_type(db, event, name="Crew", price_minor=0, hidden=True, position=3)
    await make_ticket_type(db, event, name="Student", price_minor=800, position=2)
    await make_ticket_type(db, event, name="Adult", price_minor=1500, position=1)
    headers = await headers_of(db, settings, viewer, organizer)
    mine = {"mine": "true"} if viewer == "owner" else {}

    one = (await client.get(event_path(event.id), headers=headers)).json()
    listed = (await client.get(EVENTS, headers=headers, params=mine)).json()["items"][0]

    for read in (one, listed):
        assert [t["name"] for t in read["ticket_types"]] == shown
        assert read["price_from"] == price_from
        assert (read["currency"], read["seats_held"]) == ("EUR", 0)


async def bare(db: AsyncSession, event_id: int) -> None:
    """Takes away the type `make_event` gave the event."""
    for ticket_type in (
        await db.scalars(select(TicketType).where(TicketType.event_id == event_id))
    ).all():
        await db.delete(ticket_type)
    await db.commit()


async def test_an_event_whose_only_type_is_hidden_has_no_price_for_the_public(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    await bare(db, event.id)
    await make_ticket_type(db, event, name="Invited", hidden=True, access_code="INVITE")

    read = (await client.get(event_path(event.id))).json()

    assert (read["ticket_types"], read["price_from"]) == ([], None)
    unlocked = await client.get(types_path(event.id), params={"access_code": "INVITE"})
    assert [t["name"] for t in unlocked.json()["items"]] == ["Invited"]


async def test_the_listing_reads_the_types_of_a_whole_page_in_one_statement(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    for _ in range(2):
        await make_event(db, organizer)
    with counted_statements(app.state.engine) as few:
        two = await client.get(EVENTS)
    for _ in range(8):
        event = await make_event(db, organizer)
        await make_ticket_type(db, event, name="Extra")
    with counted_statements(app.state.engine) as many:
        ten = await client.get(EVENTS)

    assert len(two.json()["items"]) == 2
    assert len(ten.json()["items"]) == 10
    assert sum(len(event["ticket_types"]) for event in ten.json()["items"]) == 18
    assert len(many) == len(few)
    assert sum("ticket_types" in statement for statement in many) == 1


async def test_an_admin_sees_an_organizers_recent_events_with_every_type(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    await make_ticket_type(db, event, name="Crew", hidden=True)
    admin = await signed_in(db, settings, Role.ADMIN)

    response = await client.get(f"/api/v1/admin/users/{organizer.id}", headers=admin.headers)

    (recent,) = response.json()["recent_events"]
    assert [t["name"] for t in recent["ticket_types"]] == ["General admission", "Crew"]
