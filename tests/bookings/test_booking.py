import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking
from boxoffice.bookings.tickets import ALPHABET
from boxoffice.events.models import EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.bookings.invariants import assert_seats_exact
from tests.factories import auth_headers, make_event, make_user, signed_in

BOOKINGS = "/api/v1/bookings"


async def attendee_headers(db: AsyncSession, settings: Settings) -> dict[str, str]:
    return (await signed_in(db, settings, Role.ATTENDEE)).headers


@pytest.mark.parametrize("join_waitlist", [False, True])
async def test_the_answer_to_a_booking_is_what_reading_it_back_gives(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, join_waitlist: bool
) -> None:
    """A confirmed booking is answered from memory, a waitlisted one from the database."""
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=1)
    if join_waitlist:
        await client.post(
            BOOKINGS,
            headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
            json={"event_id": event.id},
        )
    headers = (await signed_in(db, settings, Role.ATTENDEE)).headers

    booked = await client.post(
        BOOKINGS, headers=headers, json={"event_id": event.id, "join_waitlist": join_waitlist}
    )
    read = await client.get(f"{BOOKINGS}/{booked.json()['id']}", headers=headers)

    assert booked.status_code == 201
    assert booked.json()["status"] == ("waitlisted" if join_waitlist else "confirmed")
    assert booked.json() == read.json()


async def test_booking_confirms_seats_and_takes_them_from_the_event(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    headers = (await signed_in(db, settings, Role.ATTENDEE)).headers

    response = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id, "seats": 3})

    assert response.status_code == 201
    booking = response.json()
    assert booking["status"] == "confirmed"
    assert booking["seats"] == 3
    assert booking["waitlist_position"] is None
    assert booking["event"]["id"] == event.id
    assert booking["event"]["title"] == event.title
    assert (await assert_seats_exact(db, event.id)).seats_booked == 3
    shown = (await client.get(f"/api/v1/events/{event.id}")).json()
    assert (shown["seats_booked"], shown["seats_available"]) == (3, 7)


async def test_one_seat_is_the_default(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))

    response = await client.post(
        BOOKINGS,
        headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
        json={"event_id": event.id},
    )

    assert response.json()["seats"] == 1


async def test_ticket_code_is_typable_and_unique(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=20)
    codes = []
    for _ in range(10):
        response = await client.post(
            BOOKINGS,
            headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
            json={"event_id": event.id},
        )
        codes.append(response.json()["ticket_code"])

    assert len(set(codes)) == 10
    for code in codes:
        assert 8 <= len(code) <= 16
        assert set(code) <= set(ALPHABET)
        assert not set(code) & set("0O1IL")


@pytest.mark.parametrize("seats", [0, 11, -1])
async def test_seats_outside_one_to_ten_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, seats: int
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))

    response = await client.post(
        BOOKINGS,
        headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
        json={"event_id": event.id, "seats": seats},
    )

    assert response.status_code == 422
    assert (await assert_seats_exact(db, event.id)).seats_booked == 0


@pytest.mark.parametrize("field", [{"status": "confirmed"}, {"user_id": 1}, {"ticket_code": "X"}])
async def test_unknown_fields_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, field: dict[str, object]
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))

    response = await client.post(
        BOOKINGS,
        headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
        json={"event_id": event.id, **field},
    )

    assert response.status_code == 422
    assert (await db.scalars(select(Booking))).all() == []


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.ADMIN])
async def test_organizers_and_admins_do_not_book(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: Role
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    headers = await auth_headers(db, settings, await make_user(db, role=role))

    response = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id})

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_anonymous_cannot_book(client: httpx.AsyncClient, db: AsyncSession) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))

    response = await client.post(BOOKINGS, json={"event_id": event.id})

    assert response.status_code == 401


