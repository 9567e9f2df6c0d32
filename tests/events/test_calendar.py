"""calendar.ics: one RFC 5545 VEVENT, with its times in the event's own zone."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar, Component
from icalendar import Event as CalendarEvent
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.db import utcnow
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.events.support import EVENTS, event_path
from tests.factories import make_event, make_user, signed_in

# Within the years a VTIMEZONE block describes, so clients without a zone database agree too.
NEXT_YEAR = utcnow().year + 1


def only_event(calendar: Calendar) -> CalendarEvent:
    entries = calendar.walk("VEVENT")
    assert len(entries) == 1
    entry = entries[0]
    assert isinstance(entry, CalendarEvent)
    return entry


async def fetch_calendar(client: httpx.AsyncClient, event_id: int) -> Calendar:
    response = await client.get(event_path(event_id, "calendar.ics"))
    assert response.status_code == 200, response.text
    return Calendar.from_ical(response.content)


async def create_berlin_event(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> dict[str, object]:
    _, headers = await signed_in(db, settings, Role.ORGANIZER, full_name="Olga Organizer")
    response = await client.post(
        EVENTS,
        headers=headers,
        json={
            "title": "Jazz Night",
            "description": "Live quartet; bring friends, and a coat",
            "location": "Blue Room, Kreuzberg",
            "timezone": "Europe/Berlin",
            "starts_at": f"{NEXT_YEAR}-07-10T18:00:00Z",
            "ends_at": f"{NEXT_YEAR}-07-10T20:30:00Z",
            "capacity": 50,
            "status": "published",
        },
    )
    assert response.status_code == 201, response.text
    event: dict[str, object] = response.json()
    return event


async def test_calendar_file_is_text_calendar(client: httpx.AsyncClient, db: AsyncSession) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)

    response = await client.get(event_path(event.id, "calendar.ics"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert f'filename="event-{event.id}.ics"' in response.headers["content-disposition"]


async def test_calendar_has_one_event_with_the_events_details(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await create_berlin_event(client, db, settings)
    assert isinstance(event["id"], int)

    calendar = await fetch_calendar(client, event["id"])

    assert str(calendar["VERSION"]) == "2.0"
    entry = only_event(calendar)
    assert str(entry["UID"])
    assert str(entry["SUMMARY"]) == "Jazz Night"
    assert str(entry["LOCATION"]) == "Blue Room, Kreuzberg"
    assert str(entry["DESCRIPTION"]) == "Live quartet; bring friends, and a coat"
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert "DTSTAMP" in entry
    # ORGANIZER must be an address (RFC 5545); an organizer's e-mail is not public.
    assert "ORGANIZER" not in entry


async def test_uid_is_stable_and_differs_between_events(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    first, second = await make_event(db, organizer), await make_event(db, organizer)

    uid = str(only_event(await fetch_calendar(client, first.id))["UID"])

    assert uid == str(only_event(await fetch_calendar(client, first.id))["UID"])
    assert uid != str(only_event(await fetch_calendar(client, second.id))["UID"])


async def test_times_are_in_the_events_own_zone(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await create_berlin_event(client, db, settings)
    assert isinstance(event["id"], int)

    response = await client.get(event_path(event["id"], "calendar.ics"))

    entry = only_event(Calendar.from_ical(response.content))
    starts_at, ends_at = entry.decoded("DTSTART"), entry.decoded("DTEND")
    assert isinstance(starts_at, datetime)
    assert isinstance(ends_at, datetime)
    assert entry["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert entry["DTEND"].params["TZID"] == "Europe/Berlin"
    assert starts_at.tzinfo is not None
    assert starts_at.utcoffset() == ZoneInfo("Europe/Berlin").utcoffset(starts_at)
    # Summer in Berlin: two hours ahead of UTC.
    assert starts_at.replace(tzinfo=None) == datetime(NEXT_YEAR, 7, 10, 20, 0)
    assert starts_at == datetime(NEXT_YEAR, 7, 10, 18, 0, tzinfo=UTC)
    assert ends_at == datetime(NEXT_YEAR, 7, 10, 20, 30, tzinfo=UTC)
    assert f"DTSTART;TZID=Europe/Berlin:{NEXT_YEAR}0710T200000".encode() in response.content


async def test_the_events_zone_is_described_by_a_vtimezone(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await create_berlin_event(client, db, settings)
    assert isinstance(event["id"], int)

    calendar = await fetch_calendar(client, event["id"])

    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["TZID"]) for zone in zones] == ["Europe/Berlin"]
    assert zones[0].walk("STANDARD")
    assert zones[0].walk("DAYLIGHT")


async def test_the_vtimezone_describes_the_events_years_not_the_zones_whole_history(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await create_berlin_event(client, db, settings)
    assert isinstance(event["id"], int)

    zone = (await fetch_calendar(client, event["id"])).walk("VTIMEZONE")[0]

    onsets = [
        moment.dt.year
        for observance in zone.walk("STANDARD") + zone.walk("DAYLIGHT")
        for moment in [observance["DTSTART"], *_rdates(observance)]
    ]
    # Every transition it lists lies within a year or two of the event (NEXT_YEAR), and the
    # event's own year is among them: the zone is described where the event happens.
    assert NEXT_YEAR in onsets
    assert all(NEXT_YEAR - 2 <= year <= NEXT_YEAR + 2 for year in onsets), sorted(set(onsets))


def _rdates(observance: Component) -> list[Any]:
    listed = observance.get("RDATE", [])
    groups = listed if isinstance(listed, list) else [listed]
    return [moment for group in groups for moment in group.dts]


async def test_an_edited_event_gets_a_new_calendar_file(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event_id = (await make_event(db, organizer, location="Blue Room")).id
    before = only_event(await fetch_calendar(client, event_id))

    edited = await client.patch(
        event_path(event_id), headers=headers, json={"location": "Green Room"}
    )
    assert edited.status_code == 200, edited.text
    after = only_event(await fetch_calendar(client, event_id))

    assert (str(before["LOCATION"]), str(after["LOCATION"])) == ("Blue Room", "Green Room")


async def test_utc_event_has_its_times_in_utc(client: httpx.AsyncClient, db: AsyncSession) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, timezone="UTC")

    entry = only_event(await fetch_calendar(client, event.id))

    starts_at = entry.decoded("DTSTART")
    assert isinstance(starts_at, datetime)
    assert starts_at.utcoffset() is not None
    assert starts_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert starts_at == event.starts_at.replace(microsecond=0)


async def test_event_without_an_end_has_no_dtend(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    created = await client.post(
        EVENTS,
        headers=headers,
        json={
            "title": "Open studio",
            "location": "Atelier",
            "starts_at": "2100-01-01T10:00:00Z",
            "capacity": 5,
            "status": "published",
        },
    )

    entry = only_event(await fetch_calendar(client, created.json()["id"]))

    assert "DTEND" not in entry
    assert "DESCRIPTION" not in entry or str(entry["DESCRIPTION"]) == ""


async def test_cancelled_event_is_marked_cancelled(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)
    await client.post(event_path(event.id, "cancel"), headers=headers)

    entry = only_event(await fetch_calendar(client, event.id))

    assert str(entry["STATUS"]) == "CANCELLED"


@pytest.mark.parametrize(
    "title", ["Comma, semicolon; backslash\\ done", "Zeilen\numbruch", "Ünïcødé ✓ 🎷", "x" * 200]
)
async def test_text_that_needs_escaping_survives_the_round_trip(
    client: httpx.AsyncClient, db: AsyncSession, title: str
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, title=title, description=title, location=title)

    entry = only_event(await fetch_calendar(client, event.id))

    assert str(entry["SUMMARY"]) == title
    assert str(entry["DESCRIPTION"]) == title
    assert str(entry["LOCATION"]) == title
