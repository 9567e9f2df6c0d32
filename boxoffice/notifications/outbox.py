"""The outbox: what the booking and event rules call when a change must be told to someone.

Every function writes rows in the caller's session, in the caller's transaction, and never
commits: a change that rolls back sends nothing, one that commits sends each message once (the
worker does the sending, later, outside any request). Rows are compact and rendered at send
time, so that an event's cancellation with thousands of bookings is one INSERT ... SELECT.

Reminders are rows of kind `reminder`, due at the event's start minus the reminder lead time.
The rule they keep: every confirmed booking has one pending reminder while that moment is in the
future, and none once it has passed; a booking confirmed after the moment gets none. When the
start moves, one UPDATE moves every pending reminder of the event (or drops them, when the new
moment has already passed: the `event_changed` message, sent at once, tells the new start), and
when the new moment is in the future, one INSERT ... SELECT gives a reminder to each confirmed
booking that has none pending (a booking made after the old moment, a reminder dropped or
already sent for the old start). A booking that pays for its seats (pending, or expired and
taken again by a late payment) is confirmed with `payment_received`, which gives it its reminder
as `booking_confirmed` does; a pending booking or an open offer has none.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Insert, exists, insert, literal, or_, select
from sqlalchemy import update as update_rows
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import ACTIVE_STATUSES, WAITLIST_POSITION, Booking, BookingStatus
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.notifications.models import (
    NOTEWORTHY_FIELDS,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from boxoffice.payments.models import Payment, Refund
from boxoffice.settings import Settings

_DEFAULT_LEAD_MINUTES: int = Settings.model_fields["reminder_lead_minutes"].default


def reminder_lead(session: AsyncSession) -> timedelta:
    """BOXOFFICE_REMINDER_LEAD_MINUTES, from the settings the session's maker was given."""
    settings = session.info.get("settings")
    minutes = settings.reminder_lead_minutes if settings is not None else _DEFAULT_LEAD_MINUTES
    return timedelta(minutes=minutes)


async def booking_confirmed(session: AsyncSession, booking: Booking) -> None:
    """A booking was confirmed on creation: the confirmation, and its reminder if still due."""
    confirmation = _row(NotificationKind.BOOKING_CONFIRMED, booking)
    await _write(session, [confirmation, *await _reminder(session, booking)])


async def waitlist_joined(session: AsyncSession, booking: Booking) -> None:
    """A booking joined the waiting list; its position now goes into the message."""
    position = booking.waitlist_position
    if position is None:
        ahead = select(WAITLIST_POSITION).where(Booking.id == booking.id)
        position = int((await session.execute(ahead)).scalar_one())
    row = _row(NotificationKind.WAITLIST_JOINED, booking, payload={"position": position})
    await _write(session, [row])


async def waitlist_promoted(session: AsyncSession, booking_ids: Sequence[int]) -> None:
    """Waitlisted bookings were confirmed (just now, in this transaction): one message each,
    and their reminders, in a statement per event rather than per booking."""
    if not booking_ids:
        return
    chosen = Booking.id.in_(booking_ids)
    await session.execute(_from_bookings(NotificationKind.WAITLIST_PROMOTED, chosen))
    events = await session.execute(
        select(Event.id, Event.starts_at).where(
            Event.id.in_(select(Booking.event_id).where(chosen))
        )
    )
    lead, now = reminder_lead(session), utcnow()
    for event_id, starts_at in events.all():
        if starts_at - lead > now:
            await session.execute(
                _from_bookings(
                    NotificationKind.REMINDER,
                    chosen,
                    Booking.event_id == event_id,
                    Booking.status == BookingStatus.CONFIRMED,
                    due_at=starts_at - lead,
                )
            )


async def booking_cancelled(session: AsyncSession, booking: Booking) -> None:
    """An active booking (pending, offered, confirmed, waitlisted) was cancelled by its holder
    or an admin (not by its event's cancellation: that is `event_cancelled`). Its reminder is
    dropped. A refund, if it was paid, is `payment_refunded`'s to tell."""
    await _write(session, [_row(NotificationKind.BOOKING_CANCELLED, booking)])
    await _drop_reminders(session, Notification.booking_id == booking.id)


async def event_cancelled(session: AsyncSession, event_id: int) -> None:
    """The event is being cancelled or deleted. Call it BEFORE its bookings are cancelled: it
    writes one message per active booking (holds and offers too: their seats go as well), in
    one statement, and drops every pending reminder of the event in another."""
    await session.execute(
        _from_bookings(
            NotificationKind.EVENT_CANCELLED,
            Booking.event_id == event_id,
            Booking.status.in_(ACTIVE_STATUSES),
        )
    )
    await _drop_reminders(session, Notification.event_id == event_id)


