"""The web UI: one HTML shell for every page's URL, plus its static files.

The pages are ES modules that talk to the public API only; the server knows nothing of them
but their URLs, so that a reload or a shared link lands on the same page.
"""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from boxoffice.security import CONTENT_SECURITY_POLICY

STATIC = Path(__file__).parent / "static"
ASSETS_PATH = "/web"

# Every URL the UI's router (static/js/router.js) knows; anything else stays a 404 problem.
PAGES = (
    "/",
    "/login",
    "/signup",
    "/events/{event_id}",
    "/bookings",
    "/organizer",
    "/organizer/events/new",
    "/organizer/events/{event_id}/edit",
    "/organizer/events/{event_id}/guests",
    "/admin",
    "/admin/audit-log",
    "/admin/notifications",
)

router = APIRouter(include_in_schema=False)


async def shell() -> FileResponse:
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"},
    )


for page in PAGES:
    router.add_api_route(page, shell, methods=["GET"])


def mount(app: FastAPI) -> None:
    """Adds the pages and their files; after the API, so that no page shadows a route."""
    app.include_router(router)
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC), name="web")
