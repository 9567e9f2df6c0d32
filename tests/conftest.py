"""Every test that asks for `database_url`, `app`, `client` or `db` runs once per reachable
database engine.

Each engine gets a fresh database for the session, migrated with Alembic; every test starts
from empty tables.
"""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice import migrations
from boxoffice.app import create_app
from boxoffice.bookings.rush import RushHint
from boxoffice.catalogue.terms import TermsCache
from boxoffice.db import create_engine, create_sessionmaker
from boxoffice.models import Base
from boxoffice.settings import Settings
from boxoffice.webhooks.addresses import StaticResolver
from tests import engines
from tests.servers import running_servers

AVAILABILITY = engines.discover()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_SECRET = "test-secret-key-" + "x" * 64


def pytest_configure() -> None:
    if IN_CI and AVAILABILITY.deselected:
        left_out = ", ".join(AVAILABILITY.deselected)
        pytest.exit(
            f"CI=true runs every engine, but BOXOFFICE_TEST_ENGINES leaves out: {left_out}; "
            "unset BOXOFFICE_TEST_ENGINES (or CI) to run",
            returncode=1,
        )
    if IN_CI and AVAILABILITY.unreachable:
        missing = ", ".join(AVAILABILITY.unreachable)
        pytest.exit(f"CI=true and these services are unreachable: {missing}", returncode=1)


def pytest_report_header() -> list[str]:
    return [_engines_line()]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(_engines_line())


def _engines_line() -> str:
    line = f"boxoffice engines run: {', '.join(AVAILABILITY.engines)}"
    line += f"; redis: {'yes' if AVAILABILITY.redis else 'NO'}"
    if AVAILABILITY.unreachable:
        line += f"; SKIPPED (unreachable): {', '.join(AVAILABILITY.unreachable)}"
    if AVAILABILITY.deselected:
        line += f"; not asked for (BOXOFFICE_TEST_ENGINES): {', '.join(AVAILABILITY.deselected)}"
    return line


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_name" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("engines")
    names = [n for n in AVAILABILITY.engines if marker is None or n in marker.args]
    metafunc.parametrize("engine_name", names, scope="session")


@pytest.fixture(scope="session")
async def database_url(engine_name: str) -> AsyncIterator[str]:
    url = await engines.create_database(engine_name)
    # Alembic's env runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(migrations.upgrade, Settings(database_url=url))
    yield url
    await engines.drop_database(engine_name, url)


def make_settings(database_url: str, **overrides: object) -> Settings:
    defaults: dict[str, object] = {"secret_key": TEST_SECRET, "rate_limits_enabled": False}
    return Settings(database_url=database_url, **(defaults | overrides))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    # No test resolves a real name: a webhook URL's host is a literal address, or refused.
    application.state.webhook_resolver = StaticResolver({})
    yield application
    await application.state.engine.dispose()


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "database_url" not in request.fixturenames:
        return
    # Tests that only run server processes or the CLI against the database write to it too.
    engine = create_engine(Settings(database_url=request.getfixturevalue("database_url")))
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(delete(table))
    finally:
        await engine.dispose()


@pytest.fixture(autouse=True)
def _nothing_remembered(request: pytest.FixtureRequest) -> None:
    """Which way a booking asks first depends on what the app refused lately, and its prices on
    the terms it read; ids repeat from test to test, so each test starts with neither."""
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        app.state.rush_hint = RushHint()
        app.state.terms_cache = TermsCache()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def db(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session for arranging and inspecting; committed by the factories that write."""
    async with app.state.sessionmaker() as session:
        yield session


@pytest.fixture(scope="module")
def servers(database_url: str) -> Iterator[list[str]]:
    """Two real `boxoffice serve` processes sharing the engine's database, rate limits off."""
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": "test-secret-key-" + "x" * 64,
        "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
    }
    with running_servers(env, count=2) as urls:
        yield urls
