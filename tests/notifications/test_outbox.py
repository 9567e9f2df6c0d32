"""The outbox: each change writes its messages in its own transaction, compactly."""

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import BookingStatus
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.notifications import outbox
from boxoffice.notifications.models import NotificationKind, NotificationStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import make_event, make_user
from tests.notifications.support import booking_ids, close_to, make_booking, was
from tests.notifications.support import outbox as read_outbox

CONFIRMED, WAITLISTED, CANCELLED = (
    BookingStatus.CONFIRMED,
    BookingStatus.WAITLISTED,
    BookingStatus.CANCELLED,
)
REMINDER = NotificationKind.REMINDER
PENDING = NotificationStatus.PENDING


async def _event(db: AsyncSession, *, starts_in: timedelta = timedelta(days=7)) -> Event:
    return await make_event(db, await make_user(db, role=Role.ORGANIZER), starts_in=starts_in)


async def test_confirmed_booking_writes_its_confirmation_and_a_reminder_lead_time_before_start(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, starts_in=timedelta(days=3))
    booking = await make_booking(db, event)

    await outbox.booking_confirmed(db, booking)
    await db.commit()

    confirmation, reminder = await read_outbox(db)
    assert confirmation.kind is NotificationKind.BOOKING_CONFIRMED
    assert (confirmation.user_id, confirmation.booking_id, confirmation.event_id) == (
        booking.user_id,
        booking.id,
        event.id,
    )
    assert confirmation.status is PENDING
    assert confirmation.attempts == 0
    assert confirmation.due_at <= utcnow()
    assert reminder.kind is REMINDER
    assert reminder.booking_id == booking.id
    lead = timedelta(minutes=settings.reminder_lead_minutes)
    assert close_to(reminder.due_at, event.starts_at - lead)


async def test_booking_made_after_the_reminder_moment_gets_no_reminder(db: AsyncSession) -> None:
    event = await _event(db, starts_in=timedelta(hours=3))
    booking = await make_booking(db, event)

    await outbox.booking_confirmed(db, booking)
    await db.commit()

    assert [n.kind for n in await read_outbox(db)] == [NotificationKind.BOOKING_CONFIRMED]


async def test_a_rolled_back_change_leaves_nothing_to_send(db: AsyncSession) -> None:
    event = await _event(db)
    booking = await make_booking(db, event)

    await outbox.booking_confirmed(db, booking)
    await outbox.event_cancelled(db, event.id)
    await db.rollback()

    assert await read_outbox(db) == []


async def test_waitlist_joined_remembers_the_position_at_joining(db: AsyncSession) -> None:
    event = await _event(db)
    await make_booking(db, event, status=WAITLISTED)
    await make_booking(db, event, status=CANCELLED)
    third = await make_booking(db, event, status=WAITLISTED)

    await outbox.waitlist_joined(db, third)
    await db.commit()

    (joined,) = await read_outbox(db)
    assert joined.kind is NotificationKind.WAITLIST_JOINED
    assert joined.payload == {"position": 2}


async def test_payloads_are_stored_as_compact_json_text_by_either_kind_of_insert(
    db: AsyncSession,
) -> None:
    event = await _event(db)
    waiting = await make_booking(db, event, status=WAITLISTED)

    await outbox.waitlist_joined(db, waiting)
    await outbox.event_changed(db, event, was(event, location="Old Hall", timezone="Asia/Tokyo"))
    await db.commit()

    stored = await db.scalars(text("SELECT payload FROM notifications ORDER BY id"))
    position, changed = stored.all()
    assert position == '{"position":1}'
    assert changed.startswith('{"changed":["location","timezone"],"before":{"starts_at":"')
    assert ", " not in changed
    assert ": " not in changed


async def test_promotions_write_one_message_and_one_reminder_per_booking(
    db: AsyncSession,
) -> None:
    event = await _event(db, starts_in=timedelta(days=5))
    promoted = [await make_booking(db, event) for _ in range(3)]
    untouched = await make_booking(db, event)

    await outbox.waitlist_promoted(db, [b.id for b in promoted])
    await db.commit()

    rows = await read_outbox(db)
    told = {n.booking_id for n in rows if n.kind is NotificationKind.WAITLIST_PROMOTED}
    reminded = {n.booking_id for n in rows if n.kind is REMINDER}
    assert told == reminded == {b.id for b in promoted}
    assert untouched.id not in told
    assert len(rows) == 6


async def test_cancelled_booking_is_told_and_its_reminder_dropped(db: AsyncSession) -> None:
    event = await _event(db)
    booking, other = await make_booking(db, event), await make_booking(db, event)
    await outbox.booking_confirmed(db, booking)
    await outbox.booking_confirmed(db, other)
    await db.commit()

    await outbox.booking_cancelled(db, booking)
    await db.commit()

    assert len(await read_outbox(db, NotificationKind.BOOKING_CANCELLED)) == 1
    reminders = {n.booking_id: n.status for n in await read_outbox(db, REMINDER)}
    assert reminders == {booking.id: NotificationStatus.CANCELLED, other.id: PENDING}


