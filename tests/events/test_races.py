"""Cancelling and deleting an event while bookings for it are in flight on another process."""

import asyncio
from collections import Counter

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.audit import AuditEntry
from boxoffice.bookings.models import Booking
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.factories import auth_headers, make_attendees_with_headers, make_event, make_user

CROWD = 60


async def _rush_then(
    servers: list[str],
    db: AsyncSession,
    settings: Settings,
    act: tuple[str, str],
    repeats: int = 1,
) -> tuple[int, Counter[int], list[httpx.Response]]:
    """CROWD bookings on the first process; once the first is answered, the organizer's `act`
    (method, path suffix) `repeats` times at once on the second."""
    organizer = await make_user(db, role=Role.ORGANIZER)
    event_id = (await make_event(db, organizer, capacity=CROWD // 2)).id
    organizer_headers = await auth_headers(db, settings, organizer)
    crowd = await make_attendees_with_headers(db, settings, CROWD)
    first, second = servers
    method, suffix = act
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=100)) as http:
        bookings = [
            asyncio.create_task(
                http.post(f"{first}/api/v1/bookings", headers=headers, json={"event_id": event_id})
            )
            for headers in crowd
        ]
        await asyncio.wait(bookings, return_when=asyncio.FIRST_COMPLETED)
        acts = await asyncio.gather(
            *(
                http.request(
                    method, f"{second}/api/v1/events/{event_id}{suffix}", headers=organizer_headers
                )
                for _ in range(repeats)
            )
        )
        answers = await asyncio.gather(*bookings)
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {201, 404, 409}, [a.text for a in answers if a.status_code >= 500]
    assert statuses[201], f"no booking landed before the organizer acted: {statuses}"
    return event_id, statuses, acts


async def _active_bookings(db: AsyncSession, event_id: int) -> list[Booking]:
    found = await db.scalars(
        select(Booking).where(Booking.event_id == event_id, Booking.active.is_(True))
    )
    return list(found.all())


async def _audited(db: AsyncSession, event_id: int) -> list[str]:
    found = await db.scalars(
        select(AuditEntry.action).where(AuditEntry.target_id == event_id).order_by(AuditEntry.id)
    )
    return list(found.all())


async def test_delete_racing_bookings_leaves_none_active(
    servers: list[str], db: AsyncSession, settings: Settings
) -> None:
    event_id, _, (deleted,) = await _rush_then(servers, db, settings, ("DELETE", ""))

    assert deleted.status_code == 204
    assert await _active_bookings(db, event_id) == []
    await assert_seats_exact(db, event_id)
    assert await _audited(db, event_id) == ["event.cancelled", "event.deleted"]


async def test_parallel_cancels_racing_bookings_sweep_and_audit_once(
    servers: list[str], db: AsyncSession, settings: Settings
) -> None:
    event_id, _, cancels = await _rush_then(servers, db, settings, ("POST", "/cancel"), repeats=4)

    assert {c.status_code for c in cancels} == {200}
    assert await _active_bookings(db, event_id) == []
    await assert_seats_exact(db, event_id)
    assert await _audited(db, event_id) == ["event.cancelled"]


async def test_parallel_deletes_delete_once(
    servers: list[str], db: AsyncSession, settings: Settings
) -> None:
    event_id, _, deletes = await _rush_then(servers, db, settings, ("DELETE", ""), repeats=3)

    assert sorted(d.status_code for d in deletes) == [204, 404, 404]
    assert await _active_bookings(db, event_id) == []
    assert await _audited(db, event_id) == ["event.cancelled", "event.deleted"]


async def test_parallel_deletes_of_an_event_without_bookings_delete_once(
    servers: list[str], db: AsyncSession, settings: Settings
) -> None:
    # Without bookings nothing else makes the losers fail: only the row lock keeps them out.
    organizer = await make_user(db, role=Role.ORGANIZER)
    event_id = (await make_event(db, organizer, capacity=CROWD)).id
    headers = await auth_headers(db, settings, organizer)
    async with httpx.AsyncClient(timeout=60) as http:
        deletes = await asyncio.gather(
            *(
                http.delete(f"{server}/api/v1/events/{event_id}", headers=headers)
                for server in servers * 3
            )
        )

    assert sorted(d.status_code for d in deletes) == [204] + [404] * 5
    assert await _audited(db, event_id) == ["event.deleted"]
