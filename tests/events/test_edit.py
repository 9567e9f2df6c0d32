"""PATCH changes the fields sent, and only those; capacity never goes below the seats sold."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.events.models import EventStatus
from boxoffice.events.schemas import EventFields
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.events.support import event_path, in_days, parse_time, set_event, stored_event
from tests.factories import make_event, make_user, signed_in


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.ADMIN])
async def test_owner_and_admin_change_every_editable_field(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: Role
) -> None:
    owner, owner_headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, owner, status=EventStatus.PUBLISHED, capacity=10)
    headers = owner_headers if role is Role.ORGANIZER else (await signed_in(db, settings, role))[1]
    starts_at, ends_at = in_days(20), in_days(20, hours=3)
    deadline = in_days(19)
    changes = {
        "title": "Jazz Night, second set",
        "description": "Now with a trio",
        "location": "Green Room",
        "timezone": "America/New_York",
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "capacity": 25,
        "hold_minutes": 30,
        "manual_payment_days": 5,
        "offer_hours": 12,
        "waitlist_mode": "offer",
        "cancellation_deadline": deadline.isoformat(),
    }
    assert set(changes) == set(EventFields.model_fields)

    response = await client.patch(event_path(event.id), headers=headers, json=changes)

    assert response.status_code == 200, response.text
    read = response.json()
    assert (parse_time(read["starts_at"]), parse_time(read["ends_at"])) == (starts_at, ends_at)
    assert parse_time(read["cancellation_deadline"]) == deadline
    times = ("starts_at", "ends_at", "cancellation_deadline")
    assert {k: read[k] for k in changes if k not in times} == {
        k: v for k, v in changes.items() if k not in times
    }
    assert (read["seats_available"], read["status"], read["organizer_id"]) == (
        25,
        "published",
        owner.id,
    )
    stored = await stored_event(db, event.id)
    assert (stored.title, stored.location, stored.capacity, stored.timezone) == (
        "Jazz Night, second set",
        "Green Room",
        25,
        "America/New_York",
    )
    assert (stored.starts_at, stored.ends_at) == (starts_at, ends_at)


async def test_only_the_fields_sent_change(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(
        db, organizer, capacity=10, title="Jazz Night", description="Live", timezone="Asia/Tokyo"
    )
    before = await stored_event(db, event.id)
    snapshot = {c.key: getattr(before, c.key) for c in before.__table__.columns}

    response = await client.patch(event_path(event.id), headers=headers, json={"location": "Roof"})

    assert response.status_code == 200
    after = await stored_event(db, event.id)
    changed = {c.key for c in after.__table__.columns if getattr(after, c.key) != snapshot[c.key]}
    assert changed == {"location", "updated_at"}
    assert after.updated_at > snapshot["updated_at"]


async def test_an_empty_edit_is_accepted_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    before = (await client.get(event_path(event.id))).json()

    response = await client.patch(event_path(event.id), headers=headers, json={})

    assert response.status_code == 200
    assert response.json() == before


async def test_a_draft_can_be_edited_and_stays_a_draft(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    draft = await make_event(db, organizer, status=EventStatus.DRAFT)

    response = await client.patch(event_path(draft.id), headers=headers, json={"title": "Soon"})

    assert response.status_code == 200
    assert (response.json()["title"], response.json()["status"]) == ("Soon", "draft")


async def test_ends_at_may_be_cleared(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)

    response = await client.patch(event_path(event.id), headers=headers, json={"ends_at": None})

    assert response.status_code == 200
    assert response.json()["ends_at"] is None
    assert (await stored_event(db, event.id)).ends_at is None


async def test_capacity_below_the_seats_booked_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=10, title="Jazz Night")
    await set_event(db, event.id, seats_booked=6)

    response = await client.patch(
        event_path(event.id), headers=headers, json={"capacity": 5, "title": "Smaller room"}
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "capacity_below_booked"
    stored = await stored_event(db, event.id)
    assert (stored.capacity, stored.seats_booked, stored.title) == (10, 6, "Jazz Night")


async def test_capacity_may_come_down_to_exactly_the_seats_booked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=10)
    await set_event(db, event.id, seats_booked=6)

    response = await client.patch(event_path(event.id), headers=headers, json={"capacity": 6})

    assert response.status_code == 200
    assert (response.json()["capacity"], response.json()["seats_available"]) == (6, 0)
    assert (await stored_event(db, event.id)).capacity == 6


async def test_capacity_may_grow_beyond_the_seats_booked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=10)
    await set_event(db, event.id, seats_booked=10)

    response = await client.patch(event_path(event.id), headers=headers, json={"capacity": 12})

    assert response.status_code == 200
    assert (response.json()["seats_booked"], response.json()["seats_available"]) == (10, 2)


async def test_moving_ends_at_before_starts_at_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, starts_in=timedelta(days=7))
    ends_at = (await stored_event(db, event.id)).ends_at

    response = await client.patch(
        event_path(event.id), headers=headers, json={"ends_at": in_days(3).isoformat()}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert (await stored_event(db, event.id)).ends_at == ends_at


async def test_starts_at_and_ends_at_may_move_together(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, starts_in=timedelta(days=7))
    starts_at, ends_at = in_days(30), in_days(30, hours=1)

    response = await client.patch(
        event_path(event.id),
        headers=headers,
        json={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
    )

    assert response.status_code == 200
    stored = await stored_event(db, event.id)
    assert (stored.starts_at, stored.ends_at) == (starts_at, ends_at)


async def test_an_event_that_has_started_can_still_be_retitled(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # starts_at must be in the future only when it is being set.
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, starts_in=-timedelta(minutes=30))

    response = await client.patch(event_path(event.id), headers=headers, json={"title": "Live"})

    assert response.status_code == 200
    assert response.json()["title"] == "Live"


async def test_time_sent_with_an_offset_is_stored_and_returned_in_utc(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)

    response = await client.patch(
        event_path(event.id),
        headers=headers,
        json={"starts_at": "2100-03-01T09:30:00+02:00", "ends_at": "2100-03-01T11:00:00+02:00"},
    )

    assert response.json()["starts_at"] == "2100-03-01T07:30:00Z"
    assert response.json()["ends_at"] == "2100-03-01T09:00:00Z"


async def test_an_organizer_cannot_give_their_event_away(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    other = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)

    response = await client.patch(
        event_path(event.id), headers=headers, json={"organizer_id": other.id}
    )

    assert response.status_code == 422
    assert (await stored_event(db, event.id)).organizer_id == organizer.id
