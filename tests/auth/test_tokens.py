"""A missing, malformed, expired, tampered or mis-typed token never gets through."""

from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.auth import tokens
from boxoffice.auth.tokens import TokenType
from boxoffice.db import utcnow
from boxoffice.settings import Settings
from tests.factories import auth_headers, make_user

ME = "/api/v1/users/me"


async def test_no_token_is_not_authenticated(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "Bearer", ""])
async def test_malformed_token_is_invalid(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["code"] in {"invalid_token", "not_authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


async def _session_claims(db: AsyncSession, settings: Settings) -> dict[str, object]:
    user = await make_user(db)
    headers = await auth_headers(db, settings, user)
    token = headers["Authorization"].removeprefix("Bearer ")
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def test_expired_token_is_invalid(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    claims = await _session_claims(db, settings)
    expired = tokens.issue(
        settings,
        type=TokenType.ACCESS,
        user_id=int(str(claims["sub"])),
        role="attendee",
        session_id=str(claims["sid"]),
        jti="x",
        now=utcnow() - timedelta(hours=1),
    )

    response = await client.get(ME, headers={"Authorization": f"Bearer {expired}"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "signing_key", "algorithm"),
    [
        ({"sub": "999999"}, "another-key-that-is-not-the-servers-key", "HS256"),
        ({}, "another-key-that-is-not-the-servers-key", "HS256"),
        ({"aud": "someone-else"}, None, "HS256"),
        ({"iss": "someone-else"}, None, "HS256"),
        ({"typ": "refresh"}, None, "HS256"),
        ({}, None, "HS512"),
    ],
)
async def test_tampered_or_foreign_token_is_invalid(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    change: dict[str, object],
    signing_key: str | None,
    algorithm: str,
) -> None:
    claims = await _session_claims(db, settings)
    key = signing_key or settings.secret_key.get_secret_value()
    forged = jwt.encode({**claims, **change}, key, algorithm=algorithm)

    response = await client.get(ME, headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize("missing", ["exp", "iat", "jti", "iss", "aud", "sid"])
async def test_token_missing_a_required_claim_is_invalid(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, missing: str
) -> None:
    claims = await _session_claims(db, settings)
    del claims[missing]
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")

    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


async def test_unsigned_token_is_invalid(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    claims = await _session_claims(db, settings)
    unsigned = jwt.encode(claims, None, algorithm="none")

    response = await client.get(ME, headers={"Authorization": f"Bearer {unsigned}"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
