"""Turning an outbox row into an e-mail, at send time, from the rows as they are then."""

import base64
import email.policy
import quopri
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address, BaseHeader
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import idna
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from boxoffice.auth.models import TOKEN_VALIDITY, TokenPurpose
from boxoffice.auth.tokens import account_token, unsubscribe_token
from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.bookings.tickets import qr_svg
from boxoffice.catalogue.money import to_decimal_string
from boxoffice.events.calendar import calendar_file
from boxoffice.events.models import Event
from boxoffice.notifications.models import NOTEWORTHY_FIELDS, Notification, NotificationKind
from boxoffice.payments.models import RefundReason
from boxoffice.settings import PaymentProviderName, Settings
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
    NotificationKind.BOOKING_PENDING: "Pay to confirm your booking: {title}",
    NotificationKind.BOOKING_EXPIRED: "Booking expired, seats released: {title}",
    NotificationKind.WAITLIST_OFFER: "Seats offered to you from the waiting list: {title}",
    NotificationKind.PAYMENT_RECEIVED: "Payment received, booking confirmed: {title}",
    NotificationKind.PAYMENT_REFUNDED: "Payment refunded: {title}",
    NotificationKind.VERIFY_EMAIL: "Verify your e-mail address",
    NotificationKind.PASSWORD_RESET: "Reset your password",
}
# The account messages: the web UI's page that finishes each, and the token's purpose. The
# token goes in the fragment, which browsers do not send to any server, so no access log holds
# it.
_ACCOUNT_LINKS = {
    NotificationKind.VERIFY_EMAIL: ("/verify-email", TokenPurpose.VERIFY_EMAIL),
    NotificationKind.PASSWORD_RESET: ("/reset-password", TokenPurpose.PASSWORD_RESET),
}
# The messages that confirm seats (a paid booking's receipt confirms it) carry the event as a
# calendar file, and its tickets, a QR code per seat, while the booking is confirmed.
_CONFIRMING = {
    NotificationKind.BOOKING_CONFIRMED,
    NotificationKind.WAITLIST_PROMOTED,
    NotificationKind.PAYMENT_RECEIVED,
}
_WITH_CALENDAR = {*_CONFIRMING, NotificationKind.EVENT_CHANGED}

_PROVIDERS = {
    PaymentProviderName.MANUAL: "bank transfer or cash at the desk",
    PaymentProviderName.STRIPE: "card, through Stripe",
}
_REFUND_REASONS = {
    RefundReason.CANCELLED: "your booking was cancelled",
    RefundReason.EVENT_CANCELLED: "the event was cancelled",
    RefundReason.LATE_PAYMENT: "your payment came after your hold ended and the seats were gone",
    RefundReason.DUPLICATE: "the booking had already been paid for",
}


@dataclass(frozen=True)
class Outgoing:
    """An outbox row with what it is about, read when it is sent."""

    notification: Notification
    user: User
    # None for an account's message (SPEC §13), which is about no event.
    event: Event | None
    booking: Booking | None


@cache
def _templates(plain: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=True,
        # In a plain-text part, lines are the message's own: every value (an organizer's title,
        # place or ticket type, a user's name) stays on the line the template puts it on, so
        # that a line break in it cannot start a line that passes for the message's text.
        finalize=_in_line if plain else None,
    )


def _in_line(value: object) -> object:
    return in_line(value) if isinstance(value, str) else value


def local_time(moment: datetime, zone_name: str) -> str:
    """ "Saturday 12 December 2026, 19:30 (Europe/Berlin)": in the event's own zone."""
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{local:%A %d %B %Y, %H:%M} ({zone_name})"


def booking_url(settings: Settings, booking_id: int) -> str:
    """The booking's page in the web UI: where its holder pays, or accepts an offer."""
    return f"{settings.public_url}/bookings/{booking_id}"


@dataclass(frozen=True)
class _Payment:
    """A payment or its refund, as its message shows it: from the notification's payload."""

    amount: str
    currency: str
    provider: str
    manual: bool
    reference: str
    reason: str | None


