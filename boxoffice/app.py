import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

import boxoffice
from boxoffice import metrics, ops
from boxoffice.admin.router import router as admin_router
from boxoffice.apikeys.router import router as apikeys_router
from boxoffice.auth.router import router as auth_router
from boxoffice.bookings.router import router as bookings_router
from boxoffice.bookings.rush import RushHint
from boxoffice.catalogue.router import router as catalogue_router
from boxoffice.catalogue.terms import TermsCache
from boxoffice.db import create_engine, create_reading_sessionmaker, create_sessionmaker
from boxoffice.docs import install_docs
from boxoffice.door.router import router as door_router
from boxoffice.errors import install_error_handlers
from boxoffice.events.router import router as events_router
from boxoffice.notifications import worker as notification_worker
from boxoffice.notifications.router import router as notifications_router
from boxoffice.observability import BodySizeLimitMiddleware, RequestContextMiddleware
from boxoffice.payments import sweeper
from boxoffice.payments.registry import providers_for
from boxoffice.payments.router import router as payments_router
from boxoffice.ratelimit import Limit, RateLimiter, per_address
from boxoffice.sales.router import router as sales_router
from boxoffice.security import install_security
from boxoffice.settings import Settings
from boxoffice.users.router import router as users_router
from boxoffice.web import router as web
from boxoffice.webhooks import delivery as webhook_delivery
from boxoffice.webhooks.addresses import system_resolver
from boxoffice.webhooks.router import router as webhooks_router

API_PREFIX = "/api/v1"


def create_app(settings: Settings) -> FastAPI:
    engine = create_engine(settings, poolclass=metrics.CountingPool)
    metrics.instrument_pool(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What start-up made (modules, the app, SQLAlchemy's mappers and caches) lives as long
        # as the process: out of the collector's reach, its collections stop walking it over
        # and over (a tenth of a read's CPU under load, measured).
        gc.collect()
        gc.freeze()
        # The notification worker runs in every server process unless turned off.
        async with (
            notification_worker.in_background(settings, app.state.sessionmaker),
            sweeper.in_background(settings, app.state.sessionmaker, app.state.payment_providers),
            webhook_delivery.in_background(
                settings, app.state.sessionmaker, app.state.webhook_resolver
            ),
        ):
            yield
        await engine.dispose()

    app = FastAPI(
        title="boxoffice",
        version=boxoffice.__version__,
        summary="Events with limited seats, booked exactly, even when thousands rush one event.",
        lifespan=lifespan,
        # Served by docs.install_docs from local files instead of FastAPI's CDN-based pages.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine, settings)
    app.state.reading_sessionmaker = create_reading_sessionmaker(engine, settings)
    app.state.rate_limiter = RateLimiter(settings)
    app.state.rush_hint = RushHint()
    app.state.terms_cache = TermsCache()
    app.state.payment_providers = providers_for(settings)
    # How webhook URLs' names are resolved; tests put a StaticResolver here.
    app.state.webhook_resolver = system_resolver

    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(metrics.RequestMetricsMiddleware)
    app.add_middleware(RequestContextMiddleware)
    install_security(app, settings)

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(per_address(Limit.DEFAULT))])
    for router in (
        auth_router,
        users_router,
        events_router,
        catalogue_router,
        bookings_router,
        payments_router,
        door_router,
        sales_router,
        admin_router,
        notifications_router,
        webhooks_router,
        # Last: requests of the hot paths (bookings, events) match before trying its routes.
        apikeys_router,
    ):
        api.include_router(router)
    app.include_router(api)
    app.include_router(ops.router)
    app.include_router(metrics.router)
    install_docs(app, app.openapi_url or "/openapi.json")
    web.mount(app)
    return app