# Edits of one event within this long make one `event_changed` per holder (SPEC §13).
CHANGE_BURST = timedelta(minutes=10)


def noteworthy(event: Event) -> dict[str, str | None]:
    """The event's values that are news to its holders, as a message's payload keeps them."""
    values = {field: getattr(event, field) for field in NOTEWORTHY_FIELDS}
    return {
        field: value.isoformat() if isinstance(value, datetime) else value
        for field, value in values.items()
    }


async def event_changed(
    session: AsyncSession, event: Event, before: Mapping[str, str | None]
) -> None:
    """The event was edited (under its row lock); `event` holds its new values and `before`
    its `noteworthy` values from before the edit. A new start, end, place or time zone is news:
    every holder of an active booking gets `event_changed` (one still to pay or accept wants
    to know what it is paying for), and a new start moves the reminders.

    The message waits CHANGE_BURST after the first edit, so that the edits that follow fold
    into it: a holder's unsent message of this burst (written less than CHANGE_BURST ago, not
    claimed by a worker) keeps the values from before the burst and is told the fields that
    differ from them now, none if the event is back as it was (the worker then drops it). A
    holder whose message a worker has claimed or sent gets a new one. The worker's claim skips
    rows this transaction has updated, and this UPDATE skips rows a worker has claimed.
    """
    after = noteworthy(event)
    if after == before:
        return
    now = utcnow()
    soonest = min(event.starts_at, datetime.fromisoformat(str(before["starts_at"])))
    # A change close to the start is not held past the moment it is still useful.
    due = min(now + CHANGE_BURST, max(now, soonest - CHANGE_BURST))
    unsent = (
        Notification.event_id == event.id,
        Notification.kind == NotificationKind.EVENT_CHANGED,
        Notification.status == NotificationStatus.PENDING,
        Notification.created_at > now - CHANGE_BURST,
        or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
    )
    # One INSERT ... SELECT writes a burst's rows with one created_at and payload: a group.
    bursts = await session.execute(
        select(Notification.created_at, Notification.payload, Notification.due_at)
        .where(*unsent)
        .distinct()
    )
    for created_at, payload, due_at in bursts.all():
        first = (payload or {}).get("before", before)
        await session.execute(
            update_rows(Notification)
            .where(*unsent, Notification.created_at == created_at)
            .values(payload=_changes(first, after), due_at=min(due_at, due))
        )
    has_one = exists().where(Notification.booking_id == Booking.id, *unsent)
    await session.execute(
        _from_bookings(
            NotificationKind.EVENT_CHANGED,
            Booking.event_id == event.id,
            Booking.status.in_(ACTIVE_STATUSES),
            ~has_one,
            payload=_changes(before, after),
            due_at=due,
        )
    )
    if after["starts_at"] != before["starts_at"]:
        await _move_reminders(session, event.id, event.starts_at - reminder_lead(session))


def _changes(
    before: Mapping[str, str | None], after: Mapping[str, str | None]
) -> dict[str, object]:
    changed = sorted(field for field in NOTEWORTHY_FIELDS if before.get(field) != after[field])
    return {"changed": changed, "before": dict(before)}


async def booking_pending(session: AsyncSession, booking: Booking) -> None:
    """A booking holds its seats until `expires_at`, waiting for payment (made so, or an offer
    accepted): what to pay, by when, and where. The amount, lines and deadline are read when
    the message is sent, so a hold lengthened meanwhile (manual payment) shows its new end."""
    await _write(session, [_row(NotificationKind.BOOKING_PENDING, booking)])


async def bookings_expired(session: AsyncSession, booking_ids: Collection[int]) -> None:
    """Holds (pending bookings, offers) ended unpaid or unaccepted and their seats went back:
    one message per booking, in one statement."""
    if booking_ids:
        await session.execute(
            _from_bookings(NotificationKind.BOOKING_EXPIRED, Booking.id.in_(booking_ids))
        )


async def waitlist_offered(session: AsyncSession, booking_ids: Collection[int]) -> None:
    """Waitlisted bookings were offered their seats until their `expires_at`: one message per
    booking, in one statement, with the deadline and where to accept or decline."""
    if booking_ids:
        await session.execute(
            _from_bookings(NotificationKind.WAITLIST_OFFER, Booking.id.in_(booking_ids))
        )


async def payment_received(session: AsyncSession, booking: Booking, payment: Payment) -> None:
    """`payment` confirmed `booking`, which is confirmed now (call this after its status is
    set): the receipt, which is its confirmation, and its reminder if still due."""
    details = {
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
        "provider": payment.provider,
        "reference": payment.reference,
    }
    rows = [_row(NotificationKind.PAYMENT_RECEIVED, booking, payload=details)]
    if booking.status is BookingStatus.CONFIRMED:
        rows += await _reminder(session, booking)
    await _write(session, rows)


