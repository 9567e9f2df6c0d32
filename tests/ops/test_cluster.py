"""Three server processes and two `boxoffice worker` processes on one PostgreSQL and one Redis,
as on several machines: a rush of bookings and cancellations through all servers at once stays
exact and every message it causes reaches a real SMTP server exactly once, a rate limit is
counted across the servers, and a logout on one is refused by the others."""

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking
from boxoffice.notifications.models import Notification, NotificationKind, NotificationStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.bookings.test_rush import confirmed_seats, http, outcomes, post_all
from tests.engines import REDIS_URL
from tests.factories import auth_headers, make_attendees_with_headers, make_event, make_user
from tests.notifications.processes import running_workers, worker_env
from tests.notifications.smtp import Mailbox, SmtpServer
from tests.servers import free_port, running_servers

pytestmark = pytest.mark.engines("postgresql")

CAPACITY = 60


@pytest.fixture(scope="module")
def cluster_smtp() -> Iterator[SmtpServer]:
    with SmtpServer(free_port()) as server:
        yield server


@pytest.fixture(scope="module")
def cluster(database_url: str, settings: Settings, cluster_smtp: SmtpServer) -> Iterator[list[str]]:
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "BOXOFFICE_REDIS_URL": REDIS_URL,
        "BOXOFFICE_RATE_LIMIT_PREFIX": f"cluster-{secrets.token_hex(4)}",
        "BOXOFFICE_RATE_LIMIT_AUTH": "5/minute",
        # Every request of the test comes from 127.0.0.1: only the limit under test may bite.
        "BOXOFFICE_RATE_LIMIT_DEFAULT": "100000/minute",
        "BOXOFFICE_RATE_LIMIT_BOOKINGS": "1000/minute",
        # Mail is the two worker processes' job here, not the servers'.
        "BOXOFFICE_WORKER_ENABLED": "false",
    }
    with (
        running_servers(env, count=3) as urls,
        running_workers(worker_env(database_url, cluster_smtp.port), count=2),
    ):
        yield urls


async def test_bookings_and_cancellations_through_three_servers_stay_exact_and_tell_once(
    cluster: list[str], db: AsyncSession, settings: Settings, cluster_smtp: SmtpServer
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    early = await make_attendees_with_headers(db, settings, 120)
    first = await post_all(
        cluster,
        [
            (h, {"event_id": event.id, "seats": 1 + i % 2, "join_waitlist": True})
            for i, h in enumerate(early)
        ],
    )
    assert set(outcomes(first)) <= {"confirmed", "waitlisted"}
    late = await make_attendees_with_headers(db, settings, 90)

    async with http() as client:
        cancels = [
            client.delete(f"{cluster[i % 3]}/api/v1/bookings/{answer.json()['id']}", headers=h)
            for i, (h, answer) in enumerate(list(zip(early, first, strict=True))[::2])
        ]
        books = [
            client.post(
                f"{cluster[i % 3]}/api/v1/bookings",
                headers=h,
                json={"event_id": event.id, "seats": 1 + i % 3, "join_waitlist": True},
            )
            for i, h in enumerate(late)
        ]
        answers = await asyncio.gather(*cancels, *books)

    assert Counter(a.status_code for a in answers) == {200: 60, 201: 90}
    final = await assert_seats_exact(db, event.id)
    assert final.seats_booked == await confirmed_seats(db, event.id)
    await assert_every_message_sent_once(db, cluster_smtp.mailbox, event.id, [*first, *answers])


async def assert_every_message_sent_once(
    db: AsyncSession, mailbox: Mailbox, event_id: int, answers: list[httpx.Response]
) -> None:
    """Every message the rush wrote reaches the SMTP server exactly once (reminders are not due
    for days), and every booking answered `confirmed` was told so."""
    told = select(Notification).where(
        Notification.event_id == event_id, Notification.kind != NotificationKind.REMINDER
    )
    deadline = time.monotonic() + 90
    while True:
        rows = list((await db.scalars(told.execution_options(populate_existing=True))).all())
        await db.commit()
        if all(row.status is NotificationStatus.SENT for row in rows):
            break
        assert time.monotonic() < deadline, Counter(row.status for row in rows)
        await asyncio.sleep(0.2)
    mailbox.wait_for(len(rows))
    sent = mailbox.message_ids()
    assert sent == Counter({f"<notification-{row.id}@boxoffice.test>": 1 for row in rows})
    confirmed_at_once = {
        a.json()["id"]
        for a in answers
        if a.request.method == "POST" and a.json().get("status") == "confirmed"
    }
    confirmations = Counter(
        row.booking_id for row in rows if row.kind is NotificationKind.BOOKING_CONFIRMED
    )
    assert confirmations == Counter(confirmed_at_once)
    promoted = await db.scalars(
        select(Booking.id).where(
            Booking.event_id == event_id,
            Booking.id.in_(
                [row.booking_id for row in rows if row.kind is NotificationKind.WAITLIST_PROMOTED]
            ),
        )
    )
    assert (
        set(promoted.all())
        <= {a.json()["id"] for a in answers if a.request.method == "POST"} - confirmed_at_once
    )
    await db.commit()


async def test_a_rate_limit_is_counted_across_the_servers(
    cluster: list[str], db: AsyncSession
) -> None:
    await make_user(db, email="limited@example.com")
    wrong = {"email": "limited@example.com", "password": "not the password"}

    async with httpx.AsyncClient(timeout=30) as client:
        answers = [
            await client.post(f"{cluster[i % 3]}/api/v1/auth/login", json=wrong) for i in range(7)
        ]

    assert [a.status_code for a in answers] == [401] * 5 + [429] * 2
    assert all("Retry-After" in a.headers for a in answers[5:])


async def test_a_logout_on_one_server_is_refused_by_the_others(
    cluster: list[str], db: AsyncSession, settings: Settings
) -> None:
    headers = await auth_headers(db, settings, await make_user(db, email="ann@example.com"))

    async with httpx.AsyncClient(timeout=30) as client:
        before = [await client.get(f"{url}/api/v1/users/me", headers=headers) for url in cluster]
        logout = await client.post(f"{cluster[0]}/api/v1/auth/logout", headers=headers)
        after = [await client.get(f"{url}/api/v1/users/me", headers=headers) for url in cluster]

    assert [a.status_code for a in before] == [200, 200, 200]
    assert logout.status_code == 204
    assert [a.status_code for a in after] == [401, 401, 401]
