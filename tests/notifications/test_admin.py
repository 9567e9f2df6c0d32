"""GET /admin/notifications and POST /admin/notifications/{id}/retry."""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import BookingStatus
from boxoffice.notifications import outbox, service
from boxoffice.notifications.models import NotificationStatus
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import auth_headers, make_event, make_user
from tests.notifications.smtp import Mailbox
from tests.notifications.support import Clock, make_booking
from tests.notifications.support import outbox as read_outbox

NOTIFICATIONS = "/api/v1/admin/notifications"


async def _admin_headers(db: AsyncSession, settings: Settings) -> dict[str, str]:
    return await auth_headers(db, settings, await make_user(db, role=Role.ADMIN))


async def _listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(NOTIFICATIONS, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_message_the_server_always_refuses_ends_failed_listed_and_a_retry_sends_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    smtp_settings: Settings,
    mailbox: Mailbox,
) -> None:
    attendee = await make_user(db, email="grace@example.com")
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    await outbox.booking_cancelled(db, await make_booking(db, event, attendee))
    await db.commit()
    mailbox.refuse_always = True
    clock = Clock()
    worker = Worker(smtp_settings, app.state.sessionmaker, clock=clock)
    for _ in range(smtp_settings.email_max_attempts):
        assert await worker.run_once() == 1
        (row,) = await read_outbox(db)
        clock.now = max(clock.now, row.due_at)
    headers = await _admin_headers(db, settings)

    failed = await _listed(client, headers, status="failed")

    assert failed["total"] == 1
    (item,) = failed["items"]
    assert item["recipient"] == "grace@example.com"
    assert item["kind"] == "booking_cancelled"
    assert item["status"] == "failed"
    assert item["attempts"] == smtp_settings.email_max_attempts
    assert "451" in item["last_error"]
    assert item["sent_at"] is None
    assert await worker.run_once() == 0

    retried = await client.post(f"{NOTIFICATIONS}/{item['id']}/retry", headers=headers)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    mailbox.refuse_always = False
    assert await worker.run_once() == 1
    (message,) = mailbox.wait_for(1)
    assert message["X-Boxoffice-Kind"] == "booking_cancelled"
    (sent,) = (await _listed(client, headers, status="sent"))["items"]
    assert (sent["id"], sent["attempts"]) == (item["id"], 1)
    assert sent["sent_at"] is not None


async def test_only_a_failed_notification_can_be_retried(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    await outbox.booking_cancelled(db, await make_booking(db, event))
    await db.commit()
    (row,) = await read_outbox(db)
    headers = await _admin_headers(db, settings)

    pending = await client.post(f"{NOTIFICATIONS}/{row.id}/retry", headers=headers)
    unknown = await client.post(f"{NOTIFICATIONS}/{row.id + 1000}/retry", headers=headers)

    assert pending.status_code == 409
    assert pending.json()["code"] == "invalid_transition"
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"


async def test_the_list_is_newest_first_paginated_and_filtered_by_status_and_kind(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    bookings = [await make_booking(db, event) for _ in range(3)]
    waiting = await make_booking(db, event, status=BookingStatus.WAITLISTED)
    for booking in bookings:
        await outbox.booking_confirmed(db, booking)
    await outbox.waitlist_joined(db, waiting)
    await db.commit()
    rows = await read_outbox(db)
    rows[0].status = NotificationStatus.SENT
    await db.commit()
    headers = await _admin_headers(db, settings)

    everything = await _listed(client, headers, limit=2)
    joined = await _listed(client, headers, kind="waitlist_joined")
    reminders = await _listed(client, headers, kind="reminder", status="pending")
    sent = await _listed(client, headers, status="sent")

    assert everything["total"] == len(rows) == 7
    assert (everything["limit"], everything["offset"]) == (2, 0)
    assert [i["id"] for i in everything["items"]] == [rows[-1].id, rows[-2].id]
    assert [i["kind"] for i in joined["items"]] == ["waitlist_joined"]
    assert reminders["total"] == 3
    assert [i["id"] for i in sent["items"]] == [rows[0].id]


async def test_unknown_filters_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    headers = await _admin_headers(db, settings)

    for params in ({"status": "cancelled"}, {"kind": "spam"}):
        response = await client.get(NOTIFICATIONS, headers=headers, params=params)
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"


async def test_only_admins_see_the_outbox(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    headers = await auth_headers(db, settings, organizer)

    assert (await client.get(NOTIFICATIONS)).status_code == 401
    assert (await client.get(NOTIFICATIONS, headers=headers)).status_code == 403
    refused = await client.post(f"{NOTIFICATIONS}/1/retry", headers=headers)
    assert refused.status_code == 403


async def test_outstanding_counts_are_pending_and_failed(db: AsyncSession) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    await outbox.booking_confirmed(db, await make_booking(db, event))
    await outbox.booking_cancelled(db, await make_booking(db, event))
    await db.commit()
    rows = await read_outbox(db)
    rows[0].status = NotificationStatus.FAILED
    rows[1].status = NotificationStatus.SENT
    await db.commit()

    counts = await service.count_outstanding(db)

    assert counts == {NotificationStatus.PENDING: 1, NotificationStatus.FAILED: 1}
