"""The waiting list: strictly first come, first served, served whenever seats come back."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.notifications.models import Notification, NotificationKind
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.bookings.invariants import assert_seats_exact
from tests.factories import auth_headers, make_event, make_user, signed_in

BOOKINGS = "/api/v1/bookings"


class Crowd:
    """Attendees who book one event through the API."""

    def __init__(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        self.client, self.db, self.settings = client, db, settings

    async def book(self, event_id: int, seats: int, *, wait: bool = False) -> dict[str, object]:
        headers = (await signed_in(self.db, self.settings, Role.ATTENDEE)).headers
        response = await self.client.post(
            BOOKINGS,
            headers=headers,
            json={"event_id": event_id, "seats": seats, "join_waitlist": wait},
        )
        body: dict[str, object] = response.json()
        body["headers"] = headers
        return body

    async def cancel(self, booking: dict[str, object]) -> httpx.Response:
        headers = booking["headers"]
        assert isinstance(headers, dict)
        return await self.client.delete(f"{BOOKINGS}/{booking['id']}", headers=headers)

    async def status_of(self, booking: dict[str, object]) -> tuple[object, object]:
        headers = booking["headers"]
        assert isinstance(headers, dict)
        shown = (await self.client.get(f"{BOOKINGS}/{booking['id']}", headers=headers)).json()
        return shown["status"], shown["waitlist_position"]


async def organizer(db: AsyncSession) -> User:
    return await make_user(db, role=Role.ORGANIZER)


async def test_sold_out_event_puts_a_willing_attendee_on_the_waiting_list(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await organizer(db), capacity=2)
    crowd = Crowd(client, db, settings)
    await crowd.book(event.id, 2)

    first = await crowd.book(event.id, 1, wait=True)
    second = await crowd.book(event.id, 3, wait=True)

    assert (first["status"], first["waitlist_position"]) == ("waitlisted", 1)
    assert (second["status"], second["waitlist_position"]) == ("waitlisted", 2)
    shown = (await client.get(f"/api/v1/events/{event.id}")).json()
    assert shown["waitlist_count"] == 2
    await assert_seats_exact(db, event.id)


async def test_while_anyone_waits_a_booking_without_waitlist_is_sold_out(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await organizer(db), capacity=3)
    crowd = Crowd(client, db, settings)
    await crowd.book(event.id, 2)
    await crowd.book(event.id, 2, wait=True)  # does not fit in the 1 seat left

    late = await crowd.book(event.id, 1)
    late_but_willing = await crowd.book(event.id, 1, wait=True)

    assert late["code"] == "sold_out"
    assert "waiting" in str(late["detail"])
    assert late_but_willing["status"] == "waitlisted"
    assert late_but_willing["waitlist_position"] == 2
    assert (await assert_seats_exact(db, event.id)).seats_booked == 2


async def test_cancellation_promotes_the_oldest_waiting_booking(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await organizer(db), capacity=2)
    crowd = Crowd(client, db, settings)
    holder = await crowd.book(event.id, 2)
    first = await crowd.book(event.id, 2, wait=True)
    second = await crowd.book(event.id, 1, wait=True)

    await crowd.cancel(holder)

    assert await crowd.status_of(first) == ("confirmed", None)
    assert await crowd.status_of(second) == ("waitlisted", 1)
    event_now = await assert_seats_exact(db, event.id)
    assert (event_now.seats_booked, event_now.waitlist_count) == (2, 1)


async def test_nobody_jumps_ahead_of_an_older_booking_that_does_not_fit(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await organizer(db), capacity=4)
    crowd = Crowd(client, db, settings)
    small = await crowd.book(event.id, 1)
    await crowd.book(event.id, 3)
    big = await crowd.book(event.id, 3, wait=True)
    tiny = await crowd.book(event.id, 1, wait=True)

    await crowd.cancel(small)  # one seat back: the tiny booking would fit, the big one not

    assert await crowd.status_of(big) == ("waitlisted", 1)
    assert await crowd.status_of(tiny) == ("waitlisted", 2)
    assert (await assert_seats_exact(db, event.id)).seats_booked == 3


async def test_the_holder_of_a_stuck_head_is_told_of_its_cancel_before_the_next_is_promoted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The outbox tells the line's story in the order it happened: a message written later
    reads as a later change, so a promotion written before the cancel that allowed it reads as
    a promotion out of turn."""
    event = await make_event(db, await organizer(db), capacity=4)
    crowd = Crowd(client, db, settings)
    small = await crowd.book(event.id, 1)
    await crowd.book(event.id, 3)
    big = await crowd.book(event.id, 3, wait=True)
    tiny = await crowd.book(event.id, 1, wait=True)
    await crowd.cancel(small)  # one seat free, held back for the big booking at the head

    await crowd.cancel(big)

    assert await crowd.status_of(tiny) == ("confirmed", None)
    told = await db.execute(
        select(Notification.kind, Notification.booking_id)
        .where(Notification.event_id == event.id)
        .where(Notification.booking_id.in_([big["id"], tiny["id"]]))
        .where(Notification.kind != NotificationKind.REMINDER)
        .order_by(Notification.id)
    )
    assert told.all()[-2:] == [
        (NotificationKind.BOOKING_CANCELLED, big["id"]),
        (NotificationKind.WAITLIST_PROMOTED, tiny["id"]),
    ]


