"""/docs and /redoc in a real browser, under their Content-Security-Policy, with nothing but the
server itself to load from: they render, and no request leaves the origin."""

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Request, Route, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import IN_CI
from tests.factories import PASSWORD, make_user
from tests.servers import running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def docs_server(database_url: str) -> Iterator[str]:
    with running_server({"BOXOFFICE_DATABASE_URL": database_url}) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail("CI=true and no chromium on this machine (.ci/run installs it)")
        pytest.skip("no chromium on this machine")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


class Visit:
    """What a page asked the network for (after its Content-Security-Policy had its say: a
    request the policy blocks never gets here), and what went wrong."""

    def __init__(self, page: Page, origin: str) -> None:
        self.origin = origin
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        page.on("requestfailed", lambda request: self.failed.append(request.url))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    async def start(self, page: Page) -> None:
        await page.route("**/*", self._route)

    async def _route(self, route: Route, request: Request) -> None:
        self.requests.append(request.url)
        if request.url.startswith(self.origin):
            await route.continue_()
        else:
            await route.abort()

    @property
    def elsewhere(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.origin)]

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.mark.engines("sqlite")
async def test_swagger_ui_renders_under_its_policy_from_local_files(
    browser: Browser, docs_server: str
) -> None:
    page = await browser.new_page()
    visit = Visit(page, docs_server)
    await visit.start(page)

    await page.goto(f"{docs_server}/docs")
    await page.wait_for_selector(".opblock", timeout=15_000)

    assert await page.locator(".opblock").count() > 10, "every operation is listed"
    assert await page.locator("button.authorize").count() == 1
    assert len(visit.requests) >= 4, "the page, its script, style and init script, the document"
    assert visit.elsewhere == []
    assert not visit.failed
    assert not visit.errors, "no script error and no Content-Security-Policy violation"


@pytest.mark.engines("sqlite")
async def test_redoc_renders_under_its_policy_from_local_files(
    browser: Browser, docs_server: str
) -> None:
    page = await browser.new_page()
    visit = Visit(page, docs_server)
    await visit.start(page)

    await page.goto(f"{docs_server}/redoc")
    await page.wait_for_selector("h1", timeout=15_000)
    await page.wait_for_selector("[data-section-id^='tag/']", timeout=15_000)

    assert "boxoffice" in await page.locator("h1").first.inner_text()
    assert visit.elsewhere == []
    # ReDoc's logo on a CDN is refused by the policy before any network access: a failed request.
    assert [url for url in visit.failed if url.startswith(docs_server)] == []
    # ReDoc's own attempts to reach elsewhere (its logo on a CDN) or to set style attributes are
    # refused by the policy and reported as console errors; its styles are in place all the same.
    assert not [e for e in visit.errors if "Content Security Policy" not in e], visit.errors
    background = await page.locator(".menu-content").first.evaluate(
        "element => getComputedStyle(element).backgroundColor"
    )
    assert background not in ("", "rgba(0, 0, 0, 0)"), "styled: the sidebar has its colour"


@pytest.mark.engines("sqlite")
async def test_swagger_ui_authorize_logs_in_under_its_policy(
    browser: Browser, docs_server: str, db: AsyncSession
) -> None:
    await make_user(db, email="docs.reader@example.com")
    page = await browser.new_page()
    visit = Visit(page, docs_server)
    await visit.start(page)
    await page.goto(f"{docs_server}/docs")

    await page.click("button.authorize")
    await page.fill("#oauth_username", "docs.reader@example.com")
    await page.fill("#oauth_password", PASSWORD)
    async with page.expect_response(f"{docs_server}/api/v1/auth/login") as login:
        await page.click(".auth-btn-wrapper button.authorize")

    assert (await login.value).status == 200
    await page.get_by_role("button", name="Logout").first.wait_for(timeout=10_000)
    assert visit.elsewhere == []
    assert not visit.errors
