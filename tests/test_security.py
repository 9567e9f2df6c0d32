"""SPEC §6a, line by line: security headers, a strict CSP on HTML pages, API docs served from
boxoffice itself, CORS only for configured origins, trusted proxies, a private SQLite file, and
rate limits that fail open, once and counted, when Redis is gone."""

import logging
import os
import re
import secrets
import stat
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.app import create_app
from boxoffice.security import CONTENT_SECURITY_POLICY
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_event, signed_in
from tests.test_cli import boxoffice

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
DOC_PAGES = ["/docs", "/redoc"]
ORIGIN = "https://tickets.example.com"


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, f"{response.request.url}: {name}"


def client_for(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def app_with() -> AsyncIterator[list[FastAPI]]:
    """Apps made with settings of a test's own; disposed of afterwards."""
    apps: list[FastAPI] = []
    yield apps
    for app in apps:
        await app.state.engine.dispose()


def make_app(apps: list[FastAPI], database_url: str, **overrides: object) -> FastAPI:
    app = create_app(make_settings(database_url, **overrides))
    apps.append(app)
    return app


# -- headers on API, error and HTML responses ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/events", 200),
        ("GET", "/healthz", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/api/v1/users/me", 401),
        ("GET", "/api/v1/events/999999", 404),
        ("DELETE", "/api/v1/auth/login", 405),
        ("GET", "/api/v1/events?limit=0", 422),
        ("GET", "/docs", 200),
        ("GET", "/redoc", 200),
        ("GET", "/docs-assets/own/swagger-init.js", 200),
    ],
)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)

    assert response.status_code == status
    assert_security_headers(response)


