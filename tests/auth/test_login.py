import httpx
import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.users.models import Role
from tests.factories import PASSWORD, make_user

LOGIN = "/api/v1/auth/login"


async def test_login_with_json_returns_a_bearer_token_pair(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user = await make_user(db, email="ann@example.com")

    response = await client.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})

    assert response.status_code == 200
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(user.id)
    assert claims["role"] == "attendee"
    assert {"sid", "jti", "iat", "exp", "iss", "aud"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60


async def test_login_with_the_oauth2_password_form(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")

    response = await client.post(LOGIN, data={"username": "ann@example.com", "password": PASSWORD})

    assert response.status_code == 200
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["email"] == "ann@example.com"


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_user(db, email="ann@example.com")

    response = await client.post(LOGIN, json={"email": "Ann@EXAMPLE.com", "password": PASSWORD})

    assert response.status_code == 200


async def test_wrong_password_and_unknown_email_look_the_same(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, email="ann@example.com")

    wrong_password = await client.post(
        LOGIN, json={"email": "ann@example.com", "password": "nope-nope"}
    )
    unknown_email = await client.post(
        LOGIN, json={"email": "bob@example.com", "password": PASSWORD}
    )

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.json()["code"] == "invalid_credentials"


async def test_disabled_account_cannot_log_in(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_user(db, email="ann@example.com", is_active=False)

    response = await client.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})

    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


async def test_login_without_credentials_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGIN, data={"username": "ann@example.com"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_role_claim_reflects_the_account(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_user(db, email="org@example.com", role=Role.ORGANIZER)

    response = await client.post(LOGIN, json={"email": "org@example.com", "password": PASSWORD})

    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "organizer"