async def test_event_cancellation_tells_every_holder_once_and_drops_the_reminders(
    db: AsyncSession,
) -> None:
    event = await _event(db)
    holders = [await make_booking(db, event) for _ in range(25)]
    holders += [await make_booking(db, event, status=WAITLISTED) for _ in range(5)]
    await make_booking(db, event, status=CANCELLED)
    other_event = await _event(db)
    elsewhere = await make_booking(db, other_event)
    await outbox.booking_confirmed(db, holders[0])
    await outbox.booking_confirmed(db, elsewhere)
    await db.commit()

    await outbox.event_cancelled(db, event.id)
    await db.commit()

    told = await read_outbox(db, NotificationKind.EVENT_CANCELLED)
    assert booking_ids(told) == sorted(b.id for b in holders)
    assert await read_outbox(db, NotificationKind.BOOKING_CANCELLED) == []
    reminders = {n.booking_id: n.status for n in await read_outbox(db, REMINDER)}
    assert reminders == {holders[0].id: NotificationStatus.CANCELLED, elsewhere.id: PENDING}


async def test_an_edit_of_the_title_or_capacity_writes_nothing(db: AsyncSession) -> None:
    event = await _event(db)
    await make_booking(db, event)

    await outbox.event_changed(db, event, outbox.noteworthy(event))
    await db.commit()

    assert await read_outbox(db) == []


async def test_a_new_place_tells_every_holder_and_leaves_the_reminders(db: AsyncSession) -> None:
    event = await _event(db)
    booking = await make_booking(db, event)
    await make_booking(db, event, status=WAITLISTED)
    await outbox.booking_confirmed(db, booking)
    await db.commit()
    (before,) = await read_outbox(db, REMINDER)

    await outbox.event_changed(db, event, was(event, location="Old Hall"))
    await db.commit()

    changed = await read_outbox(db, NotificationKind.EVENT_CHANGED)
    assert len(changed) == 2
    assert changed[0].payload is not None
    assert changed[0].payload["changed"] == ["location"]
    (after,) = await read_outbox(db, REMINDER)
    assert after.due_at == before.due_at


async def test_a_moved_start_moves_every_pending_reminder(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, starts_in=timedelta(days=5))
    bookings = [await make_booking(db, event) for _ in range(4)]
    for booking in bookings:
        await outbox.booking_confirmed(db, booking)
    await db.commit()

    before = outbox.noteworthy(event)

    event.starts_at += timedelta(days=2)
    await outbox.event_changed(db, event, before)
    await db.commit()

    moment = event.starts_at - timedelta(minutes=settings.reminder_lead_minutes)
    reminders = await read_outbox(db, REMINDER)
    assert len(reminders) == 4
    assert all(r.status is PENDING and close_to(r.due_at, moment) for r in reminders)
    assert len(await read_outbox(db, NotificationKind.EVENT_CHANGED)) == 4


async def test_a_start_moved_so_close_that_the_moment_passed_drops_the_reminders(
    db: AsyncSession,
) -> None:
    event = await _event(db, starts_in=timedelta(days=5))
    booking = await make_booking(db, event)
    await outbox.booking_confirmed(db, booking)
    await db.commit()

    before = outbox.noteworthy(event)

    event.starts_at = utcnow() + timedelta(hours=2)
    await outbox.event_changed(db, event, before)
    await db.commit()

    (reminder,) = await read_outbox(db, REMINDER)
    assert reminder.status is NotificationStatus.CANCELLED
    assert len(await read_outbox(db, NotificationKind.EVENT_CHANGED)) == 1


async def test_when_the_moment_returns_every_confirmed_booking_has_one_reminder_again(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, starts_in=timedelta(hours=5))
    # Booked after the reminder moment: no reminder.
    late = await make_booking(db, event)
    waiting = await make_booking(db, event, status=WAITLISTED)
    await outbox.booking_confirmed(db, late)
    await db.commit()
    assert await read_outbox(db, REMINDER) == []

    before = outbox.noteworthy(event)

    event.starts_at = utcnow() + timedelta(days=3)
    await outbox.event_changed(db, event, before)
    await outbox.event_changed(db, event, before)
    await db.commit()

    (reminder,) = await read_outbox(db, REMINDER)
    assert (reminder.booking_id, reminder.status) == (late.id, PENDING)
    moment = event.starts_at - timedelta(minutes=settings.reminder_lead_minutes)
    assert close_to(reminder.due_at, moment)
    assert waiting.id not in {r.booking_id for r in await read_outbox(db, REMINDER)}


async def test_a_reminder_being_sent_while_the_start_moves_keeps_its_moment_and_a_new_one_follows(
    db: AsyncSession, settings: Settings
) -> None:
    event = await _event(db, starts_in=timedelta(days=5))
    booking = await make_booking(db, event)
    await outbox.booking_confirmed(db, booking)
    await db.commit()
    (in_flight,) = await read_outbox(db, REMINDER)
    in_flight.claimed_by, in_flight.claimed_until = "a worker", utcnow() + timedelta(minutes=2)
    await db.commit()
    old_moment = in_flight.due_at

    before = outbox.noteworthy(event)

    event.starts_at += timedelta(days=1)
    await outbox.event_changed(db, event, before)
    await db.commit()

    first, second = await read_outbox(db, REMINDER)
    assert first.due_at == old_moment
    moment = event.starts_at - timedelta(minutes=settings.reminder_lead_minutes)
    assert (second.booking_id, second.status) == (booking.id, PENDING)
    assert close_to(second.due_at, moment)
