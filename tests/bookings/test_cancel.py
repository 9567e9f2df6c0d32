from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.audit import AuditEntry
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.factories import auth_headers, make_event, make_user, signed_in

BOOKINGS = "/api/v1/bookings"


async def booked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, seats: int = 2
) -> tuple[int, int, dict[str, str]]:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=5)
    headers = (await signed_in(db, settings, Role.ATTENDEE)).headers
    booking = await client.post(
        BOOKINGS, headers=headers, json={"event_id": event.id, "seats": seats}
    )
    return event.id, booking.json()["id"], headers


async def test_holder_cancels_and_the_seats_return(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event_id, booking_id, headers = await booked(client, db, settings)

    response = await client.delete(f"{BOOKINGS}/{booking_id}", headers=headers)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_at"] is not None
    assert (await assert_seats_exact(db, event_id)).seats_booked == 0


async def test_cancelling_twice_is_200_and_unchanged(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event_id, booking_id, headers = await booked(client, db, settings)
    first = await client.delete(f"{BOOKINGS}/{booking_id}", headers=headers)

    second = await client.delete(f"{BOOKINGS}/{booking_id}", headers=headers)

    assert second.status_code == 200
    assert second.json() == first.json()
    assert (await assert_seats_exact(db, event_id)).seats_booked == 0


async def test_admin_cancels_and_it_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event_id, booking_id, _ = await booked(client, db, settings)
    admin = await make_user(db, role=Role.ADMIN)

    response = await client.delete(
        f"{BOOKINGS}/{booking_id}", headers=await auth_headers(db, settings, admin)
    )

    assert response.status_code == 200
    entry = (await db.scalars(select(AuditEntry))).one()
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id) == (
        "booking.cancelled_by_admin",
        admin.id,
        "booking",
        booking_id,
    )
    assert (await assert_seats_exact(db, event_id)).seats_booked == 0


async def test_event_owner_may_not_cancel_a_booking(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, owner)
    headers = (await signed_in(db, settings, Role.ATTENDEE)).headers
    booking = (await client.post(BOOKINGS, headers=headers, json={"event_id": event.id})).json()

    response = await client.delete(
        f"{BOOKINGS}/{booking['id']}", headers=await auth_headers(db, settings, owner)
    )

    assert response.status_code == 403
    assert (await assert_seats_exact(db, event.id)).seats_booked == 1


async def test_someone_elses_booking_does_not_exist_for_a_stranger(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event_id, booking_id, _ = await booked(client, db, settings)
    stranger = (await signed_in(db, settings, Role.ATTENDEE)).headers
    other_organizer = (await signed_in(db, settings, Role.ORGANIZER)).headers

    for headers in (stranger, other_organizer):
        assert (await client.get(f"{BOOKINGS}/{booking_id}", headers=headers)).status_code == 404
        assert (await client.delete(f"{BOOKINGS}/{booking_id}", headers=headers)).status_code == 404
    assert (await assert_seats_exact(db, event_id)).seats_booked == 2


async def test_no_cancellation_once_the_event_started(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event_id, booking_id, headers = await booked(client, db, settings)
    await db.execute(
        update(Event).where(Event.id == event_id).values(starts_at=utcnow() - timedelta(minutes=1))
    )
    await db.commit()

    response = await client.delete(f"{BOOKINGS}/{booking_id}", headers=headers)

    assert response.status_code == 409
    assert response.json()["code"] == "event_started"
    assert (await assert_seats_exact(db, event_id)).seats_booked == 2


async def test_holder_owner_and_admin_read_a_booking(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, owner)
    holder = (await signed_in(db, settings, Role.ATTENDEE)).headers
    booking = (await client.post(BOOKINGS, headers=holder, json={"event_id": event.id})).json()
    admin = (await signed_in(db, settings, Role.ADMIN)).headers

    for headers in (holder, await auth_headers(db, settings, owner), admin):
        response = await client.get(f"{BOOKINGS}/{booking['id']}", headers=headers)
        assert response.status_code == 200
        assert response.json()["ticket_code"] == booking["ticket_code"]


async def test_my_bookings_are_newest_first_and_filterable(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    events = [await make_event(db, organizer) for _ in range(3)]
    headers = (await signed_in(db, settings, Role.ATTENDEE)).headers
    ids = [
        (await client.post(BOOKINGS, headers=headers, json={"event_id": e.id})).json()["id"]
        for e in events
    ]
    await client.delete(f"{BOOKINGS}/{ids[0]}", headers=headers)
    await make_event(db, organizer)  # someone else's business

    everything = (await client.get(f"{BOOKINGS}/me", headers=headers)).json()
    cancelled = (await client.get(f"{BOOKINGS}/me?status=cancelled", headers=headers)).json()
    page = (await client.get(f"{BOOKINGS}/me?limit=1&offset=1", headers=headers)).json()

    assert [b["id"] for b in everything["items"]] == list(reversed(ids))
    assert everything["total"] == 3
    assert [b["id"] for b in cancelled["items"]] == [ids[0]]
    assert (page["total"], [b["id"] for b in page["items"]]) == (3, [ids[1]])


async def test_my_bookings_upcoming_only_leaves_out_started_events(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event_id, booking_id, headers = await booked(client, db, settings)
    await db.execute(
        update(Event).where(Event.id == event_id).values(starts_at=utcnow() - timedelta(hours=1))
    )
    await db.commit()

    upcoming = (await client.get(f"{BOOKINGS}/me?upcoming_only=true", headers=headers)).json()
    everything = (await client.get(f"{BOOKINGS}/me", headers=headers)).json()

    assert upcoming["items"] == []
    assert [b["id"] for b in everything["items"]] == [booking_id]


async def test_an_event_cancelled_ends_its_own_active_bookings_only_and_keeps_earlier_times(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, organizer_headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=5)
    elsewhere = await make_event(db, organizer, capacity=5)
    crowd = [(await signed_in(db, settings, Role.ATTENDEE)).headers for _ in range(3)]
    ids = [
        (await client.post(BOOKINGS, headers=h, json={"event_id": event.id})).json()["id"]
        for h in crowd
    ]
    untouched = await client.post(BOOKINGS, headers=crowd[0], json={"event_id": elsewhere.id})
    earlier = await client.delete(f"{BOOKINGS}/{ids[0]}", headers=crowd[0])

    cancelled = await client.post(f"/api/v1/events/{event.id}/cancel", headers=organizer_headers)

    assert cancelled.status_code == 200
    after = [
        (await client.get(f"{BOOKINGS}/{i}", headers=h)).json()
        for i, h in zip(ids, crowd, strict=True)
    ]
    assert [b["status"] for b in after] == ["cancelled"] * 3
    assert all(b["cancelled_at"] is not None for b in after)
    assert after[0]["cancelled_at"] == earlier.json()["cancelled_at"]
    other = await client.get(f"{BOOKINGS}/{untouched.json()['id']}", headers=crowd[0])
    assert other.json()["status"] == "confirmed"
    assert (await assert_seats_exact(db, elsewhere.id)).seats_booked == 1
