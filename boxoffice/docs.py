"""/docs (Swagger UI) and /redoc, with every script and style served by boxoffice itself.

The Swagger UI and ReDoc bundles come from the `fastapi-offline` package (a pinned dependency that
ships swagger-ui-dist 5 and redoc 2 builds), so the pages work offline and their
Content-Security-Policy can allow this origin alone. The pages are written here rather than by
FastAPI, whose versions load from a CDN and start Swagger UI with an inline script.
"""

import secrets
from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from boxoffice.security import content_security_policy

ASSETS_PATH = "/docs-assets"
VENDOR_ASSETS = Path(fastapi_offline.__file__).parent / "static"
OWN_ASSETS = Path(__file__).parent / "docs_assets"


def _page(title: str, head: str, body: str, *, style_nonce: str | None = None) -> HTMLResponse:
    headers = {}
    if style_nonce is not None:
        headers["Content-Security-Policy"] = content_security_policy(style_nonce=style_nonce)
    return HTMLResponse(
        headers=headers,
        content=f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" type="image/png" href="{ASSETS_PATH}/vendor/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
""",
    )


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Adds /docs, /redoc and the files they load. Create the app with docs_url=None and
    redoc_url=None, so that FastAPI's own pages are not there too."""
    app.mount(f"{ASSETS_PATH}/vendor", StaticFiles(directory=VENDOR_ASSETS), name="docs-vendor")
    app.mount(f"{ASSETS_PATH}/own", StaticFiles(directory=OWN_ASSETS), name="docs-own")
    url = escape(openapi_url)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(
            f"{app.title} - Swagger UI",
            f'<link rel="stylesheet" href="{ASSETS_PATH}/vendor/swagger-ui.css">',
            f'<div id="swagger-ui" data-openapi-url="{url}"></div>\n'
            f'<script src="{ASSETS_PATH}/vendor/swagger-ui-bundle.js"></script>\n'
            f'<script src="{ASSETS_PATH}/own/swagger-init.js"></script>',
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        # ReDoc's styles are <style> elements it writes at run time (styled-components), allowed
        # by a nonce that is new on every request; inline scripts stay forbidden.
        nonce = secrets.token_urlsafe(18)
        return _page(
            f"{app.title} - ReDoc",
            "",
            f'<div id="redoc" data-openapi-url="{url}" data-style-nonce="{nonce}"></div>\n'
            f'<script src="{ASSETS_PATH}/vendor/redoc.standalone.js"></script>\n'
            f'<script src="{ASSETS_PATH}/own/redoc-init.js"></script>',
            style_nonce=nonce,
        )
