"""SPEC §13, "mail only to people who asked for it": until an address is verified it is sent
its verification links (at most 3 a day) and password resets; everything else waits, unsent, and
goes out once the address is verified, reminders only while still current."""

from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.notifications.models import Notification, NotificationKind, NotificationStatus
from boxoffice.notifications.worker import Worker
from boxoffice.users.models import Role
from tests.accounts.conftest import Inbox
from tests.factories import make_event, make_user
from tests.notifications.support import outbox

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
BOOKINGS = "/api/v1/bookings"
VERIFY = "/api/v1/auth/verify-email"
VERIFY_AGAIN = "/api/v1/auth/verify-email/request"
RESET_ASK = "/api/v1/auth/password-reset/request"
ANN = "ann@example.com"
PASSWORD = "first-password-1"


async def sign_up(client: httpx.AsyncClient) -> dict[str, str]:
    """Ann registers (a `verify_email` goes out) and logs in: her session's headers."""
    answer = await client.post(
        REGISTER, json={"email": ANN, "password": PASSWORD, "full_name": "Ann Example"}
    )
    assert answer.status_code == 201, answer.text
    tokens = (await client.post(LOGIN, json={"email": ANN, "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def book(client: httpx.AsyncClient, headers: dict[str, str], event: Event) -> int:
    answer = await client.post(BOOKINGS, json={"event_id": event.id}, headers=headers)
    assert answer.status_code == 201, answer.text
    booking_id: int = answer.json()["id"]
    return booking_id


async def verify(client: httpx.AsyncClient, inbox: Inbox) -> None:
    token = await inbox.token("verify_email", ANN)
    assert (await client.post(VERIFY, json={"token": token})).status_code == 200


def kinds(inbox: Inbox) -> list[str]:
    """What Ann received, sorted: a batch is sent all at once, in no set order."""
    return sorted(str(m["X-Boxoffice-Kind"]) for m in inbox.mailbox.messages if ANN in m["To"])


async def test_a_confirmation_waits_unsent_until_the_address_is_verified(
    client: httpx.AsyncClient, db: AsyncSession, inbox: Inbox
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    headers = await sign_up(client)
    await book(client, headers, event)

    await inbox.deliver()
    worker = Worker(inbox.settings, inbox.app.state.sessionmaker, name="another-worker")
    claimed_again = [await worker.run_once() for _ in range(3)]
    (waiting,) = await outbox(db, NotificationKind.BOOKING_CONFIRMED)

    assert kinds(inbox) == ["verify_email"]
    assert claimed_again == [0, 0, 0], "a waiting message is not claimed over and over"
    assert waiting.status is NotificationStatus.PENDING
    assert (waiting.attempts, waiting.claimed_by, waiting.last_error) == (0, None, None)

    await verify(client, inbox)
    await inbox.deliver()

    assert kinds(inbox) == ["booking_confirmed", "verify_email"]
    (sent,) = await outbox(db, NotificationKind.BOOKING_CONFIRMED)
    assert (sent.status, sent.attempts) == (NotificationStatus.SENT, 1)


async def test_a_reminder_for_an_event_begun_before_the_verification_is_not_sent(
    client: httpx.AsyncClient, db: AsyncSession, inbox: Inbox
) -> None:
    event = await make_event(
        db, await make_user(db, role=Role.ORGANIZER), starts_in=timedelta(days=3)
    )
    headers = await sign_up(client)
    await book(client, headers, event)
    # Days later: the reminder came due while the address was unverified, and the event began.
    now = utcnow()
    await db.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=2))
    )
    await db.commit()
    await outbox_due(db, NotificationKind.REMINDER)

    await verify(client, inbox)
    await inbox.deliver()

    assert kinds(inbox) == ["booking_confirmed", "verify_email"]
    (reminder,) = await outbox(db, NotificationKind.REMINDER)
    assert reminder.status is NotificationStatus.CANCELLED


async def test_a_booking_cancelled_while_waiting_is_still_confirmed_and_cancelled(
    client: httpx.AsyncClient, db: AsyncSession, inbox: Inbox
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    headers = await sign_up(client)
    booking_id = await book(client, headers, event)
    assert (await client.delete(f"{BOOKINGS}/{booking_id}", headers=headers)).status_code == 200

    await verify(client, inbox)
    await inbox.deliver()

    # What happened: a receipt stays a receipt, and the cancellation is told too.
    assert kinds(inbox) == ["booking_cancelled", "booking_confirmed", "verify_email"]


async def test_a_fourth_verification_link_in_a_day_is_refused(
    client: httpx.AsyncClient, inbox: Inbox
) -> None:
    headers = await sign_up(client)
    asked = [(await client.post(VERIFY_AGAIN, headers=headers)) for _ in range(3)]

    await inbox.deliver()

    assert [a.status_code for a in asked] == [202, 202, 429]
    assert asked[2].json()["code"] == "rate_limited"
    retry_after = int(asked[2].headers["Retry-After"])
    assert 23 * 3600 < retry_after <= 24 * 3600
    assert kinds(inbox) == ["verify_email"] * 3, "registration's link counts as one"


async def test_a_password_reset_goes_to_an_unverified_address_and_verifies_it(
    client: httpx.AsyncClient, db: AsyncSession, inbox: Inbox
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    headers = await sign_up(client)
    await book(client, headers, event)
    assert (await client.post(RESET_ASK, json={"email": ANN})).status_code == 202

    await inbox.deliver()
    assert kinds(inbox) == ["password_reset", "verify_email"]

    token = await inbox.token("password_reset", ANN)
    reset = await client.post(
        "/api/v1/auth/password-reset", json={"token": token, "new_password": "second-password-2"}
    )
    assert reset.status_code == 200
    await inbox.deliver()

    assert kinds(inbox) == ["booking_confirmed", "password_reset", "verify_email"]


async def outbox_due(db: AsyncSession, kind: NotificationKind) -> None:
    """Messages of this kind came due a minute ago."""
    await db.execute(
        update(Notification)
        .where(Notification.kind == kind)
        .values(due_at=utcnow() - timedelta(minutes=1))
    )
    await db.commit()