async def test_one_release_can_promote_several_in_order(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await organizer(db), capacity=5)
    crowd = Crowd(client, db, settings)
    holder = await crowd.book(event.id, 5)
    waiting = [await crowd.book(event.id, seats, wait=True) for seats in (2, 2, 2)]

    await crowd.cancel(holder)

    assert [await crowd.status_of(b) for b in waiting] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
    ]
    assert (await assert_seats_exact(db, event.id)).seats_booked == 4


async def test_cancelling_a_waiting_booking_moves_the_ones_behind_up(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await organizer(db), capacity=1)
    crowd = Crowd(client, db, settings)
    await crowd.book(event.id, 1)
    first = await crowd.book(event.id, 1, wait=True)
    second = await crowd.book(event.id, 1, wait=True)

    cancelled = await crowd.cancel(first)

    assert cancelled.json()["status"] == "cancelled"
    assert await crowd.status_of(second) == ("waitlisted", 1)
    assert (await assert_seats_exact(db, event.id)).waitlist_count == 1


async def test_capacity_increase_serves_the_waiting_list(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await organizer(db)
    event = await make_event(db, owner, capacity=2)
    crowd = Crowd(client, db, settings)
    await crowd.book(event.id, 2)
    waiting = await crowd.book(event.id, 3, wait=True)

    response = await client.patch(
        f"/api/v1/events/{event.id}",
        headers=await auth_headers(db, settings, owner),
        json={"capacity": 5},
    )

    assert response.status_code == 200
    assert response.json()["seats_booked"] == 5
    assert response.json()["waitlist_count"] == 0
    assert await crowd.status_of(waiting) == ("confirmed", None)
    await assert_seats_exact(db, event.id)


async def test_event_cancellation_cancels_every_booking(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await organizer(db)
    event = await make_event(db, owner, capacity=1)
    crowd = Crowd(client, db, settings)
    confirmed = await crowd.book(event.id, 1)
    waiting = await crowd.book(event.id, 1, wait=True)

    response = await client.post(
        f"/api/v1/events/{event.id}/cancel", headers=await auth_headers(db, settings, owner)
    )

    assert response.json()["status"] == "cancelled"
    assert (response.json()["seats_booked"], response.json()["waitlist_count"]) == (0, 0)
    assert await crowd.status_of(confirmed) == ("cancelled", None)
    assert await crowd.status_of(waiting) == ("cancelled", None)


async def test_deleted_event_cancels_bookings_and_keeps_their_history(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await organizer(db)
    event = await make_event(db, owner, capacity=3)
    crowd = Crowd(client, db, settings)
    booking = await crowd.book(event.id, 2)

    deleted = await client.delete(
        f"/api/v1/events/{event.id}", headers=await auth_headers(db, settings, owner)
    )

    assert deleted.status_code == 204
    headers = booking["headers"]
    assert isinstance(headers, dict)
    shown = (await client.get(f"{BOOKINGS}/{booking['id']}", headers=headers)).json()
    assert shown["status"] == "cancelled"
    assert shown["event"] == {
        "id": event.id,
        "title": event.title,
        "starts_at": shown["event"]["starts_at"],
        "location": event.location,
        "status": "cancelled",
    }
    assert (await client.get(f"/api/v1/events/{event.id}")).status_code == 404


async def test_deleting_an_event_whose_only_bookings_wait_cancels_them_and_empties_the_line(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await organizer(db)
    owner_headers = await auth_headers(db, settings, owner)
    event = await make_event(db, owner, capacity=2)
    event_id = event.id
    crowd = Crowd(client, db, settings)
    confirmed = await crowd.book(event.id, 1)
    waiting = await crowd.book(event.id, 3, wait=True)
    assert (await crowd.cancel(confirmed)).status_code == 200
    assert await crowd.status_of(waiting) == ("waitlisted", 1)
    before = await assert_seats_exact(db, event_id)
    assert (before.seats_booked, before.waitlist_count) == (0, 1)

    deleted = await client.delete(f"/api/v1/events/{event_id}", headers=owner_headers)

    assert deleted.status_code == 204
    assert await crowd.status_of(waiting) == ("cancelled", None)
    after = await assert_seats_exact(db, event_id)
    assert (after.status, after.seats_booked, after.waitlist_count) == ("cancelled", 0, 0)
    assert after.deleted_at is not None


async def test_a_small_late_booking_waits_behind_a_big_one_even_with_seats_free(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await organizer(db), capacity=5)
    crowd = Crowd(client, db, settings)
    await crowd.book(event.id, 2)
    big = await crowd.book(event.id, 4, wait=True)

    small = await crowd.book(event.id, 1, wait=True)

    assert (small["status"], small["waitlist_position"]) == ("waitlisted", 2)
    assert await crowd.status_of(big) == ("waitlisted", 1)
    assert (await assert_seats_exact(db, event.id)).seats_booked == 2
