"""RFC 5545 calendar files, with times in the event's own zone."""

from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from boxoffice.events.models import Event, EventStatus

PRODUCT_ID = "-//boxoffice//boxoffice//EN"


def calendar_file(event: Event) -> bytes:
    zone = ZoneInfo(event.timezone)
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}@boxoffice")
    entry.add("dtstamp", event.updated_at)
    entry.add("last-modified", event.updated_at)
    entry.add("dtstart", event.starts_at.astimezone(zone))
    if event.ends_at is not None:
        entry.add("dtend", event.ends_at.astimezone(zone))
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
