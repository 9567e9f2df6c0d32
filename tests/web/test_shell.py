"""The server side of the web UI: one HTML shell for every page URL, under a strict CSP, and
the static files it loads; the API and the operational routes are untouched."""

import re
from html.parser import HTMLParser

import httpx
import pytest

from boxoffice.security import CONTENT_SECURITY_POLICY
from boxoffice.web.router import STATIC, page_paths

# Serving files touches no database; one engine is enough.
pytestmark = pytest.mark.engines("sqlite")


@pytest.mark.parametrize("page", page_paths())
async def test_every_page_url_answers_the_shell_with_the_csp(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page.replace("{id}", "42"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert '<script type="module" src="/web/js/app.js">' in response.text


class _InlineCode(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style" or "style" in names or any(n.startswith("on") for n in names):
            self.found.append(tag)
        if tag == "script" and "src" not in names:
            self.found.append("inline script")


def test_the_shell_has_no_inline_script_or_style() -> None:
    parser = _InlineCode()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    assert parser.found == []


def test_no_module_sets_inline_styles_or_parses_html() -> None:
    # A style attribute would break under style-src 'self'; innerHTML would parse text as markup.
    forbidden = re.compile(r"\.style\.|setAttribute\(\"style|innerHTML|outerHTML|eval\(")
    offenders = [
        path.name
        for path in (STATIC / "js").rglob("*.js")
        if forbidden.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/web/js/app.js", "text/javascript; charset=utf-8"),
        ("/web/js/pages.json", "application/json"),
        ("/web/js/pages/events.js", "text/javascript; charset=utf-8"),
        ("/web/app.css", "text/css; charset=utf-8"),
        ("/web/favicon.svg", "image/svg+xml"),
    ],
)
async def test_static_files_are_served(
    client: httpx.AsyncClient, path: str, content_type: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type


@pytest.mark.parametrize("path", ["/no-such-page", "/web/missing.js", "/events", "/api/v1/nope"])
async def test_other_paths_stay_404_problems(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/healthz", "/readyz"])
async def test_api_docs_and_probes_still_answer(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 200


async def test_ui_pages_stay_out_of_the_api_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    operations = ("/api/v1/", "/healthz", "/readyz", "/metrics")
    assert not [path for path in paths if not path.startswith(operations)]