def _payment(payload: dict[str, Any]) -> _Payment | None:
    if "amount_minor" not in payload:
        return None
    provider, reason = payload["provider"], payload.get("reason")
    return _Payment(
        amount=to_decimal_string(payload["amount_minor"], payload["currency"]),
        currency=payload["currency"],
        provider=_PROVIDERS.get(provider, provider),
        manual=provider == PaymentProviderName.MANUAL,
        reference=payload["reference"],
        reason=None if reason is None else _REFUND_REASONS[RefundReason(reason)],
    )


def unsubscribe_url(settings: Settings, user_id: int) -> str:
    """The one-click unsubscribe of SPEC §13 (RFC 8058): a POST of `List-Unsubscribe=One-Click`
    to it turns off the user's reminders and event changes; tests follow it to the route."""
    token = unsubscribe_token(settings, user_id)
    return f"{settings.public_url}/api/v1/users/unsubscribe?token={token}"


def message_id(notification_id: int, settings: Settings) -> str:
    # The same for every attempt at one notification, so that a message sent twice around a
    # worker's crash is recognisable as one by mail clients.
    domain = parseaddr(settings.email_from)[1].rpartition("@")[2] or "boxoffice.invalid"
    return f"<notification-{notification_id}@{domain}>"


# Control characters, line breaks among them, and Unicode's line and paragraph separators.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def in_line(text: str) -> str:
    """Text that stays on the line it is put on: each run of line breaks and other control
    characters one space; the rest as written."""
    return _BREAKS.sub(" ", text)


def one_line(text: str) -> str:
    """Text for a header: on one line, runs of spaces one, none at either end."""
    return " ".join(in_line(text).split())


# What structures an address header, RFC 5322's "specials".
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


def recipient(user: User) -> Address:
    """The To: of a message to `user`. The domain goes in punycode, which every server takes.
    The name is anyone's to choose: one line, and quoted or RFC 2047-encoded by the header's
    policy, so it stays a name."""
    mailbox, _, domain = user.email.rpartition("@")
    name = one_line(user.full_name)
    if not mailbox.isascii():
        # Sent with SMTPUTF8, where the standard library writes a non-ASCII name raw and
        # drops its quotes: a comma in it would make a second address.
        name = one_line(_SPECIALS.sub(" ", name))
    return Address(display_name=name, username=mailbox, domain=_ascii_domain(domain))


@lru_cache(maxsize=1024)
def _ascii_domain(domain: str) -> str:
    return domain if domain.isascii() else idna.encode(domain, uts46=True).decode("ascii")


def subject_of(notification: Notification, event: Event) -> str:
    """The message's subject, from the event as it is now."""
    return _SUBJECTS[notification.kind].format(
        title=one_line(event.title),
        starts=local_time(event.starts_at, event.timezone),
        position=(notification.payload or {}).get("position"),
    )


def render(outgoing: Outgoing, settings: Settings, *, now: datetime | None = None) -> EmailMessage:
    notification, user, event = outgoing.notification, outgoing.user, outgoing.event
    booking = outgoing.booking
    kind = notification.kind
    context = (
        _account_context(notification, settings)
        if event is None
        else _event_context(outgoing, event, settings)
    )
    context["user"] = user
    subject = context["subject"]

    message = EmailMessage()
    message["From"] = _shared("From", settings.email_from)
    message["To"] = recipient(user)
    message["Subject"] = _shared("Subject", subject)
    message["Date"] = _shared("Date", format_datetime(now or datetime.now(UTC)))
    message["Message-ID"] = message_id(notification.id, settings)
    message[KIND_HEADER] = _shared(KIND_HEADER, kind.value)
    message["Auto-Submitted"] = _shared("Auto-Submitted", "auto-generated")
    message["MIME-Version"] = _shared("MIME-Version", "1.0")
    if kind not in _ACCOUNT_LINKS:
        message["List-Unsubscribe"] = _Verbatim(
            "List-Unsubscribe", f"<{unsubscribe_url(settings, user.id)}>"
        )
        message["List-Unsubscribe-Post"] = _shared(
            "List-Unsubscribe-Post", "List-Unsubscribe=One-Click"
        )
    plain = _templates(plain=True).get_template(f"{kind.value}.txt")
    html = _templates(plain=False).get_template(f"{kind.value}.html")
    text = [_text_part(plain.render(context), "plain"), _text_part(html.render(context), "html")]
    if kind not in _WITH_CALENDAR or event is None:
        return _multipart(message, "alternative", text)
    attached = [_calendar_part(calendar_file(event), f"event-{event.id}.ics")]
    if kind in _CONFIRMING and context["confirmed"]:
        assert booking is not None  # confirmed says so
        attached += [_ticket_part(ticket.code) for ticket in booking.tickets]
    return _multipart(
        message, "mixed", [_multipart(EmailMessage(), "alternative", text), *attached]
    )


