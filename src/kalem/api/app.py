"""The FastAPI application: native `/v1`, and every face that registers itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import version as package_version

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline

from kalem.api import errors
from kalem.api.access_log import HEADER, AccessLog, accepted
from kalem.api.context import Context
from kalem.api.middleware import BodyLimit, CaseInsensitivePaths
from kalem.api.ratelimit import RateLimit
from kalem.api.routes import billing, cancel_requests, meta, orders, packages
from kalem.api.routes import refunds as refund_routes
from kalem.api.routes import webhooks as webhook_routes


def create_app(ctx: Context, faces: Iterable[tuple[APIRouter, dict[str, str]]] = (),
               extra: Iterable[Callable[[FastAPI], None]] = ()) -> FastAPI:
    # `/docs` loads Swagger UI from a packaged copy: it works offline. (No ReDoc: its page loads a logo
    # from another host.)
    app = FastAPIOffline(redoc_url=None, title="kalem", version=package_version("kalem"),
                  description="What happens to an order line after checkout: cancel, ask to cancel, split, "
                              "return, refund, re-invoice — told to every integrator, reliably.")
    app.state.kalem = ctx
    errors.install(app)
    for router in (meta.router, orders.router, cancel_requests.router, billing.router, packages.router,
                   webhook_routes.router, refund_routes.router):
        app.include_router(router)
    canonical: dict[str, str] = {}
    for router, paths in faces:
        app.include_router(router)
        canonical.update(paths)
    for install in extra:
        install(app)
    app.add_middleware(CaseInsensitivePaths, canonical=canonical)
    app.add_middleware(BodyLimit, limit=ctx.settings.max_body_bytes)
    if ctx.settings.rate_limit_per_second > 0:  # outermost: a refusal reads no body and touches nothing
        app.add_middleware(RateLimit, per_second=ctx.settings.rate_limit_per_second,
                           burst=ctx.settings.rate_limit_burst)
    # Outermost: every answer, refusals included, is logged and carries the request id.
    app.add_middleware(AccessLog)
    app.add_middleware(CorrelationIdMiddleware, header_name=HEADER, validator=accepted)
    return app