async def payment_refunded(session: AsyncSession, booking: Booking, refund: Refund) -> None:
    """`refund` gives back a payment for `booking`: how much, why, and who pays it back."""
    payment = await session.get(Payment, refund.payment_id)
    if payment is None:
        raise LookupError(f"there is no payment {refund.payment_id}")
    details = {
        "amount_minor": refund.amount_minor,
        "currency": refund.currency,
        "reason": str(refund.reason),
        "provider": payment.provider,
        "reference": payment.reference,
    }
    await _write(session, [_row(NotificationKind.PAYMENT_REFUNDED, booking, payload=details)])


async def account_link(
    session: AsyncSession, kind: NotificationKind, user_id: int, *, seed: str
) -> None:
    """A `verify_email` or `password_reset` message to the user: the link's token is made from
    `seed` when the message is rendered (auth.tokens.account_token), so no row holds it."""
    row = {"user_id": user_id, "event_id": None, "booking_id": None}
    await _write(session, [row | _fresh(kind, {"seed": seed}, None)])


async def _reminder(session: AsyncSession, booking: Booking) -> list[dict[str, object]]:
    """The reminder row of a booking confirmed just now; none once its moment has passed."""
    moment = await _starts_at(session, booking.event_id) - reminder_lead(session)
    if moment <= utcnow():
        return []
    return [_row(NotificationKind.REMINDER, booking, due_at=moment)]


async def _move_reminders(session: AsyncSession, event_id: int, moment: datetime) -> None:
    now = utcnow()
    if moment <= now:
        await _drop_reminders(session, Notification.event_id == event_id)
        return
    # A reminder a worker is sending right now (its lease runs) counts as sent: it keeps its
    # moment, and its booking gets a new reminder for the new one.
    pending = (
        Notification.event_id == event_id,
        Notification.kind == NotificationKind.REMINDER,
        Notification.status == NotificationStatus.PENDING,
        or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
    )
    await session.execute(update_rows(Notification).where(*pending).values(due_at=moment))
    has_one = exists().where(Notification.booking_id == Booking.id, *pending)
    await session.execute(
        _from_bookings(
            NotificationKind.REMINDER,
            Booking.event_id == event_id,
            Booking.status == BookingStatus.CONFIRMED,
            ~has_one,
            due_at=moment,
        )
    )


async def _drop_reminders(session: AsyncSession, which: ColumnElement[bool]) -> None:
    await session.execute(
        update_rows(Notification)
        .where(
            which,
            Notification.kind == NotificationKind.REMINDER,
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.CANCELLED)
    )


async def _starts_at(session: AsyncSession, event_id: int) -> datetime:
    # Usually already in the session (the booking rules read the event): no query then.
    event = await session.get(Event, event_id)
    if event is None:
        raise LookupError(f"there is no event {event_id}")
    return event.starts_at


# Of the table, not the entity: the ORM's bulk INSERT would add its bookkeeping to every call.
_INSERT = insert(Notification.metadata.tables[Notification.__tablename__])


async def _write(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    # Rows given apart from the statement: SQLAlchemy compiles it once and still sends one
    # multi-row INSERT, where `.values(rows)` would be compiled again on every call.
    await session.execute(_INSERT, rows)


# A message's columns that come from its booking, and the booking's attribute for each.
_OF_BOOKING = {"user_id": "user_id", "event_id": "event_id", "booking_id": "id"}


def _fresh(
    kind: NotificationKind, payload: dict[str, object] | None, due_at: datetime | None
) -> dict[str, object]:
    """The columns of a new message that are the same for every booking it is written for."""
    now = utcnow()
    return {
        "kind": kind,
        "payload": payload,
        "status": NotificationStatus.PENDING,
        "attempts": 0,
        "due_at": due_at or now,
        "created_at": now,
    }


def _row(
    kind: NotificationKind,
    booking: Booking,
    *,
    payload: dict[str, object] | None = None,
    due_at: datetime | None = None,
) -> dict[str, object]:
    of_booking = {column: getattr(booking, name) for column, name in _OF_BOOKING.items()}
    return of_booking | _fresh(kind, payload, due_at)


def _from_bookings(
    kind: NotificationKind,
    *where: ColumnElement[bool],
    payload: dict[str, object] | None = None,
    due_at: datetime | None = None,
) -> Insert:
    """INSERT ... SELECT: one message of this kind for each booking that matches `where`."""
    fresh = _fresh(kind, payload, due_at)
    columns = Notification.__table__.c
    rows = select(
        *(getattr(Booking, name) for name in _OF_BOOKING.values()),
        # Typed as their columns, so that each value is stored as a row of _row would be.
        *(literal(value, columns[column].type) for column, value in fresh.items()),
    ).where(*where)
    return insert(Notification).from_select([*_OF_BOOKING, *fresh], rows)