async def test_internal_error_carries_the_security_headers(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    async with client_for(app) as http:
        response = await http.get("/boom")
    await app.state.engine.dispose()

    assert response.status_code == 500
    assert_security_headers(response)
    assert "x-request-id" in response.headers


async def test_rate_limited_and_oversized_answers_carry_the_security_headers(
    app_with: list[FastAPI], database_url: str
) -> None:
    app = make_app(
        app_with,
        database_url,
        rate_limits_enabled=True,
        rate_limit_default="1/minute",
        rate_limit_prefix=f"headers-{secrets.token_hex(4)}",
    )
    async with client_for(app) as http:
        await http.get("/api/v1/events")
        limited = await http.get("/api/v1/events")
        too_large = await http.post("/api/v1/auth/register", content=b"x" * 2_000_000)

    assert (limited.status_code, too_large.status_code) == (429, 413)
    assert_security_headers(limited)
    assert_security_headers(too_large)


# -- a strict Content-Security-Policy on HTML pages --------------------------------------------


def csp_directives(response: httpx.Response) -> dict[str, list[str]]:
    return directives_of(response.headers["content-security-policy"])


def directives_of(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", DOC_PAGES)
async def test_html_pages_carry_a_strict_content_security_policy(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.headers["content-type"].startswith("text/html")
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"], "no inline scripts, no other origin"
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    for name, values in directives.items():
        for value in values:
            allowed = value in ("'self'", "'none'", "data:", "blob:") or value.startswith("'nonce-")
            assert allowed, f"{name} allows {value}"


def test_the_one_policy_allows_this_origin_alone_and_runs_nothing_inline() -> None:
    directives = directives_of(CONTENT_SECURITY_POLICY)
    required = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }

    assert {name: directives.get(name) for name in required} == required
    assert set(directives["img-src"]) <= {"'self'", "data:"}
    assert set(directives["worker-src"]) <= {"'self'", "blob:"}


async def test_the_web_ui_and_the_api_docs_carry_the_one_policy(client: httpx.AsyncClient) -> None:
    for path in ("/", "/login", "/docs"):
        response = await client.get(path)

        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path


async def test_any_html_response_gets_the_policy_and_json_does_not_need_it(
    settings: Settings,
) -> None:
    app = create_app(settings)

    @app.get("/a-page-added-later")
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hello</p>")

    async with client_for(app) as http:
        html = await http.get("/a-page-added-later")
        api = await http.get("/api/v1/events")
    await app.state.engine.dispose()

    assert "script-src 'self'" in html.headers["content-security-policy"]
    assert "content-security-policy" not in api.headers


async def test_redoc_style_nonce_is_new_on_every_request(client: httpx.AsyncClient) -> None:
    nonces = {csp_directives(await client.get("/redoc"))["style-src"][1] for _ in range(3)}

    assert len(nonces) == 3


# -- the API docs load nothing from another origin, and everything they load is there ----------


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href"):
            if attributes.get(name):
                self.urls.append(str(attributes[name]))
        if "style" in attributes:
            self.inline_styles += 1
        if tag == "style":
            self.inline_styles += 1
        self._in_script_without_src = tag == "script" and not attributes.get("src")
        if any(name.startswith("on") for name in attributes):
            self.inline_scripts += 1

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script_without_src = False


@pytest.mark.parametrize("path", DOC_PAGES)
async def test_docs_pages_reference_only_their_own_origin_and_every_asset_answers(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path)
    references = _References()
    references.feed(page.text)

    assert references.urls, "the page loads its scripts and styles"
    assert references.inline_scripts == 0
    assert references.inline_styles == 0
    for url in references.urls:
        assert url.startswith("/"), f"{url} is another origin"
        assert not url.startswith("//"), f"{url} is another origin"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
    # What the pages' own scripts ask for: the OpenAPI document, named in a data attribute.
    for openapi_url in re.findall(r'data-openapi-url="([^"]+)"', page.text):
        assert (await client.get(openapi_url)).status_code == 200
    assert not re.search(r"https?://", page.text), "no absolute URL in the page at all"


async def test_swagger_ui_and_redoc_bundles_are_the_real_ones(client: httpx.AsyncClient) -> None:
    swagger = await client.get("/docs-assets/vendor/swagger-ui-bundle.js")
    redoc = await client.get("/docs-assets/vendor/redoc.standalone.js")
    css = await client.get("/docs-assets/vendor/swagger-ui.css")

    assert "SwaggerUIBundle" in swagger.text
    assert swagger.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert "Redoc" in redoc.text
    assert css.headers["content-type"].startswith("text/css")


# -- CORS ----------------------------------------------------------------------------------------


async def test_cors_is_off_by_default(client: httpx.AsyncClient) -> None:
    simple = await client.get("/api/v1/events", headers={"Origin": ORIGIN})
    preflight = await client.options(
        "/api/v1/events",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )

    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405


async def test_cors_allows_exactly_the_configured_origins(
    app_with: list[FastAPI], database_url: str
) -> None:
    app = make_app(app_with, database_url, cors_origins=f"{ORIGIN}, https://other.example.com")
    async with client_for(app) as http:
        simple = await http.get("/api/v1/events", headers={"Origin": ORIGIN})
        preflight = await http.options(
            "/api/v1/bookings",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
            },
        )
        stranger = await http.get("/api/v1/events", headers={"Origin": "https://evil.example"})
        stranger_preflight = await http.options(
            "/api/v1/bookings",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )

    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
    assert_security_headers(preflight)
    assert "access-control-allow-origin" not in stranger.headers
    assert stranger_preflight.status_code == 400
    assert "access-control-allow-origin" not in stranger_preflight.headers


def test_cors_origins_come_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOXOFFICE_CORS_ORIGINS", f"{ORIGIN},https://b.example")
    monkeypatch.setenv("BOXOFFICE_FORWARDED_ALLOW_IPS", "10.0.0.1, 10.1.0.0/16")

    settings = Settings()

    assert settings.cors_origins == [ORIGIN, "https://b.example"]
    assert settings.forwarded_allow_ips == ["10.0.0.1", "10.1.0.0/16"]
    assert Settings(_env_file=None).cors_origins == [ORIGIN, "https://b.example"]


def test_cors_and_proxies_are_off_without_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOXOFFICE_CORS_ORIGINS", raising=False)
    monkeypatch.delenv("BOXOFFICE_FORWARDED_ALLOW_IPS", raising=False)

    settings = Settings(_env_file=None)

    assert (settings.cors_origins, settings.forwarded_allow_ips) == ([], [])


# -- trusted proxies -------------------------------------------------------------------------------


async def answers_behind(app: FastAPI, peer: str, forwarded_for: list[str]) -> list[int]:
    """Status of one login per X-Forwarded-For value, all sent by `peer`."""
    statuses = []
    async with client_for(app, peer) as http:
        for client_address in forwarded_for:
            response = await http.post(
                "/api/v1/auth/login",
                json={"email": f"{secrets.token_hex(4)}@example.com", "password": "whatever"},
                headers={"X-Forwarded-For": client_address},
            )
            statuses.append(response.status_code)
    return statuses


async def test_forwarded_for_is_believed_only_from_configured_proxies(
    app_with: list[FastAPI], database_url: str
) -> None:
    limited = {
        "rate_limits_enabled": True,
        "rate_limit_auth": "1/minute",
        "forwarded_allow_ips": "10.0.0.1",
    }
    app = make_app(
        app_with, database_url, **limited, rate_limit_prefix=f"proxy-{secrets.token_hex(4)}"
    )
    clients = ["203.0.113.7", "203.0.113.8"]

    from_proxy = await answers_behind(app, "10.0.0.1", clients)
    from_elsewhere = await answers_behind(app, "10.0.0.2", clients)

    assert from_proxy == [401, 401], "two clients behind the proxy, a limit each"
    assert from_elsewhere == [401, 429], "a header from anyone else is ignored"


async def test_forwarded_for_is_ignored_by_default_even_from_localhost(
    app_with: list[FastAPI], database_url: str
) -> None:
    app = make_app(
        app_with,
        database_url,
        rate_limits_enabled=True,
        rate_limit_auth="1/minute",
        rate_limit_prefix=f"noproxy-{secrets.token_hex(4)}",
    )

    assert await answers_behind(app, "127.0.0.1", ["203.0.113.7", "203.0.113.8"]) == [401, 429]


# -- a private SQLite file -------------------------------------------------------------------------


def test_sqlite_database_file_is_created_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "box.db"
    previous = os.umask(0o022)
    try:
        result = boxoffice(
            "db", "upgrade", env={"BOXOFFICE_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
        )
    finally:
        os.umask(previous)

    assert result.returncode == 0, result.stderr
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


async def test_sqlite_file_made_by_the_app_is_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "app.db"
    app = create_app(make_settings(f"sqlite+aiosqlite:///{database}"))
    async with client_for(app) as http:
        ready = await http.get("/readyz")
    await app.state.engine.dispose()

    assert ready.status_code == 200
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


# -- rate limits fail open, once and counted -----------------------------------------------------


def storage_failures() -> float:
    return REGISTRY.get_sample_value("boxoffice_rate_limit_storage_failures_total") or 0.0


async def test_unreachable_redis_fails_open_with_one_warning_and_a_count(
    app_with: list[FastAPI], database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(
        app_with,
        database_url,
        rate_limits_enabled=True,
        rate_limit_auth="1/minute",
        redis_url="redis://127.0.0.1:9/0",
    )
    before = storage_failures()
    with caplog.at_level(logging.WARNING, logger="boxoffice.ratelimit"):
        async with client_for(app) as http:
            answers = [
                await http.post(
                    "/api/v1/auth/login", json={"email": "a@example.com", "password": "whatever"}
                )
                for _ in range(5)
            ]

    assert [a.status_code for a in answers] == [401] * 5, "let through, though over the limit"
    warnings = [r for r in caplog.records if r.name == "boxoffice.ratelimit"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "unreachable" in warnings[0].getMessage()
    assert storage_failures() - before >= 5


# -- answers with personal data are stored by no cache ------------------------------------------


async def test_answers_that_carry_personal_data_are_not_stored(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await signed_in(db, settings, Role.ORGANIZER)
    attendee = await signed_in(db, settings, Role.ATTENDEE)
    admin = await signed_in(db, settings, Role.ADMIN)
    event = await make_event(db, organizer.user)
    booked = await client.post(
        "/api/v1/bookings", headers=attendee.headers, json={"event_id": event.id}
    )
    booking = booked.json()["id"]
    login = await client.post(
        "/api/v1/auth/login", json={"email": attendee.user.email, "password": PASSWORD}
    )
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    guests = f"/api/v1/events/{event.id}/bookings"
    answers = {
        "POST /bookings": booked,
        "POST /auth/login": login,
        "POST /auth/refresh": refresh,
        "GET /users/me": await client.get("/api/v1/users/me", headers=attendee.headers),
        "GET /bookings/me": await client.get("/api/v1/bookings/me", headers=attendee.headers),
        "GET /bookings/{id}": await client.get(
            f"/api/v1/bookings/{booking}", headers=attendee.headers
        ),
        "guest list": await client.get(guests, headers=organizer.headers),
        "guest list CSV": await client.get(
            guests, headers=organizer.headers, params={"format": "csv"}
        ),
        "GET /admin/users": await client.get("/api/v1/admin/users", headers=admin.headers),
        "GET /admin/stats": await client.get("/api/v1/admin/stats", headers=admin.headers),
        "GET /admin/notifications": await client.get(
            "/api/v1/admin/notifications", headers=admin.headers
        ),
    }

    for name, response in answers.items():
        assert response.is_success, name
        assert "no-store" in response.headers.get("cache-control", ""), name
    public = await client.get(f"/api/v1/events/{event.id}")
    assert "no-store" not in public.headers.get("cache-control", ""), "nothing personal there"
