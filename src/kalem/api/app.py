"""The FastAPI application: native `/v1`, and every face that registers itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from importlib.metadata import version as package_version
from typing import Any

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
from kalem.observability.http import Instrument


def create_app(ctx: Context, faces: Mapping[str, tuple[APIRouter, dict[str, str]]] | None = None,
               extra: Mapping[str, Callable[[FastAPI], None]] | None = None) -> FastAPI:
    """`faces`: each face's router and canonical paths, by the face's name (a metrics label); `extra`:
    hooks that add routes, by the name their routes are labelled with."""
    # `/docs` loads Swagger UI from a packaged copy: it works offline. (No ReDoc: its page loads a logo
    # from another host.)
    app = FastAPIOffline(redoc_url=None, title="kalem", version=package_version("kalem"),
                         description="What happens to an order line after checkout: cancel, ask to cancel, "
                                     "split, return, refund, re-invoice — told to every integrator, reliably.")
    app.state.kalem = ctx
    errors.install(app)
    face_of: dict[int, str] = {}

    def include(face: str, add: Callable[[], None]) -> None:
        before = len(app.router.routes)
        add()
        face_of.update((id(route), face) for route in _leaves(app.router.routes[before:]))

    for router in (meta.router, orders.router, cancel_requests.router, billing.router, packages.router,
                   webhook_routes.router, refund_routes.router):
        include("native", partial(app.include_router, router))
    canonical: dict[str, str] = {}
    for name, (router, paths) in (faces or {}).items():
        include(name, partial(app.include_router, router))
        canonical.update(paths)
    for name, install in (extra or {}).items():
        include(name, partial(install, app))
    app.add_middleware(CaseInsensitivePaths, canonical=canonical)
    app.add_middleware(BodyLimit, limit=ctx.settings.max_body_bytes)
    if ctx.settings.rate_limit_per_second > 0:  # a refusal reads no body and touches nothing
        app.add_middleware(RateLimit, per_second=ctx.settings.rate_limit_per_second,
                           burst=ctx.settings.rate_limit_burst)
    # Every answer, refusals included, is logged, counted, timed and traced; the request id is set first
    # (that middleware never answers itself), so the access log, the metrics' span and every log line
    # carry it.
    app.add_middleware(AccessLog)
    app.add_middleware(Instrument, faces=face_of)
    app.add_middleware(CorrelationIdMiddleware, header_name=HEADER, validator=accepted)
    return app


def _leaves(routes: Iterable[Any]) -> Iterator[Any]:
    """The route objects requests are matched to (FastAPI keeps an included router's own routes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _leaves(included.routes) if included is not None else (route,)
