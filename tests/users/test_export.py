"""The data export (SPEC §13): everything about the caller, no secret, nobody else."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.auth.models import AuthSession
from boxoffice.payments.models import Payment
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import auth_headers, signed_in
from tests.payments.test_holds import book, paid_event

EXPORT = "/api/v1/users/me/export"


async def test_export_holds_the_callers_data_and_no_secret_nor_anyone_elses(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await signed_in(db, settings, Role.ORGANIZER, full_name="Orla Organizer")
    me = await signed_in(db, settings, Role.ATTENDEE, email="me@example.com", full_name="Me Myself")
    other = await signed_in(
        db, settings, Role.ATTENDEE, email="other@example.com", full_name="Otto Other"
    )
    event = await paid_event(db, organizer, capacity=5)
    mine = await book(client, me, event, 2)
    await book(client, other, event, 1)
    path = f"/api/v1/bookings/{mine['id']}"
    await client.post(f"{path}/payments", headers=me.headers, json={"provider": "manual"})
    await client.post(f"{path}/mark-paid", headers=organizer.headers)

    answer = await client.get(EXPORT, headers=me.headers)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert "no-store" in answer.headers["cache-control"]
    data = answer.json()
    assert data["profile"]["email"] == "me@example.com"
    assert [b["id"] for b in data["bookings"]] == [mine["id"]]
    assert len(data["bookings"][0]["tickets"]) == 2
    assert [(p["amount"], p["status"]) for p in data["payments"]] == [("50.00", "confirmed")]
    assert len(data["sessions"]) == 1
    kinds = {m["kind"] for m in data["messages"]}
    assert {"booking_pending", "payment_received"} <= kinds
    assert all(event.title in m["subject"] for m in data["messages"])
    text = answer.text
    for elsewhere in ("other@example.com", "Otto Other", "Orla Organizer", "password"):
        assert elsewhere not in text
    secrets = [
        *(await db.scalars(select(AuthSession.id))).all(),
        *(await db.scalars(select(AuthSession.refresh_jti))).all(),
        *(
            await db.scalars(
                select(Payment.client_secret).where(Payment.client_secret.is_not(None))
            )
        ).all(),
        me.headers["Authorization"].split()[1],
    ]
    await db.commit()
    assert all(secret not in text for secret in secrets if secret)


async def test_export_after_a_ban_lists_the_ban_without_naming_the_admin(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    admin = await signed_in(db, settings, Role.ADMIN)
    me = await signed_in(db, settings, Role.ATTENDEE)
    user_path = f"/api/v1/admin/users/{me.id}"
    await client.patch(user_path, headers=admin.headers, json={"is_active": False})
    await client.patch(user_path, headers=admin.headers, json={"is_active": True})
    headers = await auth_headers(db, settings, me.user)

    data = (await client.get(EXPORT, headers=headers)).json()

    entries = [(e["action"], e["target_id"], e["by_you"]) for e in data["audit_log"]]
    assert entries == [("user.banned", me.id, False), ("user.unbanned", me.id, False)]
    assert all("actor_id" not in e for e in data["audit_log"])