def _event_context(outgoing: Outgoing, event: Event, settings: Settings) -> dict[str, Any]:
    notification, booking = outgoing.notification, outgoing.booking
    payload = notification.payload or {}
    starts = local_time(event.starts_at, event.timezone)
    # Only a confirmed booking's codes admit anyone: a hold's, an offer's or a cancelled
    # booking's are not shown.
    confirmed = booking is not None and booking.status is BookingStatus.CONFIRMED
    context: dict[str, Any] = {
        "event": event,
        "booking": booking,
        "confirmed": confirmed,
        "starts": starts,
        "ends": None if event.ends_at is None else local_time(event.ends_at, event.timezone),
        "position": payload.get("position"),
        "changed": [NOTEWORTHY_FIELDS.get(f, f) for f in payload.get("changed", [])],
        "changes": _changes(payload, event),
        # Until when a hold or an offer keeps its seats.
        "deadline": (
            None
            if booking is None or booking.expires_at is None
            else local_time(booking.expires_at, event.timezone)
        ),
        "booking_url": None if booking is None else booking_url(settings, booking.id),
        "payment": _payment(payload),
    }
    subject = subject_of(notification, event)
    context["subject"] = subject
    return context


@dataclass(frozen=True)
class _Change:
    """A changed field of an event as its `event_changed` message shows it: was, and is now."""

    label: str
    before: str
    after: str


_MOMENTS = {"starts_at", "ends_at"}
# What each line of "what changed" is called, in the order the lines come.
_CHANGE_LABELS = {
    "starts_at": "Starts",
    "ends_at": "Ends",
    "location": "Where",
    "timezone": "Time zone",
}


def _changes(payload: dict[str, Any], event: Event) -> list[_Change]:
    """The fields an `event_changed` names, from the values before the first edit of its burst
    (outbox.event_changed keeps them) to the event's now; times each in the zone it was then
    and is now. A row from before the values were kept shows no lines, only the names."""
    before: dict[str, str | None] = payload.get("before", {})
    named = set(payload.get("changed", []))
    return [
        _Change(
            label,
            _shown(field, before[field], before.get("timezone") or event.timezone),
            _shown(field, getattr(event, field), event.timezone),
        )
        for field, label in _CHANGE_LABELS.items()
        if field in named and field in before
    ]


def _shown(field: str, value: datetime | str | None, zone_name: str) -> str:
    if value is None:
        return "none"
    if field in _MOMENTS:
        # The payload keeps a moment in ISO 8601, the event as a datetime.
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return local_time(moment, zone_name)
    return str(value)


def _account_context(notification: Notification, settings: Settings) -> dict[str, Any]:
    path, purpose = _ACCOUNT_LINKS[notification.kind]
    token = account_token(settings, (notification.payload or {})["seed"])
    return {
        "subject": _SUBJECTS[notification.kind],
        "link": f"{settings.public_url}{path}#token={token}",
        "hours": TOKEN_VALIDITY[purpose] // timedelta(hours=1),
    }


# The mail worker runs in the server's processes, and rendering was most of its cost: the
# standard library parses every header it is given, and picks each text part's encoding by
# trying two. Here the encoding is fixed, and what many messages have in common (the sender, an
# event's subject, the second they were sent in, its calendar file, every part's headers) is
# made once. Parts and headers are not changed once made (sending writes them out, it does not
# alter them), so messages can share them.


@lru_cache(maxsize=256)
def _shared(name: str, value: str) -> BaseHeader:
    return email.policy.default.header_factory(name, value)  # type: ignore[no-any-return]


class _Verbatim(str):
    """A header written as it is given, on one line. The standard library would fold a long
    unstructured value, and one without spaces, such as a URL, it folds into RFC 2047
    encoded words, which no mail client reads back as a URL."""

    name: str

    def __new__(cls, name: str, value: str) -> "_Verbatim":
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: email.policy.Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


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
