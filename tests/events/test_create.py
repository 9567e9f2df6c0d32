"""Organizers and admins create events; what every event read carries."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.events.models import EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.events.support import (
    EVENT_FIELDS,
    EVENTS,
    count_events,
    event_path,
    new_event,
    parse_time,
    set_event,
    stored_event,
)
from tests.factories import make_event, signed_in


async def test_organizer_creates_a_draft_by_default(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER, full_name="Olga Organizer")

    response = await client.post(EVENTS, headers=headers, json=new_event())

    assert response.status_code == 201
    event = response.json()
    assert event["status"] == "draft"
    assert event["organizer_id"] == organizer.id
    assert event["organizer_name"] == "Olga Organizer"
    stored = await stored_event(db, event["id"])
    assert (stored.status, stored.organizer_id, stored.title) == (
        EventStatus.DRAFT,
        organizer.id,
        "Jazz Night",
    )


async def test_organizer_may_ask_for_published_on_create(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(EVENTS, headers=headers, json=new_event(status="published"))

    assert response.status_code == 201
    assert response.json()["status"] == "published"
    assert (await stored_event(db, response.json()["id"])).status is EventStatus.PUBLISHED


async def test_draft_may_be_asked_for_explicitly(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(EVENTS, headers=headers, json=new_event(status="draft"))

    assert response.status_code == 201
    assert response.json()["status"] == "draft"


async def test_admin_creates_events_too(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    admin, headers = await signed_in(db, settings, Role.ADMIN)

    response = await client.post(EVENTS, headers=headers, json=new_event())

    assert response.status_code == 201
    assert response.json()["organizer_id"] == admin.id


async def test_attendee_may_not_create_events(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ATTENDEE)

    response = await client.post(EVENTS, headers=headers, json=new_event())

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert await count_events(db) == 0


async def test_anonymous_may_not_create_events(client: httpx.AsyncClient, db: AsyncSession) -> None:
    response = await client.post(EVENTS, json=new_event())

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"
    assert await count_events(db) == 0


async def test_new_event_has_every_field_with_empty_seat_counts(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    before = datetime.now(UTC)
    response = await client.post(EVENTS, headers=headers, json=new_event(capacity=40))

    event = response.json()
    assert set(event) == EVENT_FIELDS
    assert (event["capacity"], event["seats_booked"], event["seats_available"]) == (40, 0, 40)
    assert event["waitlist_count"] == 0
    assert event["timezone"] == "UTC"
    assert event["description"] == "Live quartet"
    assert before - timedelta(seconds=5) <= parse_time(event["created_at"]) <= datetime.now(UTC)
    assert parse_time(event["updated_at"]) >= parse_time(event["created_at"])


async def test_optional_fields_have_defaults(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    body = new_event()
    del body["description"], body["ends_at"]

    response = await client.post(EVENTS, headers=headers, json=body)

    assert response.status_code == 201
    event = response.json()
    assert (event["description"], event["ends_at"], event["timezone"]) == ("", None, "UTC")


async def test_title_and_location_are_trimmed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(
        EVENTS, headers=headers, json=new_event(title="  Jazz Night ", location=" Blue Room  ")
    )

    assert (response.json()["title"], response.json()["location"]) == ("Jazz Night", "Blue Room")


async def test_times_sent_with_an_offset_are_returned_in_utc(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    starts_at, ends_at = "2100-06-01T20:00:00+02:00", "2100-06-01T22:30:00+02:00"

    response = await client.post(
        EVENTS,
        headers=headers,
        json=new_event(starts_at=starts_at, ends_at=ends_at, timezone="Europe/Berlin"),
    )

    event = response.json()
    for field, sent in (("starts_at", starts_at), ("ends_at", ends_at)):
        returned = event[field]
        assert returned.endswith(("Z", "+00:00")), returned
        assert parse_time(returned) == datetime.fromisoformat(sent)
    assert event["starts_at"].startswith("2100-06-01T18:00:00")
    assert event["timezone"] == "Europe/Berlin"
    for field in ("created_at", "updated_at"):
        assert event[field].endswith(("Z", "+00:00")), event[field]
    stored = await stored_event(db, event["id"])
    assert stored.starts_at == datetime.fromisoformat(starts_at)


@pytest.mark.parametrize("read", ["get", "list", "mine", "patch", "publish"])
async def test_every_event_read_carries_seat_counts_and_organizer(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, read: str
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER, full_name="Olga Organizer")
    status = EventStatus.DRAFT if read == "publish" else EventStatus.PUBLISHED
    event = await make_event(db, organizer, capacity=10, status=status, timezone="Asia/Tokyo")
    await set_event(db, event.id, seats_booked=3, waitlist_count=2)

    if read == "get":
        response = await client.get(event_path(event.id))
    elif read == "list":
        response = await client.get(EVENTS)
    elif read == "mine":
        response = await client.get(EVENTS, headers=headers, params={"mine": "true"})
    elif read == "patch":
        response = await client.patch(event_path(event.id), headers=headers, json={"title": "X"})
    else:
        response = await client.post(event_path(event.id, "publish"), headers=headers)

    assert response.status_code == 200
    body = response.json()
    read_event = body["items"][0] if read in ("list", "mine") else body
    assert set(read_event) == EVENT_FIELDS
    assert read_event["capacity"] == 10
    assert read_event["seats_booked"] == 3
    assert read_event["seats_available"] == 7
    assert read_event["waitlist_count"] == 2
    assert read_event["organizer_name"] == "Olga Organizer"
    assert read_event["timezone"] == "Asia/Tokyo"
    for field in ("starts_at", "ends_at", "created_at", "updated_at"):
        assert read_event[field].endswith(("Z", "+00:00")), (field, read_event[field])
