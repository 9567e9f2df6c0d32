"""Every failure is application/problem+json with a stable code, and nothing internal leaks."""

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

import boxoffice
from boxoffice.app import create_app
from boxoffice.db import Session
from boxoffice.errors import CODE_STATUSES, Conflict, DomainError
from boxoffice.settings import Settings

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert set(body) >= PROBLEM_FIELDS
    assert body["status"] == status
    assert body["code"] == code
    return body


async def test_unknown_route_is_not_found(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not_found")


async def test_wrong_method_is_method_not_allowed(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/api/v1/auth/login"), 405, "method_not_allowed")


async def test_malformed_json_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )

    body = assert_problem(response, 422, "validation_error")
    assert isinstance(body["errors"], list)


async def test_oversized_body_is_payload_too_large(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/register", content=b"x" * 2_000_000)

    assert_problem(response, 413, "payload_too_large")


async def test_oversized_chunked_body_is_payload_too_large(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    response = await client.post("/api/v1/auth/register", content=chunks())

    assert_problem(response, 413, "payload_too_large")


@pytest.fixture
async def failing_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: SELECT password_hash FROM users")

    @app.get("/boom-in-the-database")
    async def boom_in_the_database(session: Session) -> None:
        await session.execute(
            text("SELECT no_such_column FROM users WHERE email = :email"),
            {"email": "private.person@example.com"},
        )

    yield app
    await app.state.engine.dispose()


async def test_unexpected_exception_is_a_bare_internal_error(failing_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=failing_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/boom", headers={"X-Request-ID": "trace-me-42"})

    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.text
    assert "SELECT" not in response.text
    assert "trace-me-42" in str(body["detail"])


async def test_internal_error_carries_its_request_id_header(failing_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=failing_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        given = await http.get("/boom", headers={"X-Request-ID": "trace-me-43"})
        made = await http.get("/boom")

    assert_problem(given, 500, "internal_error")
    assert given.headers["x-request-id"] == "trace-me-43"
    assert made.headers["x-request-id"] in made.json()["detail"]


async def test_database_errors_are_logged_without_their_parameters(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(app=failing_app, raise_app_exceptions=False)
    # INFO and up: what a deployment sees (drivers' DEBUG chatter is off unless asked for).
    with caplog.at_level(logging.INFO):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/boom-in-the-database", headers={"X-Request-ID": "db-1"})

    assert_problem(response, 500, "internal_error")
    logged = caplog.text  # messages and tracebacks
    assert "no_such_column" in logged, "the error itself is logged"
    assert "private.person@example.com" not in logged
    assert "private.person@example.com" not in response.text


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    made = await client.get("/healthz")
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith tab"})

    assert given.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32
    assert unsafe.headers["x-request-id"] != "bad id\twith tab"


async def test_every_route_declares_its_problem_responses(app: FastAPI) -> None:
    schema = app.openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            declared = operation["responses"]
            assert "422" in declared, f"{method.upper()} {path}"
            assert "500" in declared, f"{method.upper()} {path}"
            assert "application/problem+json" in declared["500"]["content"], f"{method} {path}"


async def test_body_that_is_not_utf8_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        content=b"\xff\xfe\x00",
        headers={"content-type": "application/json"},
    )

    assert_problem(response, 422, "validation_error")


async def test_nul_characters_in_text_are_refused(client: httpx.AsyncClient) -> None:
    register = await client.post(
        "/api/v1/auth/register",
        json={"email": "nul@example.com", "password": "long enough", "full_name": "a\u0000b"},
    )
    search = await client.get("/api/v1/events", params={"q": "o\u0000"})

    assert_problem(register, 422, "validation_error")
    assert_problem(search, 422, "validation_error")
    login = await client.post(
        "/api/v1/auth/login", json={"email": "nul@example.com", "password": "long enough"}
    )
    assert login.status_code == 401, "nothing was registered"


# -- a code means one status -----------------------------------------------------------------


def every_domain_error() -> list[type[DomainError]]:
    """Every DomainError subclass the package defines, wherever it lives."""
    for module in pkgutil.walk_packages(boxoffice.__path__, "boxoffice."):
        if not module.name.startswith("boxoffice.migrations"):  # scripts for alembic to run
            importlib.import_module(module.name)
    found: list[type[DomainError]] = []
    unseen = [DomainError]
    while unseen:
        for subclass in unseen.pop().__subclasses__():
            if subclass.__module__.startswith("boxoffice."):
                found.append(subclass)
            unseen.append(subclass)
    return found


def test_every_error_answers_its_code_with_a_status_spec_gives_it() -> None:
    errors = every_domain_error()

    for error in errors:
        assert error.status in CODE_STATUSES[error.code], f"{error.__qualname__}: {error.code}"
    assert {error.code for error in errors} == set(CODE_STATUSES), "no code without its error"


def test_only_credentials_and_tokens_have_two_statuses() -> None:
    shared = {code for code, statuses in CODE_STATUSES.items() if len(statuses) > 1}

    def statuses(code: str) -> set[int]:
        return {e.status for e in every_domain_error() if e.code == code}

    assert shared == {"invalid_credentials", "invalid_token"}
    assert statuses("invalid_credentials") == {400, 401}, (
        "a login's 401 and a password change's 400 (SPEC §4)"
    )
    assert statuses("invalid_token") == {400, 401}, (
        "a bearer token's 401 and a link's 400 (SPEC §13)"
    )


def test_an_error_with_a_status_its_code_does_not_have_cannot_be_defined() -> None:
    with pytest.raises(TypeError, match="not_found"):

        class SeatGone(Conflict):
            code = "not_found"

    with pytest.raises(TypeError, match="seat_gone"):

        class SeatVanished(Conflict):
            code = "seat_gone"
