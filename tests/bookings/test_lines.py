"""Booking with ticket types (SPEC §9): lines, prices, hidden types, sale windows, limits per
booking and quotas, through the API; counts checked against the database after each."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import service
from boxoffice.catalogue import service as catalogue
from boxoffice.catalogue.models import Quota, TicketType, quota_ticket_types
from boxoffice.db import utcnow
from boxoffice.events.models import Event, new_catalogue_version
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.factories import auth_headers, make_event, make_user

BOOKINGS = "/api/v1/bookings"


async def add_type(db: AsyncSession, event: Event, name: str, **terms: object) -> int:
    """A ticket type written straight to the database, as the catalogue API would: the event's
    catalogue version moves with it."""
    kind = TicketType(event_id=event.id, name=name, description="", position=10, **terms)
    db.add(kind)
    await _changed(db, event)
    return kind.id


async def add_quota(db: AsyncSession, event: Event, size: int, type_ids: list[int]) -> int:
    quota = Quota(event_id=event.id, name=f"quota of {size}", size=size, seats_taken=0)
    db.add(quota)
    await db.flush()
    await db.execute(
        insert(quota_ticket_types),
        [{"quota_id": quota.id, "ticket_type_id": type_id} for type_id in type_ids],
    )
    await _changed(db, event)
    return quota.id


async def _changed(db: AsyncSession, event: Event) -> None:
    await db.flush()
    await db.execute(
        update(Event).where(Event.id == event.id).values(catalogue_version=new_catalogue_version())
    )
    await db.commit()


async def first_type(db: AsyncSession, event: Event) -> int:
    return (await db.scalars(select(TicketType.id).where(TicketType.event_id == event.id))).one()


async def quota_taken(db: AsyncSession, quota_id: int) -> int:
    taken = await db.scalar(
        select(Quota.seats_taken)
        .where(Quota.id == quota_id)
        .execution_options(populate_existing=True)
    )
    await db.commit()
    return int(taken or 0)


def order(event_id: int, *lines: tuple[int, int], **more: object) -> dict[str, object]:
    """A booking's body: (ticket type, quantity) lines, and anything else it carries."""
    wanted = [{"ticket_type_id": kind, "quantity": quantity} for kind, quantity in lines]
    return {"event_id": event_id, "lines": wanted, **more}


async def book(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, body: dict[str, object]
) -> httpx.Response:
    headers = await auth_headers(db, settings, await make_user(db))
    return await client.post(BOOKINGS, headers=headers, json=body)


