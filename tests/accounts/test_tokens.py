"""SPEC §13: one-time, expiring links to verify an address and to reset a password. Each test
takes its link from the mail a worker sent to the test's SMTP server."""

import logging
import secrets
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.auth.models import AccountToken, TokenPurpose
from boxoffice.db import utcnow
from tests.accounts.conftest import Inbox

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
VERIFY = "/api/v1/auth/verify-email"
VERIFY_AGAIN = "/api/v1/auth/verify-email/request"
RESET_ASK = "/api/v1/auth/password-reset/request"
RESET = "/api/v1/auth/password-reset"
PASSWORD = "first-password-1"
NEW_PASSWORD = "second-password-2"


async def register(client: httpx.AsyncClient, email: str) -> dict[str, object]:
    answer = await client.post(
        REGISTER, json={"email": email, "password": PASSWORD, "full_name": "Ann Example"}
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


def refused(answer: httpx.Response) -> bool:
    return answer.status_code == 400 and answer.json()["code"] == "invalid_token"


async def test_registration_mails_a_link_that_verifies_the_address_once(
    client: httpx.AsyncClient, inbox: Inbox
) -> None:
    created = await register(client, "ann@example.com")
    assert created["email_verified"] is False

    link = await inbox.link("verify_email", "ann@example.com")
    token = link.partition("#token=")[2]
    first = await client.post(VERIFY, json={"token": token})
    again = await client.post(VERIFY, json={"token": token})

    assert link.startswith("https://tickets.example.org/box/verify-email#token=")
    assert first.status_code == 200
    assert first.json()["email"] == "ann@example.com"
    assert first.json()["email_verified"] is True
    assert refused(again)


async def test_a_signed_in_user_gets_a_new_link_and_the_older_one_stops_working(
    client: httpx.AsyncClient, inbox: Inbox
) -> None:
    await register(client, "ann@example.com")
    older = await inbox.token("verify_email", "ann@example.com")
    tokens = (await login(client, "ann@example.com", PASSWORD)).json()

    asked = await client.post(
        VERIFY_AGAIN, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    newer = await inbox.token("verify_email", "ann@example.com")

    assert asked.status_code == 202
    assert newer != older
    assert refused(await client.post(VERIFY, json={"token": older}))
    assert (await client.post(VERIFY, json={"token": newer})).status_code == 200


async def test_asking_for_a_verification_link_needs_a_login(client: httpx.AsyncClient) -> None:
    answer = await client.post(VERIFY_AGAIN)

    assert answer.status_code == 401


async def test_an_expired_link_is_refused(
    client: httpx.AsyncClient, inbox: Inbox, db: AsyncSession
) -> None:
    await register(client, "ann@example.com")
    token = await inbox.token("verify_email", "ann@example.com")
    await db.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    await db.commit()

    assert refused(await client.post(VERIFY, json={"token": token}))


async def test_a_verification_link_lasts_48_hours_and_a_reset_link_one(
    client: httpx.AsyncClient, inbox: Inbox, db: AsyncSession
) -> None:
    await register(client, "ann@example.com")
    await client.post(RESET_ASK, json={"email": "ann@example.com"})

    rows = (await db.scalars(select(AccountToken).order_by(AccountToken.id))).all()

    assert [(t.purpose, t.expires_at - t.created_at) for t in rows] == [
        (TokenPurpose.VERIFY_EMAIL, timedelta(hours=48)),
        (TokenPurpose.PASSWORD_RESET, timedelta(hours=1)),
    ]
    await inbox.deliver()
    texts = {str(m["X-Boxoffice-Kind"]): m.get_body(("plain",)) for m in inbox.mailbox.messages}
    assert "48 hours" in texts["verify_email"].get_content()  # type: ignore[union-attr]
    assert "1 hours" in texts["password_reset"].get_content()  # type: ignore[union-attr]


async def test_a_forged_token_is_refused(client: httpx.AsyncClient) -> None:
    forged = secrets.token_urlsafe(32)

    assert refused(await client.post(VERIFY, json={"token": forged}))
    assert refused(await client.post(RESET, json={"token": forged, "new_password": NEW_PASSWORD}))


async def test_a_token_works_only_for_its_purpose(client: httpx.AsyncClient, inbox: Inbox) -> None:
    await register(client, "ann@example.com")
    verification = await inbox.token("verify_email", "ann@example.com")

    as_reset = await client.post(RESET, json={"token": verification, "new_password": NEW_PASSWORD})

    assert refused(as_reset)
    assert (await login(client, "ann@example.com", NEW_PASSWORD)).status_code == 401
    assert (await client.post(VERIFY, json={"token": verification})).status_code == 200


async def test_a_reset_token_changes_only_its_own_users_password(
    client: httpx.AsyncClient, inbox: Inbox
) -> None:
    await register(client, "ann@example.com")
    await register(client, "bob@example.com")
    bob = (await login(client, "bob@example.com", PASSWORD)).json()
    await client.post(RESET_ASK, json={"email": "ann@example.com"})
    anns = await inbox.token("password_reset", "ann@example.com")

    # Bob, signed in, uses Ann's link: the link decides whose password it is, not the caller.
    answer = await client.post(
        RESET,
        json={"token": anns, "new_password": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {bob['access_token']}"},
    )

    assert answer.json()["email"] == "ann@example.com"
    assert (await login(client, "ann@example.com", NEW_PASSWORD)).status_code == 200
    assert (await login(client, "bob@example.com", PASSWORD)).status_code == 200
    assert (await login(client, "bob@example.com", NEW_PASSWORD)).status_code == 401
    bobs_session = await client.get(ME, headers={"Authorization": f"Bearer {bob['access_token']}"})
    assert bobs_session.status_code == 200


async def test_a_reset_ends_every_session_and_the_old_password(
    client: httpx.AsyncClient, inbox: Inbox
) -> None:
    await register(client, "ann@example.com")
    phone = (await login(client, "ann@example.com", PASSWORD)).json()
    laptop = (await login(client, "ann@example.com", PASSWORD)).json()
    await client.post(RESET_ASK, json={"email": "ann@example.com"})
    token = await inbox.token("password_reset", "ann@example.com")

    answer = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})

    assert answer.status_code == 200
    assert answer.json()["email_verified"] is True, "the link proved the address"
    for pair in (phone, laptop):
        me = await client.get(ME, headers={"Authorization": f"Bearer {pair['access_token']}"})
        assert (me.status_code, me.json()["code"]) == (401, "invalid_token")
        renewed = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        assert (renewed.status_code, renewed.json()["code"]) == (401, "invalid_token")
    assert (await login(client, "ann@example.com", PASSWORD)).status_code == 401
    assert (await login(client, "ann@example.com", NEW_PASSWORD)).status_code == 200
    assert refused(await client.post(RESET, json={"token": token, "new_password": "third-one-3"}))


async def test_a_weak_new_password_is_refused_and_leaves_the_link_usable(
    client: httpx.AsyncClient, inbox: Inbox
) -> None:
    await register(client, "ann@example.com")
    await client.post(RESET_ASK, json={"email": "ann@example.com"})
    token = await inbox.token("password_reset", "ann@example.com")

    weak = await client.post(RESET, json={"token": token, "new_password": "short"})

    assert (weak.status_code, weak.json()["code"]) == (422, "validation_error")
    assert (
        await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
    ).status_code == 200


async def test_a_reset_asked_for_an_unknown_address_answers_alike_and_mails_nobody(
    client: httpx.AsyncClient, inbox: Inbox, db: AsyncSession
) -> None:
    await register(client, "ann@example.com")
    await inbox.deliver()
    before = len(inbox.mailbox.messages)

    known = await client.post(RESET_ASK, json={"email": "ANN@example.com"})
    unknown = await client.post(RESET_ASK, json={"email": "nobody@example.com"})

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 202
    assert set(known.headers) - {"x-request-id"} == set(unknown.headers) - {"x-request-id"}
    messages = await inbox.deliver()
    assert [(m["X-Boxoffice-Kind"], m["To"].addresses[0].addr_spec) for m in messages[before:]] == [
        ("password_reset", "ann@example.com")
    ]
    # The unknown address left a decoy that nothing can redeem, and no trace of itself.
    decoys = (await db.scalars(select(AccountToken).where(AccountToken.user_id.is_(None)))).all()
    assert len(decoys) == 1


async def test_a_link_travels_in_the_body_and_is_never_logged(
    client: httpx.AsyncClient, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    await register(client, "ann@example.com")
    token = await inbox.token("verify_email", "ann@example.com")
    caplog.set_level(logging.DEBUG)

    await client.post(VERIFY, json={"token": token})
    await client.post(VERIFY, json={"token": token})

    assert any(r.name == "boxoffice.access" for r in caplog.records), "nothing was logged"
    for record in caplog.records:
        assert token not in f"{record.getMessage()} {vars(record)}"


async def test_the_database_keeps_only_a_hash_of_each_token(
    client: httpx.AsyncClient, inbox: Inbox, db: AsyncSession
) -> None:
    await register(client, "ann@example.com")
    token = await inbox.token("verify_email", "ann@example.com")

    stored = await db.scalar(select(AccountToken.token_hash))

    assert stored is not None
    assert token not in stored


async def test_links_mailed_before_an_erasure_work_no_more(
    client: httpx.AsyncClient, db: AsyncSession, inbox: Inbox
) -> None:
    await register(client, "ann@example.com")
    ann = (await login(client, "ann@example.com", PASSWORD)).json()
    await client.post(RESET_ASK, json={"email": "ann@example.com"})
    verification = await inbox.token("verify_email", "ann@example.com")
    reset = await inbox.token("password_reset", "ann@example.com")
    erased = await client.request(
        "DELETE",
        ME,
        headers={"Authorization": f"Bearer {ann['access_token']}"},
        json={"password": PASSWORD},
    )
    assert erased.status_code == 204, erased.text

    # Else the holder of an old link could give the erased account a password again.
    assert refused(await client.post(RESET, json={"token": reset, "new_password": NEW_PASSWORD}))
    assert refused(await client.post(VERIFY, json={"token": verification}))
    assert await db.scalar(select(AccountToken.id).where(AccountToken.user_id.is_not(None))) is None
