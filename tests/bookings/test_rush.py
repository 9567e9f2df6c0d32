"""Rushes: many truly concurrent requests over real HTTP to real server processes.

Each test asserts exact invariants afterwards; none of them measures time (see `make bench`).
"""

import asyncio
import random
from collections import Counter
from collections.abc import Sequence

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.factories import auth_headers, make_attendees_with_headers, make_event, make_user

RUSH = 200
CAPACITY = 50


def http() -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=RUSH + 50, max_keepalive_connections=RUSH + 50)
    return httpx.AsyncClient(limits=limits, timeout=120)


async def post_all(
    urls: Sequence[str], requests: Sequence[tuple[dict[str, str], dict[str, object]]]
) -> list[httpx.Response]:
    """Sends every request at once, spread over the server processes."""
    async with http() as client:
        return await asyncio.gather(
            *(
                client.post(f"{urls[i % len(urls)]}/api/v1/bookings", headers=headers, json=body)
                for i, (headers, body) in enumerate(requests)
            )
        )


def outcomes(answers: Sequence[httpx.Response]) -> Counter[str]:
    assert all(a.status_code < 500 for a in answers), [
        a.text for a in answers if a.status_code >= 500
    ]
    return Counter(
        a.json()["status"] if a.status_code == 201 else a.json()["code"] for a in answers
    )


async def confirmed_seats(db: AsyncSession, event_id: int) -> int:
    total = await db.scalar(
        select(func.coalesce(func.sum(Booking.seats), 0)).where(
            Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED
        )
    )
    return int(total or 0)


@pytest.mark.parametrize("processes", [1, 2])
async def test_rush_sells_exactly_the_capacity(
    servers: list[str], db: AsyncSession, settings: Settings, processes: int
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    crowd = await make_attendees_with_headers(db, settings, RUSH)

    answers = await post_all(servers[:processes], [(h, {"event_id": event.id}) for h in crowd])

    assert outcomes(answers) == {"confirmed": CAPACITY, "sold_out": RUSH - CAPACITY}
    assert (await assert_seats_exact(db, event.id)).seats_booked == CAPACITY


async def test_rush_with_waiting_list_and_several_seats_stays_exact(
    servers: list[str], db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    crowd = await make_attendees_with_headers(db, settings, RUSH)
    chooser = random.Random(7)
    bodies: list[dict[str, object]] = [
        {"event_id": event.id, "seats": chooser.randint(1, 4), "join_waitlist": True} for _ in crowd
    ]

    answers = await post_all(servers, list(zip(crowd, bodies, strict=True)))

    counted = outcomes(answers)
    assert set(counted) <= {"confirmed", "waitlisted"}
    assert counted["confirmed"] + counted["waitlisted"] == RUSH
    final = await assert_seats_exact(db, event.id)
    assert final.seats_booked == await confirmed_seats(db, event.id)
    # The line is served strictly in order. Every booking takes the event's row lock before its
    # row gets an id, so ids follow the order the lock was granted in: once someone had to
    # wait, every later booking waited too, each one place further back.
    assert final.seats_booked > CAPACITY - 4
    confirmed = sorted(a.json()["id"] for a in answers if a.json()["status"] == "confirmed")
    waiting = sorted(
        (a.json()["id"], a.json()["waitlist_position"])
        for a in answers
        if a.json()["status"] == "waitlisted"
    )
    assert waiting, "the rush never filled the event"
    assert confirmed[-1] < waiting[0][0], "a booking got a seat after someone had to wait"
    assert [position for _, position in waiting] == list(range(1, len(waiting) + 1))
    assert sum(a.json()["seats"] for a in answers if a.json()["status"] == "confirmed") == (
        final.seats_booked
    )
    # Nobody left the line, so the positions answered are still the positions now.
    line = await db.scalars(
        select(Booking.id)
        .where(Booking.event_id == event.id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.id)
    )
    assert list(line.all()) == [booking_id for booking_id, _ in waiting]


async def test_interleaved_cancels_and_books_keep_the_invariants(
    servers: list[str], db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    early = await make_attendees_with_headers(db, settings, 80)
    first_wave = await post_all(
        servers,
        [
            (h, {"event_id": event.id, "seats": 1 + i % 2, "join_waitlist": True})
            for i, h in enumerate(early)
        ],
    )
    holders = list(zip(early, first_wave, strict=True))
    late = await make_attendees_with_headers(db, settings, 80)

    async with http() as client:
        cancels = [
            client.delete(
                f"{servers[i % 2]}/api/v1/bookings/{answer.json()['id']}", headers=headers
            )
            for i, (headers, answer) in enumerate(holders[::2])
        ]
        books = [
            client.post(
                f"{servers[i % 2]}/api/v1/bookings",
                headers=headers,
                json={"event_id": event.id, "seats": 1 + i % 3, "join_waitlist": True},
            )
            for i, headers in enumerate(late)
        ]
        mixed = [*cancels, *books]
        random.Random(11).shuffle(mixed)
        answers = await asyncio.gather(*mixed)

    assert all(a.status_code in (200, 201) for a in answers), Counter(
        a.status_code for a in answers
    )
    final = await assert_seats_exact(db, event.id)
    assert final.seats_booked == await confirmed_seats(db, event.id)


async def test_same_attendee_submitting_in_parallel_gets_one_booking(
    servers: list[str], db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    headers = await auth_headers(db, settings, await make_user(db))

    answers = await post_all(servers, [(headers, {"event_id": event.id})] * 20)

    assert outcomes(answers) == {"confirmed": 1, "already_booked": 19}
    assert (await assert_seats_exact(db, event.id)).seats_booked == 1


async def test_same_idempotency_key_in_parallel_books_once(
    servers: list[str], db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    headers = {**await auth_headers(db, settings, await make_user(db)), "Idempotency-Key": "once"}

    answers = await post_all(servers, [(headers, {"event_id": event.id})] * 20)

    counted = outcomes(answers)
    assert set(counted) <= {"confirmed", "request_in_progress"}
    assert counted["confirmed"] >= 1
    assert len({a.json()["id"] for a in answers if a.status_code == 201}) == 1
    assert (await assert_seats_exact(db, event.id)).seats_booked == 1
