"""Turning an outbox row into an e-mail, at send time, from the rows as they are then."""

import base64
import email.policy
import quopri
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import BaseHeader
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from boxoffice.bookings.models import Booking
from boxoffice.bookings.tickets import qr_svg
from boxoffice.events.calendar import calendar_file
from boxoffice.events.models import Event
from boxoffice.notifications.models import NOTEWORTHY_FIELDS, Notification, NotificationKind
from boxoffice.settings import Settings
from boxoffice.users.models import User

KIND_HEADER = "X-Boxoffice-Kind"

_SUBJECTS = {
    NotificationKind.BOOKING_CONFIRMED: "Booking confirmed: {title}",
    NotificationKind.WAITLIST_JOINED: "On the waiting list (position {position}): {title}",
    NotificationKind.WAITLIST_PROMOTED: "Off the waiting list, booking confirmed: {title}",
    NotificationKind.BOOKING_CANCELLED: "Booking cancelled: {title}",
    NotificationKind.EVENT_CANCELLED: "Event cancelled: {title}",
    NotificationKind.EVENT_CHANGED: "Event changed: {title}",
    NotificationKind.REMINDER: "Reminder: {title} starts {starts}",
}
_WITH_CALENDAR = {
    NotificationKind.BOOKING_CONFIRMED,
    NotificationKind.WAITLIST_PROMOTED,
    NotificationKind.EVENT_CHANGED,
}


# The messages that confirm seats carry their tickets: a QR code per seat.
_WITH_TICKETS = {NotificationKind.BOOKING_CONFIRMED, NotificationKind.WAITLIST_PROMOTED}


@dataclass(frozen=True)
class Outgoing:
    """An outbox row with what it is about, read when it is sent."""

    notification: Notification
    user: User
    event: Event
    booking: Booking | None


@cache
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=True,
    )


def local_time(moment: datetime, zone_name: str) -> str:
    """ "Saturday 12 December 2026, 19:30 (Europe/Berlin)": in the event's own zone."""
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{local:%A %d %B %Y, %H:%M} ({zone_name})"


def message_id(notification_id: int, settings: Settings) -> str:
    # The same for every attempt at one notification, so that a message sent twice around a
    # worker's crash is recognisable as one by mail clients.
    domain = parseaddr(settings.email_from)[1].rpartition("@")[2] or "boxoffice.invalid"
    return f"<notification-{notification_id}@{domain}>"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render(outgoing: Outgoing, settings: Settings, *, now: datetime | None = None) -> EmailMessage:
    notification, user, event = outgoing.notification, outgoing.user, outgoing.event
    kind = notification.kind
    payload = notification.payload or {}
    starts = local_time(event.starts_at, event.timezone)
    context = {
        "user": user,
        "event": event,
        "booking": outgoing.booking,
        "starts": starts,
        "ends": None if event.ends_at is None else local_time(event.ends_at, event.timezone),
        "position": payload.get("position"),
        "changed": [NOTEWORTHY_FIELDS.get(f, f) for f in payload.get("changed", [])],
    }
    subject = _SUBJECTS[kind].format(
        title=_one_line(event.title), starts=starts, position=payload.get("position")
    )
    context["subject"] = subject

    message = EmailMessage()
    message["From"] = _shared("From", settings.email_from)
    message["To"] = formataddr((_one_line(user.full_name), user.email))
    message["Subject"] = _shared("Subject", subject)
    message["Date"] = _shared("Date", format_datetime(now or datetime.now(UTC)))
    message["Message-ID"] = message_id(notification.id, settings)
    message[KIND_HEADER] = _shared(KIND_HEADER, kind.value)
    message["Auto-Submitted"] = _shared("Auto-Submitted", "auto-generated")
    message["MIME-Version"] = _shared("MIME-Version", "1.0")
    templates = _templates()
    text = [
        _text_part(templates.get_template(f"{kind.value}.txt").render(context), "plain"),
        _text_part(templates.get_template(f"{kind.value}.html").render(context), "html"),
    ]
    if kind not in _WITH_CALENDAR:
        return _multipart(message, "alternative", text)
    attached = [_calendar_part(calendar_file(event), f"event-{event.id}.ics")]
    if outgoing.booking is not None and kind in _WITH_TICKETS:
        attached += [_ticket_part(ticket.code) for ticket in outgoing.booking.tickets]
    return _multipart(
        message, "mixed", [_multipart(EmailMessage(), "alternative", text), *attached]
    )


# The mail worker runs in the server's processes, and rendering was most of its cost: the
# standard library parses every header it is given, and picks each text part's encoding by
# trying two. Here the encoding is fixed, and what many messages have in common (the sender, an
# event's subject, the second they were sent in, its calendar file, every part's headers) is
# made once. Parts and headers are not changed once made (sending writes them out, it does not
# alter them), so messages can share them.


@lru_cache(maxsize=256)
def _shared(name: str, value: str) -> BaseHeader:
    return email.policy.default.header_factory(name, value)  # type: ignore[no-any-return]


def _multipart(container: EmailMessage, subtype: str, parts: list[EmailMessage]) -> EmailMessage:
    container["Content-Type"] = _shared("Content-Type", f"multipart/{subtype}")
    for part in parts:
        container.attach(part)
    return container


def _text_part(text: str, subtype: str) -> EmailMessage:
    """A UTF-8 text part, quoted-printable (any line length, any 7-bit hop, still readable as
    source), as the standard library makes one, without its rules to pick an encoding for
    this text and its parsing of the headers it writes. `quopri` is public, unlike the
    `email` package's own encoder, and encodes in C."""
    part = EmailMessage()
    part["Content-Type"] = _shared("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = _shared("Content-Transfer-Encoding", "quoted-printable")
    lines = text.encode("utf-8").splitlines()
    part.set_payload(quopri.encodestring(b"\n".join([*lines, b""])).decode("ascii"))
    return part


@lru_cache(maxsize=256)
def _calendar_part(ics: bytes, filename: str) -> EmailMessage:
    """A rush confirms many seats of one event within seconds, each with the same file."""
    part = EmailMessage()
    part["Content-Type"] = _shared("Content-Type", 'text/calendar; method="PUBLISH"')
    part["Content-Transfer-Encoding"] = _shared("Content-Transfer-Encoding", "base64")
    part["Content-Disposition"] = f'attachment; filename="{filename}"'
    part.set_payload(base64.encodebytes(ics).decode("ascii"))
    return part


def _ticket_part(code: str) -> EmailMessage:
    part = EmailMessage()
    part["Content-Type"] = _shared("Content-Type", "image/svg+xml")
    part["Content-Transfer-Encoding"] = _shared("Content-Transfer-Encoding", "base64")
    part["Content-Disposition"] = f'attachment; filename="ticket-{code}.svg"'
    part.set_payload(base64.encodebytes(qr_svg(code)).decode("ascii"))
    return part
