"""A message claimed by a worker just before its recipient erased the account is not sent: the
worker reads the message's status and the address again when it loads the batch."""

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts import service as accounts
from boxoffice.events.models import Event
from boxoffice.notifications import outbox
from boxoffice.notifications.models import NotificationStatus
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import make_event, make_user
from tests.notifications.smtp import Mailbox
from tests.notifications.support import Clock, make_booking
from tests.notifications.support import outbox as read_outbox


async def test_a_message_claimed_before_the_erasure_is_dropped_not_sent(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    admin = await make_user(db, role=Role.ADMIN)
    person = await make_user(db, email="gone@example.com")
    event = await make_event(db, organizer)
    booking = await make_booking(db, event, person)
    # Arranged without the ledger: the seats it holds, as a booking through it would count them.
    await db.execute(update(Event).where(Event.id == event.id).values(seats_booked=booking.seats))
    await outbox.booking_confirmed(db, booking)
    await db.commit()
    worker = Worker(smtp_settings, app.state.sessionmaker, clock=Clock(), name="test-worker")
    claimed = await worker._claim("test-worker:1")

    await accounts.erase_by_admin(db, admin, person.id)
    await db.commit()
    outcomes = [await worker._attempt(item) for item in await worker._load(claimed)]
    await worker._record("test-worker:1", outcomes)

    assert [o.dropped for o in outcomes] == [True]
    assert mailbox.messages == []
    assert {n.status for n in await read_outbox(db)} == {NotificationStatus.CANCELLED}
