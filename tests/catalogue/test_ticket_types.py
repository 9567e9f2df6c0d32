"""/events/{id}/ticket-types: who sees which type, what organizers may change, and prices."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import BookingStatus
from boxoffice.catalogue.models import Quota, TicketType, quota_ticket_types
from boxoffice.catalogue.schemas import TicketTypeCreate, TicketTypeRead
from boxoffice.db import utcnow
from boxoffice.events.models import EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.catalogue.support import (
    book,
    catalogue_version,
    new_type,
    quotas_path,
    stored,
    types_path,
)
from tests.events.support import Viewer, headers_of, set_event
from tests.factories import (
    first_ticket_type,
    make_event,
    make_quota,
    make_ticket_type,
    make_user,
    signed_in,
)

TYPE_FIELDS = set(TicketTypeRead.model_fields)


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


# -- reading -----------------------------------------------------------------------------------


async def test_anyone_reads_a_published_events_types_in_display_order(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=40)
    await make_ticket_type(db, event, name="Child", price_minor=500, position=2)
    await make_ticket_type(db, event, name="Adult", price_minor=1250, position=1)

    response = await client.get(types_path(event.id))

    assert names(response) == ["General admission", "Adult", "Child"]
    adult = response.json()["items"][1]
    assert set(adult) == TYPE_FIELDS
    assert adult["price"] == "12.50"
    assert (adult["min_per_booking"], adult["max_per_booking"]) == (1, 10)
    assert (adult["sale_starts_at"], adult["sale_ends_at"]) == (None, None)
    assert (adult["hidden"], adult["access_code"], adult["quota_ids"]) == (False, None, [])
    assert adult["seats_available"] == 40


# Who sees the hidden type "Press" (code PRESS-2027), and its code.
VISIBILITY: list[tuple[Viewer, str | None, bool, bool]] = [
    ("anonymous", None, False, False),
    ("anonymous", "PRESS-2027", True, False),
    ("attendee", None, False, False),
    ("attendee", "PRESS-2027", True, False),
    ("attendee", "press-2027", False, False),
    ("attendee", "PRESS-2028", False, False),
    ("other_organizer", None, False, False),
    ("owner", None, True, True),
    ("admin", None, True, True),
]


@pytest.mark.parametrize(("viewer", "code", "sees_hidden", "sees_codes"), VISIBILITY)
async def test_hidden_types_show_with_their_code_or_to_the_organizer_and_admins(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    viewer: Viewer,
    code: str | None,
    sees_hidden: bool,
    sees_codes: bool,
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    await make_ticket_type(db, event, name="Press", hidden=True, access_code="PRESS-2027")
    await make_ticket_type(db, event, name="Crew", hidden=True, access_code=None)
    await make_ticket_type(db, event, name="Adult", access_code="EARLY-BIRD")
    headers = await headers_of(db, settings, viewer, organizer)

    params = {} if code is None else {"access_code": code}
    response = await client.get(types_path(event.id), headers=headers, params=params)

    shown = names(response)
    assert ("Press" in shown) is sees_hidden
    # A hidden type without a code is its organizer's alone.
    assert ("Crew" in shown) is sees_codes
    assert "Adult" in shown
    codes = {item["name"]: item["access_code"] for item in response.json()["items"]}
    assert codes["Adult"] == ("EARLY-BIRD" if sees_codes else None)
    if sees_hidden:
        assert codes["Press"] == ("PRESS-2027" if sees_codes else None)


@pytest.mark.parametrize("viewer", ["anonymous", "attendee", "other_organizer"])
async def test_a_drafts_types_are_not_found_for_those_who_may_not_read_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, viewer: Viewer
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.DRAFT)
    headers = await headers_of(db, settings, viewer, organizer)

    response = await client.get(types_path(event.id), headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_a_drafts_organizer_reads_its_types(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.DRAFT)

    response = await client.get(types_path(event.id), headers=headers)

    assert names(response) == ["General admission"]
    # Not on sale until it is published.
    assert response.json()["items"][0]["seats_available"] == 0


async def test_types_of_an_unknown_event_are_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(types_path(999_999))

    assert response.status_code == 404


async def test_a_types_seats_are_the_fewest_its_event_and_quotas_have_left(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=100)
    await set_event(db, event.id, seats_booked=60, seats_held=10)
    general = await first_ticket_type(db, event)
    student = await make_ticket_type(db, event, name="Student")
    vip = await make_ticket_type(db, event, name="VIP")
    await make_quota(db, event, 50, [student, vip], seats_taken=42)
    await make_quota(db, event, 5, [vip], seats_taken=2)

    items = (await client.get(types_path(event.id))).json()["items"]

    left = {item["id"]: item["seats_available"] for item in items}
    assert left == {general.id: 30, student.id: 8, vip.id: 3}


@pytest.mark.parametrize(
    ("starts_in", "ends_in", "on_sale"),
    [
        (timedelta(hours=1), None, False),
        (-timedelta(hours=1), None, True),
        (None, -timedelta(minutes=1), False),
        (None, timedelta(minutes=1), True),
        (-timedelta(days=1), timedelta(days=1), True),
    ],
)
async def test_a_type_has_no_seats_outside_its_sale_window(
    client: httpx.AsyncClient,
    db: AsyncSession,
    starts_in: timedelta | None,
    ends_in: timedelta | None,
    on_sale: bool,
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=7)
    now = utcnow()
    await make_ticket_type(
        db,
        event,
        name="Windowed",
        sale_starts_at=None if starts_in is None else now + starts_in,
        sale_ends_at=None if ends_in is None else now + ends_in,
    )

    items = (await client.get(types_path(event.id))).json()["items"]

    assert items[1]["seats_available"] == (7 if on_sale else 0)
    assert items[0]["seats_available"] == 7


@pytest.mark.parametrize("change", ["cancelled", "started", "full"])
async def test_types_have_no_seats_when_the_event_has_none_to_sell(
    client: httpx.AsyncClient, db: AsyncSession, change: str
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=3)
    changes: dict[str, dict[str, object]] = {
        "cancelled": {"status": EventStatus.CANCELLED},
        "started": {"starts_at": utcnow() - timedelta(minutes=1)},
        "full": {"seats_booked": 3},
    }
    values = changes[change]
    await set_event(db, event.id, **values)

    items = (await client.get(types_path(event.id))).json()["items"]

    assert [item["seats_available"] for item in items] == [0]


# -- prices ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "price", "shown"),
    [
        ("EUR", "12.5", "12.50"),
        ("EUR", "0", "0.00"),
        ("JPY", "1250", "1250"),
        ("JPY", "1250.00", "1250"),
        ("BHD", "1.25", "1.250"),
        ("BHD", "0.005", "0.005"),
        ("EUR", "1000000", "1000000.00"),
    ],
)
async def test_a_price_is_kept_exactly_in_the_events_currency(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    currency: str,
    price: str,
    shown: str,
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, currency=currency)

    response = await client.post(types_path(event.id), headers=headers, json=new_type(price=price))

    assert response.status_code == 201, response.text
    assert response.json()["price"] == shown
    read_back = (await client.get(types_path(event.id))).json()["items"][1]
    assert read_back["price"] == shown


@pytest.mark.parametrize(
    ("currency", "price"),
    [
        ("EUR", "12.345"),
        ("JPY", "12.5"),
        ("BHD", "1.2345"),
        ("EUR", "-1.00"),
        ("EUR", "-0.01"),
        ("EUR", "1000000.01"),
        ("EUR", "abc"),
        ("EUR", ""),
        ("EUR", "NaN"),
        ("EUR", "Infinity"),
        ("EUR", "1e-3"),
        ("JPY", "1e3"),
        ("EUR", ".5"),
        ("EUR", "1."),
        ("EUR", " 1.00"),
        ("EUR", "+1.00"),
        ("EUR", "12345678"),
        ("EUR", 12.5),
        ("EUR", 12),
    ],
)
async def test_a_price_that_is_not_an_amount_of_the_events_currency_is_refused(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    currency: str,
    price: object,
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, currency=currency)

    response = await client.post(types_path(event.id), headers=headers, json=new_type(price=price))

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["loc"] == ["body", "price"]
    assert await count_types(db, event.id) == 1


async def count_types(db: AsyncSession, event_id: int) -> int:
    total = await db.scalar(
        select(func.count(TicketType.id)).where(TicketType.event_id == event_id)
    )
    await db.commit()
    return int(total or 0)


# -- creating ----------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["owner", "admin"])
async def test_the_organizer_and_admins_add_a_type_after_the_last(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, viewer: Viewer
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    await make_ticket_type(db, event, name="Late", position=7)
    headers = await headers_of(db, settings, viewer, organizer)
    version = await catalogue_version(db, event.id)
    body = new_type(
        description="18 and over",
        min_per_booking=2,
        max_per_booking=4,
        hidden=True,
        access_code="FRIENDS_1",
        sale_starts_at="2030-01-01T10:00:00+01:00",
        sale_ends_at="2030-02-01T00:00:00Z",
    )

    response = await client.post(types_path(event.id), headers=headers, json=body)

    assert response.status_code == 201
    created = response.json()
    assert set(created) == TYPE_FIELDS
    assert created["event_id"] == event.id
    assert (created["name"], created["description"], created["price"]) == (
        "Adult",
        "18 and over",
        "12.50",
    )
    assert (created["min_per_booking"], created["max_per_booking"]) == (2, 4)
    assert (created["hidden"], created["access_code"]) == (True, "FRIENDS_1")
    assert created["sale_starts_at"].startswith("2030-01-01T09:00:00")
    assert created["position"] == 8
    ticket_type = await stored(db, TicketType, created["id"])
    assert ticket_type is not None
    assert ticket_type.price_minor == 1250
    assert await catalogue_version(db, event.id) != version


async def test_a_new_type_may_name_its_position(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    await make_ticket_type(db, event, name="Late", position=7)

    response = await client.post(
        types_path(event.id), headers=headers, json=new_type(name="Between", position=3)
    )

    assert response.json()["position"] == 3
    assert names(await client.get(types_path(event.id))) == ["General admission", "Between", "Late"]


@pytest.mark.parametrize(
    ("viewer", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("attendee", 403, "forbidden"),
        ("other_organizer", 403, "forbidden"),
    ],
)
async def test_only_the_organizer_and_admins_add_types(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    viewer: Viewer,
    status: int,
    code: str,
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    headers = await headers_of(db, settings, viewer, organizer)

    response = await client.post(types_path(event.id), headers=headers, json=new_type())

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert await count_types(db, event.id) == 1


async def test_another_organizers_draft_is_not_found_rather_than_forbidden(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.DRAFT)
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(types_path(event.id), headers=headers, json=new_type())

    assert response.status_code == 404


async def test_a_cancelled_events_types_cannot_change(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.CANCELLED)
    general = await first_ticket_type(db, event)

    added = await client.post(types_path(event.id), headers=headers, json=new_type())
    edited = await client.patch(
        types_path(event.id, general.id), headers=headers, json={"price": "5.00"}
    )
    deleted = await client.delete(types_path(event.id, general.id), headers=headers)

    for response in (added, edited, deleted):
        assert response.status_code == 409
        assert response.json()["code"] == "event_not_editable"
    assert await count_types(db, event.id) == 1


async def test_a_deleted_events_types_are_gone(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    await set_event(db, event.id, deleted_at=utcnow())

    assert (await client.get(types_path(event.id))).status_code == 404
    added = await client.post(types_path(event.id), headers=headers, json=new_type())
    assert added.status_code == 404


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"min_per_booking": 5, "max_per_booking": 4}, "max_per_booking"),
        ({"max_per_booking": 101}, "max_per_booking"),
        ({"min_per_booking": 0}, "min_per_booking"),
        (
            {"sale_starts_at": "2030-01-02T00:00:00Z", "sale_ends_at": "2030-01-01T00:00:00Z"},
            "sale_ends_at",
        ),
        (
            {"sale_starts_at": "2030-01-01T00:00:00Z", "sale_ends_at": "2030-01-01T00:00:00Z"},
            "sale_ends_at",
        ),
        ({"sale_starts_at": "2030-01-01T00:00:00"}, "sale_starts_at"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"access_code": "abc"}, "access_code"),
        ({"access_code": "with space"}, "access_code"),
        ({"position": -1}, "position"),
        ({"price_minor": 100}, "price_minor"),
        ({"quota_ids": [1]}, "quota_ids"),
    ],
)
async def test_a_type_that_cannot_be_is_refused(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    fields: dict[str, object],
    where: str,
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)

    response = await client.post(types_path(event.id), headers=headers, json=new_type(**fields))

    assert response.status_code == 422, response.text
    assert where in response.json()["errors"][0]["loc"]
    assert await count_types(db, event.id) == 1


async def test_an_event_sells_at_most_fifty_types(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    db.add_all(TicketType(event_id=event.id, name=f"T{n}", position=n) for n in range(49))
    await db.commit()

    refused = await client.post(types_path(event.id), headers=headers, json=new_type())

    assert refused.status_code == 422
    assert "at most 50" in refused.json()["detail"]
    assert await count_types(db, event.id) == 50


# -- editing -----------------------------------------------------------------------------------


async def test_an_edit_changes_only_the_fields_sent(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    adult = await make_ticket_type(
        db, event, name="Adult", price_minor=1250, description="18+", max_per_booking=6
    )
    version = await catalogue_version(db, event.id)

    response = await client.patch(
        types_path(event.id, adult.id),
        headers=headers,
        json={"price": "15", "hidden": True, "access_code": "LATE-1"},
    )

    assert response.status_code == 200
    edited = response.json()
    assert (edited["name"], edited["description"], edited["max_per_booking"]) == (
        "Adult",
        "18+",
        6,
    )
    assert (edited["price"], edited["hidden"], edited["access_code"]) == ("15.00", True, "LATE-1")
    ticket_type = await stored(db, TicketType, adult.id)
    assert ticket_type is not None
    assert ticket_type.price_minor == 1500
    assert await catalogue_version(db, event.id) != version


async def test_every_field_a_type_is_made_with_can_be_edited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, currency="BHD")
    general = await first_ticket_type(db, event)
    changes: dict[str, object] = {
        "name": "Standing",
        "description": "No seats, all view",
        "price": "2.125",
        "min_per_booking": 2,
        "max_per_booking": 8,
        "sale_starts_at": "2030-01-01T00:00:00Z",
        "sale_ends_at": "2030-02-01T00:00:00Z",
        "hidden": True,
        "access_code": "STAND-UP",
        "position": 4,
    }
    assert set(changes) == set(TicketTypeCreate.model_fields)

    response = await client.patch(types_path(event.id, general.id), headers=headers, json=changes)

    assert response.status_code == 200, response.text
    edited = response.json()
    for field, value in changes.items():
        if field.startswith("sale_"):
            assert edited[field].startswith(str(value)[:19]), field
        else:
            assert edited[field] == value, field


async def test_an_edit_that_changes_nothing_leaves_the_catalogue_version(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    general = await first_ticket_type(db, event)
    version = await catalogue_version(db, event.id)

    response = await client.patch(
        types_path(event.id, general.id), headers=headers, json={"price": "0.00"}
    )

    assert response.status_code == 200
    assert await catalogue_version(db, event.id) == version


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"min_per_booking": 7}, "max_per_booking"),
        ({"sale_ends_at": "2030-01-01T00:00:00Z"}, "sale_ends_at"),
        ({"price": "1.999"}, "price"),
        ({"name": None}, "body"),
        ({"price": None}, "body"),
    ],
)
async def test_an_edit_is_checked_with_the_fields_it_keeps(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    change: dict[str, object],
    where: str,
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    windowed = await make_ticket_type(
        db,
        event,
        max_per_booking=6,
        sale_starts_at=datetime(2030, 6, 1, tzinfo=UTC),
        price_minor=300,
    )

    response = await client.patch(types_path(event.id, windowed.id), headers=headers, json=change)

    assert response.status_code == 422, response.text
    assert where in response.json()["errors"][0]["loc"]
    kept = await stored(db, TicketType, windowed.id)
    assert kept is not None
    assert (kept.max_per_booking, kept.price_minor, kept.sale_ends_at) == (6, 300, None)


async def test_an_edit_may_clear_the_sale_window_and_the_code(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    windowed = await make_ticket_type(
        db, event, sale_ends_at=utcnow() + timedelta(days=1), access_code="CODE-1"
    )

    response = await client.patch(
        types_path(event.id, windowed.id),
        headers=headers,
        json={"sale_ends_at": None, "access_code": None},
    )

    assert response.status_code == 200
    assert (response.json()["sale_ends_at"], response.json()["access_code"]) == (None, None)


async def test_a_type_of_another_event_is_not_found(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    other = await make_event(db, organizer)
    foreign = await first_ticket_type(db, other)

    edited = await client.patch(
        types_path(event.id, foreign.id), headers=headers, json={"name": "Mine"}
    )
    deleted = await client.delete(types_path(event.id, foreign.id), headers=headers)

    assert (edited.status_code, deleted.status_code) == (404, 404)
    kept = await stored(db, TicketType, foreign.id)
    assert kept is not None
    assert kept.name == "General admission"


async def test_an_attendee_may_not_edit_a_type(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    general = await first_ticket_type(db, event)
    _, headers = await signed_in(db, settings, Role.ATTENDEE)

    response = await client.patch(
        types_path(event.id, general.id), headers=headers, json={"price": "0.01"}
    )

    assert response.status_code == 403


# -- deleting ----------------------------------------------------------------------------------


async def test_a_type_never_booked_is_deleted_and_leaves_its_quotas(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    general = await first_ticket_type(db, event)
    student = await make_ticket_type(db, event, name="Student")
    quota = await make_quota(db, event, 10, [general, student])
    version = await catalogue_version(db, event.id)

    response = await client.delete(types_path(event.id, student.id), headers=headers)

    assert response.status_code == 204
    assert await stored(db, TicketType, student.id) is None
    assert names(await client.get(types_path(event.id))) == ["General admission"]
    quotas = (await client.get(quotas_path(event.id), headers=headers)).json()["items"]
    assert [(q["id"], q["ticket_type_ids"]) for q in quotas] == [(quota.id, [general.id])]
    assert await catalogue_version(db, event.id) != version


async def test_the_last_type_of_an_event_is_not_deleted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    general = await first_ticket_type(db, event)

    response = await client.delete(types_path(event.id, general.id), headers=headers)

    assert response.status_code == 409
    assert response.json()["code"] == "last_ticket_type"
    assert await count_types(db, event.id) == 1


@pytest.mark.parametrize("status", ["confirmed", "waitlisted", "cancelled"])
async def test_a_type_that_was_ever_booked_is_not_deleted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, status: str
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    student = await make_ticket_type(db, event, name="Student")
    attendee = await make_user(db)
    await book(db, event, attendee, [(student, 2)], status=BookingStatus(status))

    response = await client.delete(types_path(event.id, student.id), headers=headers)

    assert response.status_code == 409
    assert response.json()["code"] == "ticket_type_in_use"
    assert "hide it" in response.json()["detail"]
    assert await count_types(db, event.id) == 2


async def test_deleting_a_type_keeps_its_quotas_counts(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    general = await first_ticket_type(db, event)
    unsold = await make_ticket_type(db, event)
    quota = await make_quota(db, event, 5, [general, unsold])
    await book(db, event, await make_user(db), [(general, 3)])

    await client.delete(types_path(event.id, unsold.id), headers=headers)

    kept = await stored(db, Quota, quota.id)
    assert kept is not None
    assert kept.seats_taken == 3
    members = await db.scalar(
        select(func.count())
        .select_from(quota_ticket_types)
        .where(quota_ticket_types.c.quota_id == quota.id)
    )
    assert members == 1
