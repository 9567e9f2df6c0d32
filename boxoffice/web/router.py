"""The web UI: one HTML shell for every page's URL, plus its static files.

The pages are ES modules that talk to the public API only; the server knows nothing of them
but their URLs, so that a reload or a shared link lands on the same page.
"""

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
ASSETS_PATH = "/web"

# The one list of the UI's pages: the browser's router (static/js/app.js) fetches it too.
PAGES_FILE = STATIC / "js" / "pages.json"


def page_paths() -> list[str]:
    """Every URL the UI has a page for, with FastAPI's `{name}` for a path parameter; anything
    else stays a 404 problem."""
    return [str(page["path"]) for page in json.loads(PAGES_FILE.read_text(encoding="utf-8"))]


async def shell() -> FileResponse:
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        # The Content-Security-Policy comes with every HTML answer (security.py).
        headers={"Cache-Control": "no-cache"},
    )


def mount(app: FastAPI) -> None:
    """Adds the pages and their files; after the API, so that no page shadows a route."""
    for path in page_paths():
        app.add_api_route(path, shell, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC), name="web")
