from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.app import create_app
from boxoffice.users.models import User
from boxoffice.users.schemas import UserRead
from tests.conftest import make_settings

REGISTER = "/api/v1/auth/register"


def body(**overrides: object) -> dict[str, object]:
    return {"email": "ada@example.com", "password": "s3cret-pass", "full_name": "Ada", **overrides}


async def test_registration_creates_an_attendee_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json=body())

    assert response.status_code == 201
    user = response.json()
    assert user["email"] == "ada@example.com"
    assert user["role"] == "attendee"
    assert user["is_active"] is True
    assert set(user) == set(UserRead.model_fields)


async def test_registration_may_ask_for_organizer(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json=body(role="organizer"))

    assert response.status_code == 201
    assert response.json()["role"] == "organizer"


async def test_admin_role_is_never_self_assigned(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await client.post(REGISTER, json=body(role="admin"))

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert (await db.scalars(select(User))).all() == []


async def test_password_shorter_than_eight_characters_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json=body(password="short7!"))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["body", "password"]


async def test_email_is_taken_whatever_its_case(client: httpx.AsyncClient) -> None:
    await client.post(REGISTER, json=body(email="ada@example.com"))

    response = await client.post(REGISTER, json=body(email="ADA@Example.COM"))

    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


@pytest.mark.parametrize(
    "field", [{"is_active": False}, {"id": 7}, {"password_hash": "x"}, {"role": "superuser"}]
)
async def test_unknown_or_privileged_fields_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, field: dict[str, object]
) -> None:
    response = await client.post(REGISTER, json=body(**field))

    assert response.status_code == 422
    assert (await db.scalars(select(User))).all() == []


@pytest.mark.parametrize("email", ["not-an-email", "", "a@", "@b.org"])
async def test_malformed_email_is_refused(client: httpx.AsyncClient, email: str) -> None:
    response = await client.post(REGISTER, json=body(email=email))

    assert response.status_code == 422


async def test_password_is_stored_as_argon2id_hash(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await client.post(REGISTER, json=body())

    user = (await db.scalars(select(User))).one()
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "s3cret-pass" not in user.password_hash


async def test_a_non_ascii_domain_registers(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json=body(email="anna@Bücher.example"))

    assert response.status_code == 201
    assert response.json()["email"] == "anna@bücher.example"


async def test_a_non_ascii_mailbox_is_refused_when_the_mail_server_cannot_take_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await client.post(REGISTER, json=body(email="jörg@example.org"))

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"][0]["loc"] == ["body", "email"]
    assert "ASCII" in problem["errors"][0]["msg"]
    assert (await db.scalars(select(User))).all() == []


@pytest.fixture
async def utf8_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, smtp_utf8=True))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await app.state.engine.dispose()


async def test_a_non_ascii_mailbox_registers_when_the_mail_server_takes_smtputf8(
    utf8_client: httpx.AsyncClient,
) -> None:
    response = await utf8_client.post(REGISTER, json=body(email="jörg@example.org"))

    assert response.status_code == 201
    assert response.json()["email"] == "jörg@example.org"
