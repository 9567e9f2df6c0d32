"""A real browser (Debian's chromium, driven by Playwright) against a real `boxoffice serve`.

Without CI a machine with no usable chromium skips these tests with the reason; with CI=true
it fails the run, like an unreachable database.
"""

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.conftest import IN_CI, TEST_SECRET
from tests.factories import PASSWORD, auth_headers, make_user
from tests.servers import running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).parent
AXE = HERE.parents[1] / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = HERE.parents[1] / "test-artifacts" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        unavailable(f"no browser at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        unavailable(f"axe-core is not installed at {AXE} (make install runs npm)")
    return AXE.read_text()


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
        except Error as error:
            unavailable(f"chromium at {chromium} cannot start: {error.message.splitlines()[0]}")
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
def base_url(database_url: str) -> Iterator[str]:
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": TEST_SECRET,
        "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
    }
    with running_server(env) as url:
        yield url


class Person:
    """One person at one browser: a context of their own (cookies, storage), one tab."""

    def __init__(
        self, context: BrowserContext, page: Page, base_url: str, engine: str, axe: str
    ) -> None:
        self.context = context
        self.axe = axe
        self.page = page
        self.base_url = base_url
        self.engine = engine
        self.problems: list[str] = []
        self._watch(page)

    def _watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        # Destructive buttons ask first; this person always says yes.
        page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message: ConsoleMessage) -> None:
        # API errors are part of the scenarios (and shown to the person); the browser logs each
        # refused request as "Failed to load resource". Anything else that is an error is a bug.
        csp = "Content Security Policy" in message.text
        if csp or (message.type == "error" and "Failed to load resource" not in message.text):
            self.problems.append(f"console {message.type}: {message.text}")

    async def open(self, path: str) -> None:
        await self.page.goto(self.base_url + path)
        await expect(self.page.locator("main h1")).to_be_visible()

    async def open_tab(self, path: str) -> Page:
        """A second tab opened from the first, which starts with a copy of its sessionStorage."""
        async with self.context.expect_page() as opened:
            await self.page.evaluate("path => { window.open(path); }", path)
        tab = await opened.value
        self._watch(tab)
        await expect(tab.locator("main h1")).to_be_visible()
        return tab

    async def log_in(self, email: str, password: str = PASSWORD) -> None:
        await self.open("/login")
        await self.page.get_by_label("E-mail").fill(email)
        await self.page.get_by_label("Password").fill(password)
        await self.page.get_by_role("button", name="Log in").click()
        await expect(self.logout_button).to_be_visible()

    @property
    def heading(self) -> Locator:
        return self.page.locator("main h1")

    @property
    def logout_button(self) -> Locator:
        return self.page.get_by_role("button", name="Log out")

    async def check_page(self, name: str) -> None:
        """Reload keeps the page and the login; no serious accessibility violation; screenshots."""
        page = self.page
        heading = await page.locator("main h1").inner_text()
        logged_in = await self.logout_button.count() == 1
        await page.reload()
        await expect(page.locator("main h1")).to_have_text(heading)
        if logged_in:
            await expect(self.logout_button).to_be_visible()
        await self.assert_accessible(name)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
            await page.set_viewport_size(size)
            await page.screenshot(
                path=SCREENSHOTS / f"{self.engine}-{name}-{width}.png", full_page=True
            )
        await page.set_viewport_size(DESKTOP)

    async def assert_accessible(self, name: str) -> None:
        await self.page.evaluate(self.axe)
        result = await self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(json.dumps(node["target"]) for node in v["nodes"][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, f"accessibility violations on {name}: {serious}"


MakePerson = Callable[[], Awaitable[Person]]


@pytest.fixture
async def person(
    browser: Browser, base_url: str, engine_name: str, axe_source: str
) -> AsyncIterator[MakePerson]:
    """Makes people, each in a browser context of their own; none may meet a CSP violation
    or an uncaught script error."""
    people: list[Person] = []

    async def make() -> Person:
        context = await browser.new_context(viewport=DESKTOP)
        context.set_default_timeout(10_000)
        someone = Person(context, await context.new_page(), base_url, engine_name, axe_source)
        people.append(someone)
        return someone

    yield make
    for someone in people:
        await someone.context.close()
    problems = [problem for someone in people for problem in someone.problems]
    assert not problems, f"the browser reported: {problems}"


async def registered(db: AsyncSession, role: Role, name: str) -> User:
    """An established account: its address verified, so no page shows the banner that asks
    for it (tests/web/test_accounts.py is about that)."""
    slug = re.sub(r"\W+", ".", name.lower())
    return await make_user(
        db, role=role, full_name=name, email=f"{slug}@example.com", email_verified=True
    )


async def event_through_api(
    base_url: str, db: AsyncSession, settings: Settings, organizer: User, **fields: Any
) -> dict[str, Any]:
    """A published event made by `organizer` through the API (`ticket_types`, `currency` and
    the rest as `POST /events` takes them), a week from now."""
    body = {
        "location": "Main Hall",
        "starts_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "capacity": 10,
        "status": "published",
        **fields,
    }
    async with httpx.AsyncClient(base_url=base_url) as api:
        response = await api.post(
            "/api/v1/events", headers=await auth_headers(db, settings, organizer), json=body
        )
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event
