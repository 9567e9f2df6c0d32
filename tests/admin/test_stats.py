"""GET /admin/stats: platform totals, every key present even at zero."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.events.models import EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.admin.support import BOOKINGS, EVENTS, STATS, book
from tests.factories import Caller, make_event, make_user, signed_in


async def test_every_count_is_present_even_at_zero(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    response = await client.get(STATS, headers=admin.headers)

    assert response.status_code == 200
    assert response.json() == {
        "users": {"attendee": 0, "organizer": 0, "admin": 1},
        "events": {"draft": 0, "published": 0, "cancelled": 0},
        "bookings": {"confirmed": 0, "waitlisted": 0, "cancelled": 0},
        "seats_sold": 0,
    }


async def test_counts_users_by_role_banned_ones_included(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    await make_user(db)
    await make_user(db, is_active=False)
    await make_user(db, role=Role.ORGANIZER)

    stats = (await client.get(STATS, headers=admin.headers)).json()

    assert stats["users"] == {"attendee": 2, "organizer": 1, "admin": 1}


async def test_counts_events_by_status_without_deleted_ones(
    client: httpx.AsyncClient, db: AsyncSession, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    await make_event(db, organizer, status=EventStatus.DRAFT)
    for _ in range(2):
        await make_event(db, organizer, status=EventStatus.PUBLISHED)
    await make_event(db, organizer, status=EventStatus.CANCELLED)
    deleted = await make_event(db, organizer, status=EventStatus.PUBLISHED)
    await client.delete(f"{EVENTS}/{deleted.id}", headers=admin.headers)

    stats = (await client.get(STATS, headers=admin.headers)).json()

    assert stats["events"] == {"draft": 1, "published": 2, "cancelled": 1}


async def test_counts_bookings_by_status_and_seats_sold_from_confirmed_ones(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: Caller
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    roomy = await make_event(db, organizer)
    full = await make_event(db, organizer, capacity=3)
    await book(client, await signed_in(db, settings, Role.ATTENDEE), roomy.id, 2)
    await book(client, await signed_in(db, settings, Role.ATTENDEE), full.id, 3)
    await book(client, await signed_in(db, settings, Role.ATTENDEE), full.id, 4, wait=True)
    quitter = await signed_in(db, settings, Role.ATTENDEE)
    dropped = await book(client, quitter, roomy.id, 5)
    await client.delete(f"{BOOKINGS}/{dropped['id']}", headers=quitter.headers)

    stats = (await client.get(STATS, headers=admin.headers)).json()

    assert stats["bookings"] == {"confirmed": 2, "waitlisted": 1, "cancelled": 1}
    assert stats["seats_sold"] == 5
