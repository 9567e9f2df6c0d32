"""Idempotency-Key: a retried POST /bookings returns the first answer and books nothing more."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.app import create_app
from boxoffice.bookings import idempotency
from boxoffice.bookings.models import Booking, IdempotencyRecord
from boxoffice.settings import Settings
from boxoffice.users.errors import AccountDisabled
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.factories import auth_headers, make_event, make_user, signed_in

BOOKINGS = "/api/v1/bookings"


async def bookings_in(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Booking)) or 0)


async def test_repeat_with_the_same_key_returns_the_first_booking(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    headers = {**(await signed_in(db, settings, Role.ATTENDEE)).headers, "Idempotency-Key": "k-1"}

    first = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id, "seats": 2})
    repeat = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id, "seats": 2})

    assert first.status_code == repeat.status_code == 201
    assert repeat.json() == first.json()
    assert await bookings_in(db) == 1
    assert (await assert_seats_exact(db, event.id)).seats_booked == 2


async def test_same_key_with_a_different_body_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    headers = {**(await signed_in(db, settings, Role.ATTENDEE)).headers, "Idempotency-Key": "k-1"}
    await client.post(BOOKINGS, headers=headers, json={"event_id": event.id, "seats": 1})

    response = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id, "seats": 3})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert (await assert_seats_exact(db, event.id)).seats_booked == 1


async def test_keys_belong_to_their_user(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    body = {"event_id": event.id}

    for _ in range(2):
        headers = (await signed_in(db, settings, Role.ATTENDEE)).headers
        response = await client.post(
            BOOKINGS, headers={**headers, "Idempotency-Key": "same"}, json=body
        )
        assert response.status_code == 201

    assert await bookings_in(db) == 2


async def test_a_conflict_is_not_remembered_so_a_retry_can_succeed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, owner, capacity=1)
    await client.post(
        BOOKINGS,
        headers=(await signed_in(db, settings, Role.ATTENDEE)).headers,
        json={"event_id": event.id},
    )
    headers = {**(await signed_in(db, settings, Role.ATTENDEE)).headers, "Idempotency-Key": "retry"}
    sold_out = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id})
    await client.patch(
        f"/api/v1/events/{event.id}",
        headers=await auth_headers(db, settings, owner),
        json={"capacity": 2},
    )

    retry = await client.post(BOOKINGS, headers=headers, json={"event_id": event.id})

    assert sold_out.json()["code"] == "sold_out"
    assert retry.status_code == 201
    assert (await assert_seats_exact(db, event.id)).seats_booked == 2


async def test_a_not_found_answer_is_replayed_as_it_was(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    headers = {**(await signed_in(db, settings, Role.ATTENDEE)).headers, "Idempotency-Key": "nf"}

    first = await client.post(BOOKINGS, headers=headers, json={"event_id": 424242})
    repeat = await client.post(BOOKINGS, headers=headers, json={"event_id": 424242})

    assert first.status_code == repeat.status_code == 404
    assert repeat.headers["content-type"] == "application/problem+json"
    assert repeat.json()["code"] == first.json()["code"] == "not_found"


async def test_parallel_repeats_book_once(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=50)
    headers = {**(await signed_in(db, settings, Role.ATTENDEE)).headers, "Idempotency-Key": "rush"}

    answers = await asyncio.gather(
        *(client.post(BOOKINGS, headers=headers, json={"event_id": event.id}) for _ in range(8))
    )

    created = [a for a in answers if a.status_code == 201]
    in_progress = [a for a in answers if a.status_code == 409]
    assert len(created) + len(in_progress) == len(answers)
    assert created, "at least the first request books"
    assert len({a.json()["id"] for a in created}) == 1
    for answer in in_progress:
        assert answer.json()["code"] == "request_in_progress"
        assert answer.headers["Retry-After"] == "1"
    assert await bookings_in(db) == 1
    assert (await assert_seats_exact(db, event.id)).seats_booked == 1


async def test_keyed_bookings_beyond_the_pool_size_do_not_starve_it(
    db: AsyncSession, settings: Settings
) -> None:
    """Each keyed booking needs a connection for its claim besides the request's own; with more
    requests in flight than connections, none may hold one while waiting for another."""
    small = create_app(settings.model_copy(update={"database_pool_size": 1}))  # 2 connections
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=50)
    crowd = [(await signed_in(db, settings, Role.ATTENDEE)).headers for _ in range(6)]
    try:
        transport = httpx.ASGITransport(app=small)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            answers = await asyncio.gather(
                *(
                    http.post(
                        BOOKINGS,
                        headers={**headers, "Idempotency-Key": f"key-{i}"},
                        json={"event_id": event.id},
                    )
                    for i, headers in enumerate(crowd)
                )
            )
    finally:
        await small.state.engine.dispose()

    assert [a.status_code for a in answers] == [201] * len(crowd)
    assert await bookings_in(db) == len(crowd)


async def test_a_refused_account_is_not_remembered_so_a_retry_after_an_unban_can_book(
    app: FastAPI, db: AsyncSession
) -> None:
    """A ban racing the booking refuses it inside the service (403); the ban may be lifted."""
    user = await make_user(db)

    async def refused() -> idempotency.Answer:
        raise AccountDisabled("this account has been disabled")

    async with app.state.sessionmaker() as session:
        with pytest.raises(AccountDisabled):
            await idempotency.run_once(
                app.state.sessionmaker,
                session,
                user_id=user.id,
                key="retry-me",
                request_fingerprint="the same request",
                action=refused,
            )

    assert await db.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
