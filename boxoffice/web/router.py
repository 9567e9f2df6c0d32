"""The web UI: one HTML shell for every page's URL, plus its static files.

The pages are ES modules that talk to the public API only; the server knows nothing of them
but their URLs, so that a reload or a shared link lands on the same page.
"""

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from boxoffice.security import CHECKOUT_CONTENT_SECURITY_POLICY
from boxoffice.settings import AppSettings, PaymentProviderName

STATIC = Path(__file__).parent / "static"
ASSETS_PATH = "/web"

# The one list of the UI's pages: the browser's router (static/js/app.js) fetches it too.
PAGES_FILE = STATIC / "js" / "pages.json"

# The document of the pages marked `"document": "checkout"` in PAGES_FILE: a booking's page,
# where it is paid. A Content-Security-Policy belongs to a document, not to a page the shell
# draws, and Stripe.js needs another origin's script, frames and API. So that page is the same
# shell served with a policy that names Stripe (where stripe is enabled), and the browser's router
# (static/js/router.js) goes into and out of it with a full page load: no other page ever runs
# under that policy or beside Stripe.js, and every other URL keeps the strict one of security.py.
CHECKOUT = "checkout"


def pages() -> list[dict[str, str]]:
    pages: list[dict[str, str]] = json.loads(PAGES_FILE.read_text(encoding="utf-8"))
    return pages


def page_paths() -> list[str]:
    """Every URL the UI has a page for, with FastAPI's `{name}` for a path parameter; anything
    else stays a 404 problem."""
    return [str(page["path"]) for page in pages()]


def _shell(headers: dict[str, str]) -> FileResponse:
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache", **headers},
    )


async def shell() -> FileResponse:
    # The Content-Security-Policy comes with every HTML answer (security.py).
    return _shell({})


async def checkout_shell(settings: AppSettings) -> FileResponse:
    if PaymentProviderName.STRIPE not in settings.payment_providers:
        return _shell({})
    return _shell({"Content-Security-Policy": CHECKOUT_CONTENT_SECURITY_POLICY})


def mount(app: FastAPI) -> None:
    """Adds the pages and their files; after the API, so that no page shadows a route."""
    for page in pages():
        endpoint = checkout_shell if page.get("document") == CHECKOUT else shell
        app.add_api_route(page["path"], endpoint, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC), name="web")
