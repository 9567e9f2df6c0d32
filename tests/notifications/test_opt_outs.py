"""Reminders and event changes go only to those who still want them (SPEC §13); bookings,
payments and cancellations go to everyone."""

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.notifications import outbox
from boxoffice.notifications.models import NotificationKind, NotificationStatus
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.factories import make_event, make_user
from tests.notifications.smtp import Mailbox
from tests.notifications.support import Clock, due_now, make_booking, was
from tests.notifications.support import outbox as read_outbox


async def _booked(db: AsyncSession, **wishes: bool) -> User:
    """A user with a confirmed booking three days ahead, its confirmation and reminder queued,
    and an edit's `event_changed` due now."""
    event = await make_event(
        db, await make_user(db, role=Role.ORGANIZER), starts_in=timedelta(days=3)
    )
    user = await make_user(db, email_verified=True)
    booking = await make_booking(db, event, user)
    await outbox.booking_confirmed(db, booking)
    await outbox.event_changed(db, event, was(event, location="Old Hall"))
    for name, value in wishes.items():
        setattr(user, name, value)
    await db.commit()
    await due_now(db, NotificationKind.EVENT_CHANGED)
    return user


async def _send_all(app: FastAPI, settings: Settings) -> None:
    """Sends everything, the reminder included: its moment is two days ahead, and the event,
    three days ahead, has not begun by then (a reminder of what has begun is dropped)."""
    clock = Clock()
    clock.advance(days=2, hours=12)
    await Worker(settings, app.state.sessionmaker, clock=clock, name="test-worker").run_once()


async def _statuses(db: AsyncSession) -> dict[NotificationKind, NotificationStatus]:
    return {row.kind: row.status for row in await read_outbox(db)}


async def test_without_reminders_the_booking_and_its_changes_arrive_but_no_reminder(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _booked(db, notify_reminders=False)

    await _send_all(app, smtp_settings)

    kinds = sorted(m["X-Boxoffice-Kind"] for m in mailbox.wait_for(2))
    assert kinds == ["booking_confirmed", "event_changed"]
    assert (await _statuses(db))[NotificationKind.REMINDER] is NotificationStatus.CANCELLED


async def test_without_changes_the_booking_and_its_reminder_arrive_but_no_change(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _booked(db, notify_changes=False)

    await _send_all(app, smtp_settings)

    kinds = sorted(m["X-Boxoffice-Kind"] for m in mailbox.wait_for(2))
    assert kinds == ["booking_confirmed", "reminder"]
    assert (await _statuses(db))[NotificationKind.EVENT_CHANGED] is NotificationStatus.CANCELLED


async def test_cancellations_arrive_with_both_turned_off(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _booked(db, notify_reminders=False, notify_changes=False)
    (event_id,) = {row.event_id for row in await read_outbox(db)}
    assert event_id is not None
    await outbox.event_cancelled(db, event_id)
    await db.commit()

    await _send_all(app, smtp_settings)

    kinds = sorted(m["X-Boxoffice-Kind"] for m in mailbox.wait_for(2))
    assert kinds == ["booking_confirmed", "event_cancelled"]
