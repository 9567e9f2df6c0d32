"""Security headers on every response, CORS for configured origins, trusted proxies (SPEC §6a)."""

from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from boxoffice.settings import Settings


def content_security_policy(
    *, style_nonce: str | None = None, also: Mapping[str, Sequence[str]] | None = None
) -> str:
    """Pages may load scripts, styles, images, fonts and data from this origin alone, and run
    nothing inline: an injected <script> or style attribute does nothing. `data:` images are
    Swagger UI's icons; `blob:` workers are ReDoc's search index, built in the page (same origin
    either way). A page whose script writes <style> elements (ReDoc) names a nonce for them; a
    page that needs another origin (the checkout, Stripe) names it in `also`, by directive."""
    directives: dict[str, list[str]] = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", *([f"'nonce-{style_nonce}'"] if style_nonce else [])],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    for name, sources in (also or {}).items():
        directives[name] = [*directives.get(name, []), *sources]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


CONTENT_SECURITY_POLICY = content_security_policy()

# What Stripe.js needs: its script, the frames of its card field and of 3-D Secure, its API.
# Only a booking's page (its checkout) names them, and only where stripe is enabled (web/router.py).
STRIPE_SOURCES: Mapping[str, Sequence[str]] = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}
CHECKOUT_CONTENT_SECURITY_POLICY = content_security_policy(also=STRIPE_SOURCES)

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


# Answers that carry personal data (a profile, tokens, bookings, guest lists, anything an admin
# reads) must not be kept by a browser's or a proxy's cache, where the next user could find them.
NO_STORE = {"Cache-Control": "no-store"}


async def no_store(response: Response) -> None:
    """A dependency for the routers of such answers; a route that builds its own Response
    passes NO_STORE itself (FastAPI adds a dependency's headers only to what it builds)."""
    response.headers.update(NO_STORE)


class SecurityHeadersMiddleware:
    """Adds the headers of SPEC §6a to every response, and the Content-Security-Policy to every
    HTML one (whatever serves it: the API docs, the web UI, a page added later)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                content_type = dict(headers).get(b"content-type", b"")
                is_html = content_type.split(b";")[0].strip().lower() == b"text/html"
                if is_html and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Call after every other middleware is added: what is added last runs first."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            # Bearer tokens, not cookies: no credentials mode needed.
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Content-Disposition"],
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.forwarded_allow_ips:
        # Outermost, so that rate limits and logs see the client behind a trusted proxy; any
        # other peer's X-Forwarded-For is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
