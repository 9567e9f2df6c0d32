"""What the events tests share: paths, request bodies, signed-in callers and stored rows."""

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.events.schemas import EventRead
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.factories import auth_headers, signed_in

EVENTS = "/api/v1/events"

EVENT_FIELDS = set(EventRead.model_fields)

Viewer = Literal["owner", "admin", "other_organizer", "attendee", "anonymous"]


def event_path(event_id: int | str, action: str = "") -> str:
    return f"{EVENTS}/{event_id}" + (f"/{action}" if action else "")


def in_days(days: float, *, hours: float = 0) -> datetime:
    return utcnow() + timedelta(days=days, hours=hours)


def new_event(**overrides: object) -> dict[str, object]:
    """A valid create body: a two-hour event a week from now."""
    starts_at = in_days(7)
    return {
        "title": "Jazz Night",
        "description": "Live quartet",
        "location": "Blue Room",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
        "capacity": 50,
        **overrides,
    }


def parse_time(value: object) -> datetime:
    assert isinstance(value, str)
    return datetime.fromisoformat(value)


async def headers_of(
    db: AsyncSession, settings: Settings, viewer: Viewer, owner: User
) -> dict[str, str]:
    """The headers of this kind of caller, relative to the event's owner."""
    if viewer == "anonymous":
        return {}
    if viewer == "owner":
        return await auth_headers(db, settings, owner)
    role = {"admin": Role.ADMIN, "other_organizer": Role.ORGANIZER, "attendee": Role.ATTENDEE}
    return (await signed_in(db, settings, role[viewer])).headers


async def stored_event(db: AsyncSession, event_id: int) -> Event:
    """The row as the database has it now (deleted or not)."""
    event = await db.get(Event, event_id, populate_existing=True)
    await db.commit()
    assert event is not None
    return event


async def count_events(db: AsyncSession) -> int:
    total = (await db.execute(select(func.count()).select_from(Event))).scalar_one()
    await db.commit()
    return total


async def set_event(db: AsyncSession, event_id: int, **values: object) -> None:
    """Arrange columns the API never lets anyone set (seats_booked, an exact starts_at)."""
    await db.execute(update(Event).where(Event.id == event_id).values(**values))
    await db.commit()
