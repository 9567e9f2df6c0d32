"""Real worker processes: several at once send each message once; a killed one loses nothing."""

import asyncio
import time
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.bookings.tickets import new_ticket_code
from boxoffice.db import utcnow
from boxoffice.notifications import outbox
from boxoffice.notifications.models import Notification, NotificationStatus
from boxoffice.users.models import Role, User
from tests.factories import make_event, make_user
from tests.notifications.processes import running_workers, worker_env
from tests.notifications.smtp import SmtpServer
from tests.servers import running_server


async def _queue(db: AsyncSession, count: int) -> list[int]:
    """`count` event_cancelled messages, written the way an event's cancellation writes them."""
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=count)
    first = (await db.execute(select(func.coalesce(func.max(User.id), 0)))).scalar_one()
    await db.execute(
        insert(User),
        [
            {
                "email": f"holder{first + n}@example.com",
                "full_name": f"Holder {n}",
                "password_hash": "not-a-hash",
                "role": Role.ATTENDEE,
                "is_active": True,
                "email_verified": True,
                "created_at": utcnow(),
            }
            for n in range(count)
        ],
    )
    holders = (await db.scalars(select(User.id).where(User.id > first))).all()
    await db.execute(
        insert(Booking),
        [
            {
                "event_id": event.id,
                "user_id": holder,
                "seats": 1,
                "status": BookingStatus.CONFIRMED,
                "active": True,
                "ticket_code": new_ticket_code(),
                "created_at": utcnow(),
            }
            for holder in holders
        ],
    )
    await outbox.event_cancelled(db, event.id)
    await db.commit()
    ids = list((await db.scalars(select(Notification.id))).all())
    assert len(ids) == count
    return ids


async def _wait_until_all_sent(db: AsyncSession, ids: Sequence[int], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sent = await db.scalar(
            select(func.count()).where(
                Notification.id.in_(ids), Notification.status == NotificationStatus.SENT
            )
        )
        await db.commit()
        if sent == len(ids):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {sent} of {len(ids)} messages were sent within {seconds} s")


async def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition did not come true in time")


def _expected_ids(ids: Sequence[int]) -> set[str]:
    return {f"<notification-{i}@boxoffice.test>" for i in ids}


@pytest.mark.engines("postgresql", "mariadb", "sqlite")
async def test_three_workers_send_200_queued_messages_exactly_once_each(
    database_url: str, db: AsyncSession, smtp_server: SmtpServer
) -> None:
    ids = await _queue(db, 200)

    # Small batches and short polls: many claims, so that workers often claim at the same time.
    env = worker_env(
        database_url, smtp_server.port, worker_batch_size="4", worker_poll_seconds="0.01"
    )
    with running_workers(env, count=3) as workers:
        await _wait_until_all_sent(db, ids)
        statuses = [worker.stop() for worker in workers]

    delivered = smtp_server.mailbox.message_ids()
    assert set(delivered) == _expected_ids(ids)
    assert set(delivered.values()) == {1}
    assert statuses == [0, 0, 0]
    attempts = (await db.scalars(select(Notification.attempts))).all()
    assert set(attempts) == {1}


@pytest.mark.engines("postgresql", "mariadb", "sqlite")
async def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing(
    database_url: str, db: AsyncSession, smtp_server: SmtpServer
) -> None:
    ids = await _queue(db, 30)
    mailbox = smtp_server.mailbox
    mailbox.stall()
    env = worker_env(database_url, smtp_server.port, worker_lease_seconds="2")

    with running_workers(env, count=1) as (doomed,):
        # The whole first batch is on the wire, waiting for the server's answer.
        await _wait_for(lambda: mailbox.stalled >= 10)
        doomed.kill()
    mailbox.flow()
    with running_workers(env, count=1) as (successor,):
        await _wait_until_all_sent(db, ids)
        successor.stop()

    delivered = mailbox.message_ids()
    assert set(delivered) == _expected_ids(ids)
    # Only the batch in flight when the worker died can have gone out twice.
    assert sum(count - 1 for count in delivered.values()) <= 10


@pytest.mark.engines("postgresql", "sqlite")
async def test_sigterm_lets_a_worker_finish_the_batch_it_holds(
    database_url: str, db: AsyncSession, smtp_server: SmtpServer
) -> None:
    ids = await _queue(db, 10)
    mailbox = smtp_server.mailbox
    mailbox.stall()

    with running_workers(worker_env(database_url, smtp_server.port), count=1) as (worker,):
        await _wait_for(lambda: mailbox.stalled >= 10)
        worker.process.terminate()
        mailbox.flow()
        assert worker.stop() == 0

    assert set(mailbox.message_ids()) == _expected_ids(ids)
    rows = (await db.execute(select(Notification.status, Notification.claimed_by))).all()
    assert set(rows) == {(NotificationStatus.SENT, None)}


@pytest.mark.engines("sqlite", "postgresql")
async def test_serve_sends_notifications_by_default(
    database_url: str, db: AsyncSession, smtp_server: SmtpServer
) -> None:
    ids = await _queue(db, 3)

    with running_server(worker_env(database_url, smtp_server.port), sends_mail=True):
        await _wait_until_all_sent(db, ids)

    assert set(smtp_server.mailbox.message_ids()) == _expected_ids(ids)
