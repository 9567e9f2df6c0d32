"""Every message but an account link carries a one-click unsubscribe (RFC 8058, SPEC §13), and
following it turns off reminders and event changes."""

from email.message import EmailMessage

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.notifications import outbox
from boxoffice.notifications.models import NotificationKind
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.factories import auth_headers, make_event, make_user
from tests.notifications.smtp import Mailbox
from tests.notifications.support import make_booking

ME = "/api/v1/users/me"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


async def _confirmation_to(
    app: FastAPI, db: AsyncSession, settings: Settings, mailbox: Mailbox
) -> tuple[User, EmailMessage]:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    user = await make_user(db, email_verified=True)
    await outbox.booking_confirmed(db, await make_booking(db, event, user))
    await db.commit()
    await Worker(settings, app.state.sessionmaker, name="test-worker").run_once()
    (message,) = mailbox.wait_for(1)
    return user, message


def _link(message: EmailMessage, settings: Settings) -> str:
    """The header's address, as a path of the app under test."""
    value = str(message["List-Unsubscribe"])
    assert value.startswith(f"<{settings.public_url}/api/v1/")
    assert value.endswith(">")
    return value[1:-1].removeprefix(settings.public_url)


async def _wishes(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[bool, bool]:
    me = (await client.get(ME, headers=headers)).json()
    return me["notify_reminders"], me["notify_changes"]


async def test_a_confirmation_carries_the_one_click_headers(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    _, message = await _confirmation_to(app, db, smtp_settings, mailbox)

    assert "/api/v1/users/unsubscribe?token=" in _link(message, smtp_settings)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_account_links_carry_no_unsubscribe(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    # Not verified yet: a verification link to a verified address is dropped as no longer needed.
    user = await make_user(db, email_verified=False)
    for kind in (NotificationKind.VERIFY_EMAIL, NotificationKind.PASSWORD_RESET):
        await outbox.account_link(db, kind, user.id, seed=f"seed-{kind}")
    await db.commit()

    await Worker(smtp_settings, app.state.sessionmaker, name="test-worker").run_once()

    messages = mailbox.wait_for(2)
    assert sorted(m["X-Boxoffice-Kind"] for m in messages) == ["password_reset", "verify_email"]
    assert all("List-Unsubscribe" not in m for m in messages)
    assert all("List-Unsubscribe-Post" not in m for m in messages)


async def test_posting_the_one_click_form_turns_both_off_and_twice_is_fine(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    smtp_settings: Settings,
    mailbox: Mailbox,
) -> None:
    user, message = await _confirmation_to(app, db, smtp_settings, mailbox)
    headers = await auth_headers(db, smtp_settings, user)
    link = _link(message, smtp_settings)

    for _ in range(2):
        response = await client.post(link, data=ONE_CLICK)
        assert response.status_code == 200
        assert response.json() == {"notify_reminders": False, "notify_changes": False}

    assert await _wishes(client, headers) == (False, False)


async def test_opening_the_link_changes_nothing_and_offers_the_button(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    smtp_settings: Settings,
    mailbox: Mailbox,
) -> None:
    user, message = await _confirmation_to(app, db, smtp_settings, mailbox)

    response = await client.get(_link(message, smtp_settings))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<form method="post">' in response.text
    assert 'name="List-Unsubscribe" value="One-Click"' in response.text
    headers = await auth_headers(db, smtp_settings, user)
    assert await _wishes(client, headers) == (True, True)


async def test_a_forged_token_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    smtp_settings: Settings,
    mailbox: Mailbox,
) -> None:
    user, message = await _confirmation_to(app, db, smtp_settings, mailbox)
    victim = await make_user(db)
    signature = _link(message, smtp_settings).rpartition(".")[2]

    for token in (f"{victim.id}.{signature}", f"{user.id}.{signature[:-1]}", "nonsense"):
        response = await client.post(
            "/api/v1/users/unsubscribe", params={"token": token}, data=ONE_CLICK
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_token"

    for someone in (user, victim):
        headers = await auth_headers(db, smtp_settings, someone)
        assert await _wishes(client, headers) == (True, True)


async def test_a_post_without_the_one_click_body_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    smtp_settings: Settings,
    mailbox: Mailbox,
) -> None:
    user, message = await _confirmation_to(app, db, smtp_settings, mailbox)

    response = await client.post(_link(message, smtp_settings))

    assert response.status_code == 422
    headers = await auth_headers(db, smtp_settings, user)
    assert await _wishes(client, headers) == (True, True)