async def test_a_booking_of_several_lines_is_priced_and_ticketed_per_seat(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    adult = await add_type(db, event, "Adult", price_minor=1250)
    child = await add_type(db, event, "Child", price_minor=500)

    response = await book(client, db, settings, order(event.id, (adult, 2), (child, 1)))

    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["lines"] == [
        {"ticket_type_id": adult, "name": "Adult", "quantity": 2, "unit_price": "12.50"},
        {"ticket_type_id": child, "name": "Child", "quantity": 1, "unit_price": "5.00"},
    ]
    assert (booking["seats"], booking["total_price"], booking["currency"]) == (3, "30.00", "EUR")
    assert [t["ticket_type_id"] for t in booking["tickets"]] == [adult, adult, child]
    read_back = await client.get(f"{BOOKINGS}/{booking['id']}", headers=response.request.headers)
    assert read_back.json() == booking
    await assert_seats_exact(db, event.id)


async def test_seats_book_the_first_type_open_to_the_caller(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    general = await first_type(db, event)
    await db.execute(update(TicketType).where(TicketType.id == general).values(position=20))
    await db.commit()
    # Both at position 10: the hidden one, made first, comes first for whoever has its code.
    vip = await add_type(db, event, "VIP", price_minor=9900, hidden=True, access_code="SPEAKER")
    cheap = await add_type(db, event, "Early bird", price_minor=100)

    public = await book(client, db, settings, {"event_id": event.id, "seats": 1})
    with_code = await book(
        client, db, settings, {"event_id": event.id, "seats": 1, "access_code": "SPEAKER"}
    )

    assert public.json()["lines"][0]["ticket_type_id"] == cheap
    assert with_code.json()["lines"][0]["ticket_type_id"] == vip


async def test_seats_of_an_event_whose_every_type_is_hidden_are_404(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    general = await first_type(db, event)
    await db.execute(
        update(TicketType).where(TicketType.id == general).values(hidden=True, access_code="STAFF")
    )
    await _changed(db, event)

    response = await book(client, db, settings, {"event_id": event.id, "seats": 1})

    assert response.status_code == 404
    assert response.json()["detail"] == (
        "this event sells no ticket type you can book; ask for `lines` with a type"
    )


@pytest.mark.parametrize("code", [None, "WRONG"])
async def test_a_hidden_type_without_its_code_does_not_exist(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, code: str | None
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    vip = await add_type(db, event, "VIP", hidden=True, access_code="SPEAKER")

    response = await book(
        client, db, settings, order(event.id, (vip, 1)) | ({"access_code": code} if code else {})
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"] == f"this event has no ticket type {vip}"
    await assert_seats_exact(db, event.id)


async def test_the_right_access_code_opens_a_hidden_type(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    vip = await add_type(db, event, "VIP", hidden=True, access_code="SPEAKER")

    response = await book(client, db, settings, order(event.id, (vip, 1), access_code="SPEAKER"))

    assert response.status_code == 201
    assert response.json()["lines"][0]["name"] == "VIP"


@pytest.mark.parametrize(
    "window",
    [
        {"sale_starts_at": timedelta(hours=1)},
        {"sale_ends_at": timedelta(hours=-1)},
    ],
    ids=["not yet", "ended"],
)
async def test_outside_its_sale_window_a_type_is_sale_not_open(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, window: dict[str, timedelta]
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    kind = await add_type(db, event, "Late", **{k: utcnow() + v for k, v in window.items()})

    response = await book(client, db, settings, order(event.id, (kind, 1)))

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["ticket_type_id"]) == ("sale_not_open", kind)
    assert response.json()["detail"].startswith(
        "Late goes on sale at " if "sale_starts_at" in window else "the sale of Late has ended"
    )
    await assert_seats_exact(db, event.id)


@pytest.mark.parametrize("quantity", [1, 5])
async def test_a_quantity_outside_the_types_limits_is_422(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, quantity: int
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    pair = await add_type(db, event, "Pair", min_per_booking=2, max_per_booking=4)

    response = await book(client, db, settings, order(event.id, (pair, quantity)))

    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["ticket_type_id"]) == ("quantity_out_of_range", pair)
    assert problem["detail"] == f"Pair: between 2 and 4 per booking, {quantity} asked"
    assert problem["errors"] == [{"loc": ["body", "lines"], "msg": "quantity out of range"}]
    await assert_seats_exact(db, event.id)


@pytest.mark.parametrize("quantity", [2, 4])
async def test_a_quantity_at_the_types_limits_is_booked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, quantity: int
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    pair = await add_type(db, event, "Pair", min_per_booking=2, max_per_booking=4)

    response = await book(client, db, settings, order(event.id, (pair, quantity)))

    assert response.status_code == 201
    assert response.json()["seats"] == quantity


async def test_a_type_of_another_event_is_404(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    other = await first_type(db, await make_event(db, organizer))

    response = await book(client, db, settings, order(event.id, (other, 1)))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"seats": 1, "lines": [{"ticket_type_id": 1, "quantity": 1}]},
        {"lines": []},
        {"lines": [{"ticket_type_id": 1, "quantity": 1}, {"ticket_type_id": 1, "quantity": 2}]},
        {"lines": [{"ticket_type_id": 1, "quantity": 0}]},
    ],
    ids=["seats and lines", "no lines", "a type twice", "quantity 0"],
)
async def test_malformed_lines_are_422_validation_errors(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, body: dict[str, object]
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))

    response = await book(client, db, settings, {"event_id": event.id, **body})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_a_full_quota_refuses_its_types_and_names_the_one_that_ran_out(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    student = await add_type(db, event, "Student")
    adult = await add_type(db, event, "Adult")
    students = await add_quota(db, event, 2, [student])

    first = await book(client, db, settings, order(event.id, (student, 2)))
    refused = await book(client, db, settings, order(event.id, (adult, 1), (student, 1)))
    adults = await book(client, db, settings, order(event.id, (adult, 3)))

    assert first.status_code == 201
    assert refused.status_code == 409
    assert refused.json() | {"detail": ""} == refused.json() | {
        "detail": "",
        "code": "sold_out",
        "ticket_type_id": student,
        "seats_available": 0,
    }
    assert adults.status_code == 201
    assert await quota_taken(db, students) == 2
    await assert_seats_exact(db, event.id)


async def test_a_booking_counts_against_every_quota_of_its_types_or_none(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    friday = await add_type(db, event, "Friday")
    weekend = await add_type(db, event, "Weekend")
    friday_room = await add_quota(db, event, 3, [friday, weekend])
    weekend_room = await add_quota(db, event, 5, [weekend])

    two_weekends = await book(client, db, settings, order(event.id, (weekend, 2)))
    two_fridays = await book(client, db, settings, order(event.id, (friday, 2)))

    assert two_weekends.status_code == 201
    assert two_fridays.status_code == 409
    assert (await quota_taken(db, friday_room), await quota_taken(db, weekend_room)) == (2, 2)
    await assert_seats_exact(db, event.id)


async def test_cancelling_gives_the_quota_back_and_serves_the_line_when_all_lines_fit(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    student = await add_type(db, event, "Student")
    students = await add_quota(db, event, 1, [student])
    one = order(event.id, (student, 1))
    holder = await auth_headers(db, settings, await make_user(db))
    first = await client.post(BOOKINGS, headers=holder, json=one)
    waiting = await book(client, db, settings, one | {"join_waitlist": True})
    assert (first.status_code, waiting.json()["status"]) == (201, "waitlisted")

    await client.delete(f"{BOOKINGS}/{first.json()['id']}", headers=holder)

    promoted = await client.get(
        f"{BOOKINGS}/{waiting.json()['id']}", headers=waiting.request.headers
    )
    assert promoted.json()["status"] == "confirmed"
    assert await quota_taken(db, students) == 1
    await assert_seats_exact(db, event.id)


async def test_a_booking_priced_before_a_price_change_pays_the_new_price(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The booking path remembers the event's terms; a change elsewhere moves the catalogue
    version, and the next booking is priced from what is stored."""
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    kind = await add_type(db, event, "Adult", price_minor=1000)
    line = order(event.id, (kind, 1))
    assert (await book(client, db, settings, line)).json()["total_price"] == "10.00"

    await db.execute(update(TicketType).where(TicketType.id == kind).values(price_minor=1500))
    await _changed(db, event)

    assert (await book(client, db, settings, line)).json()["total_price"] == "15.00"


@pytest.mark.parametrize(
    "change",
    ["a new type", "its sale opened", "a higher maximum"],
)
async def test_a_refusal_read_from_terms_that_changed_meanwhile_is_priced_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, change: str
) -> None:
    """The terms this process remembers may be older than the event's: a line they refuse (a
    type they do not know, a sale they think closed, a quantity above their maximum) is checked
    against what is stored before it is refused."""
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    late = await add_type(
        db, event, "Late", sale_starts_at=utcnow() + timedelta(hours=1), max_per_booking=2
    )
    # This process now remembers the event's terms as they are.
    assert (await book(client, db, settings, {"event_id": event.id})).status_code == 201
    quantity = 1
    if change == "a new type":
        late = await add_type(db, event, "Later still")
    elif change == "its sale opened":
        await db.execute(
            update(TicketType).where(TicketType.id == late).values(sale_starts_at=None)
        )
        await _changed(db, event)
    else:
        await db.execute(
            update(TicketType)
            .where(TicketType.id == late)
            .values(sale_starts_at=None, max_per_booking=4)
        )
        await _changed(db, event)
        quantity = 3

    response = await book(client, db, settings, order(event.id, (late, quantity)))

    assert response.status_code == 201, response.text
    assert response.json()["lines"][0]["ticket_type_id"] == late
    await assert_seats_exact(db, event.id)


@pytest.mark.engines("postgresql", "mariadb")
async def test_a_quota_deleted_while_a_refusal_is_explained_prices_the_booking_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A booking the ledger refused reads the event, then its quotas, to say why; a quota
    deleted in between (each statement reads what is committed when it starts, and a refused
    booking holds no lock of the event) belongs to terms that changed: the booking is priced
    again, never a server error."""
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    adult = await add_type(db, event, "Adult")
    adults = await add_quota(db, event, 1, [adult])
    one = order(event.id, (adult, 1))
    assert (await book(client, db, settings, one)).json()["status"] == "confirmed"
    waiting = await book(client, db, settings, one | {"join_waitlist": True})
    assert waiting.json()["status"] == "waitlisted"
    looked = service._look

    async def look_then_delete_the_quota(*args: Any) -> Any:
        found = await looked(*args)
        if not deleted:
            deleted.append(adults)
            async with app.state.sessionmaker() as other, other.begin():
                await catalogue.remove_quota(other, event.id, adults)
        return found

    deleted: list[int] = []
    monkeypatch.setattr(service, "_look", look_then_delete_the_quota)

    response = await book(client, db, settings, one)

    assert deleted == [adults]
    # Deleting the quota promoted the booking in line; then this one fits.
    assert (response.status_code, response.json()["status"]) == (201, "confirmed"), response.text
    await assert_seats_exact(db, event.id)
