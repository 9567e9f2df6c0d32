"""BOXOFFICE_REQUIRE_VERIFIED_EMAIL=true: bookings and event creation only from verified
accounts (SPEC §13)."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import auth_headers, make_event, make_user

BOOKINGS = "/api/v1/bookings"
EVENTS = "/api/v1/events"


def _new_event() -> dict[str, object]:
    starts = datetime.now(UTC) + timedelta(days=10)
    return {
        "title": "Quartet",
        "location": "Hall",
        "starts_at": starts.isoformat(),
        "capacity": 10,
    }


async def test_an_unverified_attendee_may_not_book(
    strict_client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    unverified = await make_user(db, email_verified=False)
    verified = await make_user(db)

    refused = await strict_client.post(
        BOOKINGS,
        json={"event_id": event.id},
        headers=await auth_headers(db, settings, unverified),
    )
    booked = await strict_client.post(
        BOOKINGS, json={"event_id": event.id}, headers=await auth_headers(db, settings, verified)
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "email_not_verified")
    assert booked.status_code == 201


async def test_an_unverified_organizer_may_not_create_events(
    strict_client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    unverified = await make_user(db, role=Role.ORGANIZER, email_verified=False)
    verified = await make_user(db, role=Role.ORGANIZER)

    refused = await strict_client.post(
        EVENTS, json=_new_event(), headers=await auth_headers(db, settings, unverified)
    )
    created = await strict_client.post(
        EVENTS, json=_new_event(), headers=await auth_headers(db, settings, verified)
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "email_not_verified")
    assert created.status_code == 201


async def test_by_default_unverified_accounts_book_and_create(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    attendee = await make_user(db)

    booked = await client.post(
        BOOKINGS, json={"event_id": event.id}, headers=await auth_headers(db, settings, attendee)
    )
    created = await client.post(
        EVENTS, json=_new_event(), headers=await auth_headers(db, settings, organizer)
    )

    assert (booked.status_code, created.status_code) == (201, 201)
