"""An erasure racing its own person's booking and a cancellation that promotes them from a
waiting list, over two server processes (SPEC §13). Whatever the order, the person ends with no
active booking, every event's counts are exact and the line behind them is served."""

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.factories import PASSWORD, make_event, signed_in
from tests.payments.test_holds import book

pytestmark = pytest.mark.engines("postgresql", "mariadb")

ROUNDS = 6


async def test_erasure_racing_a_booking_and_a_promotion_keeps_counts_exact(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, servers: list[str]
) -> None:
    async with httpx.AsyncClient(timeout=120) as http:
        for round_ in range(ROUNDS):
            # Made afresh each round: checking the counts expires what the session loaded.
            organizer = await signed_in(db, settings, Role.ORGANIZER)
            full = await make_event(db, organizer.user, capacity=1)
            open_ = await make_event(db, organizer.user, capacity=5)
            holder = await signed_in(db, settings, Role.ATTENDEE)
            person = await signed_in(db, settings, Role.ATTENDEE)
            behind = await signed_in(db, settings, Role.ATTENDEE)
            held = await book(client, holder, full)
            await book(client, person, full, join_waitlist=True)
            waiting = await book(client, behind, full, join_waitlist=True)
            full_id, open_id, person_id = full.id, open_.id, person.id
            one, other = servers[round_ % 2], servers[(round_ + 1) % 2]

            erased, booked, cancelled = await asyncio.gather(
                http.request(
                    "DELETE",
                    f"{one}/api/v1/users/me",
                    headers=person.headers,
                    json={"password": PASSWORD},
                ),
                http.post(
                    f"{other}/api/v1/bookings",
                    headers=person.headers,
                    json={"event_id": open_id, "seats": 2},
                ),
                http.delete(f"{other}/api/v1/bookings/{held['id']}", headers=holder.headers),
            )

            assert erased.status_code == 204, erased.text
            assert booked.status_code in (201, 401, 403), booked.text
            assert cancelled.status_code == 200, cancelled.text
            active = await db.scalar(
                select(func.count()).where(Booking.user_id == person_id, Booking.active.is_(True))
            )
            assert active == 0
            assert (await assert_seats_exact(db, open_id)).seats_booked == 0
            line = await assert_seats_exact(db, full_id)
            assert (line.seats_booked, line.waitlist_count) == (1, 0)
            served = await db.scalar(select(Booking.status).where(Booking.id == waiting["id"]))
            await db.commit()
            assert served == "confirmed"
