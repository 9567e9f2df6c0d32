"""Webhooks (SPEC §12): registration, what is delivered for each change, signatures, retries,
order, and the addresses a delivery may reach."""

import json
import socket
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook as Verifier

from boxoffice.db import utcnow
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from boxoffice.webhooks.addresses import StaticResolver
from boxoffice.webhooks.delivery import Deliverer
from boxoffice.webhooks.models import WebhookMessage
from tests.factories import make_event, signed_in
from tests.webhooks.support import LeftLoopback, LoopbackOnly, Received, loopback_only, receiver

API = "/api/v1"
ALL_TYPES = [
    "booking.confirmed",
    "booking.pending",
    "booking.waitlisted",
    "booking.cancelled",
    "booking.expired",
    "payment.confirmed",
    "payment.refunded",
    "event.published",
    "event.changed",
    "event.cancelled",
    "checkin.created",
]


def verified(secret: str, got: Received) -> dict[str, object]:
    payload: dict[str, object] = Verifier(secret).verify(got.body, got.headers)
    return payload


async def register(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, **body: object
) -> dict[str, object]:
    answer = await client.post(
        f"{API}/webhooks", json={"url": url, "events": ALL_TYPES} | body, headers=headers
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, object] = answer.json()
    return created


async def make_due(db: AsyncSession) -> None:
    """Time passes: every waiting retry is due now."""
    await db.execute(update(WebhookMessage).values(due_at=utcnow() - timedelta(seconds=1)))
    await db.commit()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://127.0.0.1:8080/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://home.example.com/hook",
        "http://inside.example.com/hook",
        "ftp://hooks.example.com/hook",
        "http://nowhere.example.com/hook",
    ],
)
async def test_a_url_inside_a_private_network_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, url: str
) -> None:
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    answer = await client.post(
        f"{API}/webhooks",
        json={"url": url, "events": ["booking.confirmed"]},
        headers=organizer.headers,
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "webhook_url_not_allowed"


def test_the_guard_refuses_a_connection_beyond_loopback_before_it_is_opened() -> None:
    # What makes the refusals above proof that nothing was sent. Checked without a socket, so
    # that a missing guard fails here instead of sending a packet.
    assert socket.socket.connect.__module__ == __name__.replace("test_webhooks", "conftest")
    with pytest.raises(LeftLoopback):
        loopback_only(("10.0.0.1", 80))
    with pytest.raises(LeftLoopback):
        loopback_only(("169.254.169.254", 80, 0, 0))
    loopback_only(("127.0.0.1", 80))
    loopback_only(("::1", 80, 0, 0))


async def test_a_public_url_is_registered_and_its_secret_shown_once(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    created = await register(client, organizer.headers, "https://hooks.example.com/hook")
    assert str(created["secret"]).startswith("whsec_")
    shown = await client.get(f"{API}/webhooks/{created['id']}", headers=organizer.headers)
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    patched = await client.patch(
        f"{API}/webhooks/{created['id']}",
        json={"url": "http://inside.example.com/hook"},
        headers=organizer.headers,
    )
    assert patched.json()["code"] == "webhook_url_not_allowed"


async def test_organizers_see_and_hook_only_their_own(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await signed_in(db, settings, Role.ORGANIZER)
    other = await signed_in(db, settings, Role.ORGANIZER)
    attendee = await signed_in(db, settings, Role.ATTENDEE)
    event = await make_event(db, owner.user)
    created = await register(
        client, owner.headers, "https://hooks.example.com/hook", event_id=event.id
    )
    hooked = {"url": "https://hooks.example.com/x", "events": ["booking.confirmed"]}
    refused = await client.post(
        f"{API}/webhooks", json=hooked | {"event_id": event.id}, headers=other.headers
    )
    assert refused.status_code == 403
    assert (
        await client.get(f"{API}/webhooks/{created['id']}", headers=other.headers)
    ).status_code == 404
    assert (await client.get(f"{API}/webhooks", headers=other.headers)).json()["total"] == 0
    assert (
        await client.post(f"{API}/webhooks", json=hooked, headers=attendee.headers)
    ).status_code == 403
    admin = await signed_in(db, settings, Role.ADMIN)
    assert (await client.get(f"{API}/webhooks", headers=admin.headers)).json()["total"] == 1


async def test_each_change_is_delivered_once_signed(
    hooks_client: httpx.AsyncClient,
    db: AsyncSession,
    private_settings: Settings,
    deliverer: Deliverer,
) -> None:
    organizer = await signed_in(db, private_settings, Role.ORGANIZER)
    attendee = await signed_in(db, private_settings, Role.ATTENDEE)
    late = await signed_in(db, private_settings, Role.ATTENDEE)
    async with receiver() as got:
        created = await register(hooks_client, organizer.headers, got.url)
        answer = await hooks_client.post(
            f"{API}/events",
            json={
                "title": "Hooked",
                "location": "Hall",
                "starts_at": (utcnow() + timedelta(days=3)).isoformat(),
                "capacity": 1,
            },
            headers=organizer.headers,
        )
        assert answer.status_code == 201, answer.text
        event_id = answer.json()["id"]
        await hooks_client.post(f"{API}/events/{event_id}/publish", headers=organizer.headers)
        await hooks_client.patch(
            f"{API}/events/{event_id}", json={"location": "Other hall"}, headers=organizer.headers
        )
        booked = await hooks_client.post(
            f"{API}/bookings", json={"event_id": event_id, "seats": 1}, headers=attendee.headers
        )
        waiting = await hooks_client.post(
            f"{API}/bookings",
            json={"event_id": event_id, "seats": 1, "join_waitlist": True},
            headers=late.headers,
        )
        checked = await hooks_client.post(
            f"{API}/events/{event_id}/check-in",
            json={"ticket_code": booked.json()["ticket_code"]},
            headers=organizer.headers,
        )
        assert checked.status_code == 200, checked.text
        await hooks_client.delete(f"{API}/bookings/{waiting.json()['id']}", headers=late.headers)
        await hooks_client.post(f"{API}/events/{event_id}/cancel", headers=organizer.headers)
        while await deliverer.run_once():
            pass
    bodies = [verified(str(created["secret"]), r) for r in got.received]
    assert [b["type"] for b in bodies] == [
        "event.published",
        "event.changed",
        "booking.confirmed",
        "booking.waitlisted",
        "checkin.created",
        "booking.cancelled",
        "event.cancelled",
    ]
    data = [b["data"] for b in bodies]
    assert data[1]["location"] == "Other hall"  # type: ignore[index]
    assert data[2]["id"] == booked.json()["id"]  # type: ignore[index]
    assert data[3]["status"] == "waitlisted"  # type: ignore[index]
    assert data[5]["status"] == "cancelled"  # type: ignore[index]
    assert len({r.headers["webhook-id"] for r in got.received}) == len(got.received)


async def test_a_retry_keeps_the_webhook_id_and_a_later_message_waits(
    hooks_client: httpx.AsyncClient,
    db: AsyncSession,
    private_settings: Settings,
    deliverer: Deliverer,
) -> None:
    organizer = await signed_in(db, private_settings, Role.ORGANIZER)
    event = await make_event(db, organizer.user)
    async with receiver() as got:
        got.answers = [500]
        await register(hooks_client, organizer.headers, got.url, event_id=event.id)
        for location in ("A", "B"):
            await hooks_client.patch(
                f"{API}/events/{event.id}", json={"location": location}, headers=organizer.headers
            )
        await deliverer.run_once()
        # The first failed; the second waits behind its retry.
        assert await deliverer.run_once() == 0
        await make_due(db)
        while await deliverer.run_once():
            pass
    ids = [r.headers["webhook-id"] for r in got.received]
    assert ids[0] == ids[1] != ids[2]
    assert [json.loads(r.body)["data"]["location"] for r in got.received] == ["A", "A", "B"]
    log = (await hooks_client.get(f"{API}/webhooks", headers=organizer.headers)).json()
    deliveries = await hooks_client.get(
        f"{API}/webhooks/{log['items'][0]['id']}/deliveries", headers=organizer.headers
    )
    assert [d["status_code"] for d in deliveries.json()["items"]] == [200, 200, 500]


async def test_a_receiver_down_for_a_while_gets_everything_in_order(
    hooks_client: httpx.AsyncClient,
    db: AsyncSession,
    private_settings: Settings,
    deliverer: Deliverer,
) -> None:
    organizer = await signed_in(db, private_settings, Role.ORGANIZER)
    event = await make_event(db, organizer.user)
    async with receiver() as got:
        await register(hooks_client, organizer.headers, got.url, event_id=event.id)
    # The receiver is gone: every attempt fails to connect.
    for location in ("A", "B", "C"):
        await hooks_client.patch(
            f"{API}/events/{event.id}", json={"location": location}, headers=organizer.headers
        )
    for _ in range(3):
        await deliverer.run_once()
        await make_due(db)
    async with receiver() as back:
        await hooks_client.patch(
            f"{API}/webhooks/{(await _only_webhook(hooks_client, organizer.headers))}",
            json={"url": back.url},
            headers=organizer.headers,
        )
        while await deliverer.run_once():
            pass
    assert [json.loads(r.body)["data"]["location"] for r in back.received] == ["A", "B", "C"]


async def _only_webhook(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    listed = (await client.get(f"{API}/webhooks", headers=headers)).json()
    webhook_id: int = listed["items"][0]["id"]
    return webhook_id


async def test_gone_disables_the_webhook(
    hooks_client: httpx.AsyncClient,
    db: AsyncSession,
    private_settings: Settings,
    deliverer: Deliverer,
) -> None:
    organizer = await signed_in(db, private_settings, Role.ORGANIZER)
    async with receiver() as got:
        got.answers = [410]
        created = await register(hooks_client, organizer.headers, got.url)
        await hooks_client.post(f"{API}/webhooks/{created['id']}/ping", headers=organizer.headers)
        await deliverer.run_once()
    shown = await hooks_client.get(f"{API}/webhooks/{created['id']}", headers=organizer.headers)
    assert shown.json()["enabled"] is False


async def test_ping_retry_and_rotation(
    hooks_client: httpx.AsyncClient,
    db: AsyncSession,
    private_settings: Settings,
    deliverer: Deliverer,
) -> None:
    organizer = await signed_in(db, private_settings, Role.ORGANIZER)
    async with receiver() as got:
        created = await register(hooks_client, organizer.headers, got.url)
        hook = f"{API}/webhooks/{created['id']}"
        pinged = await hooks_client.post(f"{hook}/ping", headers=organizer.headers)
        assert pinged.status_code == 202
        await deliverer.run_once()
        (attempt,) = (
            await hooks_client.get(f"{hook}/deliveries", headers=organizer.headers)
        ).json()["items"]
        retried = await hooks_client.post(
            f"{hook}/deliveries/{attempt['id']}/retry", headers=organizer.headers
        )
        assert retried.status_code == 202
        rotated = (
            await hooks_client.post(f"{hook}/rotate-secret", headers=organizer.headers)
        ).json()
        await deliverer.run_once()
    first, again = got.received
    assert verified(str(created["secret"]), first)["type"] == "webhook.ping"
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert len(again.headers["webhook-signature"].split(" ")) == 2
    verified(str(created["secret"]), again)
    verified(rotated["secret"], again)
    missing = await hooks_client.post(f"{hook}/deliveries/999999/retry", headers=organizer.headers)
    assert missing.status_code == 404


async def test_a_name_that_now_resolves_inside_is_not_delivered_to(
    hooks_client: httpx.AsyncClient, db: AsyncSession, private_app: FastAPI
) -> None:
    settings = private_app.state.settings.model_copy(update={"webhooks_allow_private": False})
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    created = await register(hooks_client, organizer.headers, "http://hooks.example.com/hook")
    await hooks_client.post(f"{API}/webhooks/{created['id']}/ping", headers=organizer.headers)
    # The name now points inside: the check at delivery refuses it before any connection
    # (LoopbackOnly would fail the test on an attempt to reach 10.1.2.3).
    rebound = Deliverer(
        settings,
        private_app.state.sessionmaker,
        resolver=StaticResolver({"hooks.example.com": ["10.1.2.3"]}),
        transport=LoopbackOnly(),
    )
    try:
        assert await rebound.run_once() == 1
    finally:
        await rebound.aclose()
    (attempt,) = (
        await hooks_client.get(
            f"{API}/webhooks/{created['id']}/deliveries", headers=organizer.headers
        )
    ).json()["items"]
    assert attempt["status_code"] is None
    assert "private network" in attempt["error"]
    message = (await db.scalars(select(WebhookMessage))).one()
    assert message.status == "pending"
