"""RFC 5545 calendar files, with times in the event's own zone."""

from datetime import datetime
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


def calendar_file(event: Event) -> bytes:
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
    # VTIMEZONE blocks, so that clients without the zone database place the times right.
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical
