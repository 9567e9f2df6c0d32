"""RFC 5545 calendar files, with times in the event's own zone."""

from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from boxoffice.events.models import Event, EventStatus

PRODUCT_ID = "-//boxoffice//boxoffice//EN"


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The time in the event's zone, or in UTC where that zone's clock would leave the calendar
    (year 10000): events stored before times were limited to 2000..2999 must still have a file."""
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return moment


class _Shown(NamedTuple):
    """What of an event its calendar file shows: the key of the files already made."""

    id: int
    updated_at: datetime
    starts_at: datetime
    ends_at: datetime | None
    timezone: str
    title: str
    location: str
    description: str
    status: EventStatus


def calendar_file(event: Event) -> bytes:
    # A rush of bookings confirms hundreds of seats of one event within seconds, and each
    # confirmation carries the same file: it is made once.
    return _calendar_file(
        _Shown(
            event.id,
            event.updated_at,
            event.starts_at,
            event.ends_at,
            event.timezone,
            event.title,
            event.location,
            event.description,
            event.status,
        )
    )


@lru_cache(maxsize=256)
def _calendar_file(event: _Shown) -> bytes:
    zone = ZoneInfo(event.timezone)
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}@boxoffice")
    entry.add("dtstamp", event.updated_at)
    entry.add("last-modified", event.updated_at)
    entry.add("dtstart", _local(event.starts_at, zone))
    if event.ends_at is not None:
        entry.add("dtend", _local(event.ends_at, zone))
    entry.add("summary", event.title)
    entry.add("location", event.location)
    if event.description:
        entry.add("description", event.description)
    # No ORGANIZER: RFC 5545 wants an address there, and an organizer's e-mail is not public.
    entry.add("status", "CANCELLED" if event.status is EventStatus.CANCELLED else "CONFIRMED")

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(entry)
    # VTIMEZONE blocks, so that clients without the zone database place the times right. Only
    # the years around the event: the whole zone history since 1970 was thousands of lines and
    # most of the CPU a booking's confirmation cost.
    last = event.starts_at if event.ends_at is None else event.ends_at
    calendar.add_missing_timezones(
        first_date=date(max(event.starts_at.year - 1, 1), 1, 1),
        last_date=date(min(last.year + 2, 9999), 1, 1),
    )
    ical: bytes = calendar.to_ical()
    return ical