async def test_unknown_and_draft_events_are_not_found(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    draft = await make_event(db, await make_user(db, role=Role.ORGANIZER), status=EventStatus.DRAFT)
    headers = (await signed_in(db, settings, Role.ATTENDEE)).headers

    for event_id in (draft.id, 987654):
        response = await client.post(BOOKINGS, headers=headers, json={"event_id": event_id})
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


async def test_cancelled_event_is_not_bookable(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(
        db, await make_user(db, role=Role.ORGANIZER), status=EventStatus.CANCELLED
    )

    response = await client.post(
        BOOKINGS,
        headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
        json={"event_id": event.id},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "event_not_bookable"


async def test_started_event_is_not_bookable(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(
        db, await make_user(db, role=Role.ORGANIZER), starts_in=-timedelta(minutes=5)
    )

    response = await client.post(
        BOOKINGS,
        headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
        json={"event_id": event.id},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "event_not_bookable"


async def test_more_seats_than_left_is_sold_out_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=4)
    await client.post(
        BOOKINGS,
        headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
        json={"event_id": event.id, "seats": 3},
    )

    response = await client.post(
        BOOKINGS,
        headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
        json={"event_id": event.id, "seats": 2},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "sold_out"
    assert "1 seats left" in response.json()["detail"]
    assert (await assert_seats_exact(db, event.id)).seats_booked == 3
    assert len((await db.scalars(select(Booking))).all()) == 1


async def test_a_refusal_does_not_wait_for_locks_a_sale_needs(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """Once an event answers "sold out", the next attempts are answered from a read. Another
    transaction holds the attendee's row, as a ban does from its first statement: the refusal
    comes without waiting for it (a sale would wait, to be either swept by the ban or
    refused)."""
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=1)
    for expected in (201, 409):  # a sale, then the refusal that shows a rush is on
        sale_or_refusal = await client.post(
            BOOKINGS, headers=await attendee_headers(db, settings), json={"event_id": event.id}
        )
        assert sale_or_refusal.status_code == expected
    late = await signed_in(db, settings, Role.ATTENDEE)

    async with app.state.sessionmaker() as banning:
        await banning.execute(
            update(User).where(User.id == late.user.id).values(full_name=User.full_name)
        )
        try:
            # Without the read first this waits until the ban ends: here, never.
            response = await asyncio.wait_for(
                client.post(BOOKINGS, headers=late.headers, json={"event_id": event.id}),
                timeout=20,
            )
        finally:
            await banning.rollback()

    assert response.status_code == 409
    assert response.json()["code"] == "sold_out"
    assert (await assert_seats_exact(db, event.id)).seats_booked == 1


async def test_while_a_rush_is_on_every_answer_is_what_it_was(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """After the first "sold out", attempts are first checked by a read: every kind of answer
    stays what the locked way gives, and seats stay exact."""
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer.user, capacity=2)
    first = await attendee_headers(db, settings)

    async def attempt(headers: dict[str, str], **asked: object) -> httpx.Response:
        return await client.post(BOOKINGS, headers=headers, json={"event_id": event.id, **asked})

    assert (await attempt(first)).status_code == 201
    for _ in range(2):  # the locked way, then the read
        too_many = await attempt(await attendee_headers(db, settings), seats=2)
        assert too_many.status_code == 409
        assert too_many.json()["code"] == "sold_out"
        assert too_many.json()["seats_available"] == 1
        assert "only 1 seats left, 2 asked" in too_many.json()["detail"]
    assert (await attempt(first)).json()["code"] == "already_booked"
    assert (await attempt(await attendee_headers(db, settings))).json()["status"] == "confirmed"
    waiting = await attempt(await attendee_headers(db, settings), join_waitlist=True)
    assert (waiting.status_code, waiting.json()["status"]) == (201, "waitlisted")
    behind = await attempt(await attendee_headers(db, settings))
    assert behind.json()["code"] == "sold_out"
    assert "1 bookings are waiting" in behind.json()["detail"]
    cancelled = await client.post(f"/api/v1/events/{event.id}/cancel", headers=organizer.headers)
    assert cancelled.status_code == 200
    assert (await attempt(await attendee_headers(db, settings))).json()["code"] == (
        "event_not_bookable"
    )
    assert (await assert_seats_exact(db, event.id)).seats_booked == 0


async def test_second_booking_by_same_attendee_is_already_booked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    headers = (await signed_in(db, settings, Role.ATTENDEE)).headers
    await client.post(BOOKINGS, headers=headers, json={"event_id": event.id})

    response = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id, "seats": 2})

    assert response.status_code == 409
    assert response.json()["code"] == "already_booked"
    assert (await assert_seats_exact(db, event.id)).seats_booked == 1


async def test_cancelled_booking_does_not_block_booking_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    headers = (await signed_in(db, settings, Role.ATTENDEE)).headers
    first = (await client.post(BOOKINGS, headers=headers, json={"event_id": event.id})).json()
    await client.delete(f"{BOOKINGS}/{first['id']}", headers=headers)

    again = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id})

    assert again.status_code == 201
    assert (await assert_seats_exact(db, event.id)).seats_booked == 1
