"""The FastAPI application: native `/v1`, and every face that registers itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import version as package_version
from typing import Any, cast

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.routing import Match, Route
from starlette.types import Scope

from kalem.api import errors, openapi_document
from kalem.api.context import Context
from kalem.api.errors import PathRenderer
from kalem.api.intake import Claim
from kalem.api.lean import lean_routes
from kalem.api.middleware import BodyLimit, CaseInsensitivePaths
from kalem.api.ratelimit import RateLimit
from kalem.api.request_id import HEADER, accepted
from kalem.api.route_index import RouteIndex
from kalem.api.routes import billing, cancel_requests, meta, order_batch, orders, packages, refund_policy, tokens
from kalem.api.routes import refunds as refund_routes
from kalem.api.routes import webhooks as webhook_routes
from kalem.observability.http import Instrument

#: The hot writes: served lean, and on PostgreSQL with their transactions on the event loop
#: (api/lean.py, docs/performance.md).
LEAN_OPERATIONS = {("POST", "/v1/orders"), ("POST", "/v1/orders/batch"),
                   ("POST", "/v1/orders/{order_number}/cancellations"),
                   ("POST", "/v1/orders/{order_number}/packages/{package_id}/split"),
                   ("POST", "/v1/orders/{order_number}/cancellations-with-refund"),
                   ("POST", "/v1/cancel-requests"), ("POST", "/v1/cancel-requests/{request_id}/approve"),
                   ("POST", "/v1/cancel-requests/{request_id}/reject"),
                   ("POST", "/v1/cancel-requests/{request_id}/withdraw")}


@dataclass(frozen=True)
class Face:
    """What a platform face adds to an app. All of it is kept on the app it is built into (nothing
    module-wide), so every app — tests build many — has exactly its own faces."""

    router: APIRouter
    canonical_paths: Mapping[str, str] = field(default_factory=dict)  # matched case-insensitively (ASP.NET)
    errors: PathRenderer | None = None       # its paths and the envelope their errors leave in
    claims: tuple[Claim, ...] = ()           # bodies it takes from another face's path (api/intake.py)
    first: frozenset[tuple[str, str]] = frozenset()   # (method, static path) of its hot writes: tried first
    lean: frozenset[tuple[str, str]] = frozenset()    # (method, path) of its writes served lean (api/lean.py)


def create_app(ctx: Context, faces: Mapping[str, Face] | None = None,
               extra: Mapping[str, Callable[[FastAPI], None]] | None = None) -> FastAPI:
    """`faces`: the platform faces by name (the name labels their requests in metrics and traces);
    `extra`: hooks that add routes, by the name their routes are labelled with."""
    # `/docs` loads Swagger UI from a packaged copy: it works offline. (No ReDoc: its page loads a logo
    # from another host.)
    # FastAPI's own OpenTelemetry is off: kalem traces and meters requests itself (Instrument, below),
    # and leaving FastAPI's on would have it look up the global providers on every request.
    app = FastAPIOffline(redoc_url=None, title="kalem", version=package_version("kalem"),
                         telemetry={"tracing": False, "metrics": False, "logs": False},
                         generate_unique_id_function=operation_id,
                         description="What happens to an order line after checkout: cancel, ask to cancel, "
                                     "split, return, refund, re-invoice — told to every integrator, reliably.")
    app.state.kalem = ctx
    errors.install(app)
    openapi_document.install(app, lambda: _leaves(app.router.routes))
    face_of: dict[int, str] = {}

    def include(face: str, add: Callable[[], None]) -> None:
        before = len(app.router.routes)
        add()
        face_of.update((id(route), face) for route in _leaves(app.router.routes[before:]))

    for router in (meta.router, order_batch.router, orders.router, cancel_requests.router, billing.router,
                   packages.router, webhook_routes.router, webhook_routes.feed, refund_routes.router,
                   refund_routes.returns, refund_routes.strategies, refund_policy.router, tokens.router):
        include("native", partial(app.include_router, router))
    canonical: dict[str, str] = {}
    app.state.error_renderers = []
    app.state.intake_claims = []
    first: list[MatchedFirst] = []
    lean: set[tuple[str, str]] = set()
    for name, face in (faces or {}).items():
        include(name, partial(app.include_router, face.router))
        first.extend(MatchedFirst(route) for route in _leaves(face.router.routes) if isinstance(route, APIRoute)
                     and any((method, route.path) in face.first for method in route.methods or ()))
        canonical.update(face.canonical_paths)
        if face.errors is not None:
            app.state.error_renderers.append(face.errors)
        app.state.intake_claims.extend(face.claims)
        lean |= face.lean
    for name, install in (extra or {}).items():
        include(name, partial(install, app))
    # The hot writes are matched first, by a lean route each (api/lean.py): kalem's own, whose transactions
    # run on the event loop, then the faces', whose stay on the thread pool (they take several round trips
    # through SQLAlchemy — look-ups, row locks, id tables — each costing more on the loop than on a pool
    # thread: docs/performance.md). Then the faces' hot routes (`MatchedFirst`); every other route is found
    # through the index of their paths.
    index = RouteIndex(app.router.routes)
    app.router.routes[:0] = [*lean_routes(_leaves(app.router.routes), LEAN_OPERATIONS, app.state.intake_claims),
                             *lean_routes(_leaves(app.router.routes), lean, app.state.intake_claims, on_loop=False),
                             *first, index]
    app.add_middleware(CaseInsensitivePaths, canonical=canonical)
    app.add_middleware(BodyLimit, limit=ctx.settings.max_body_bytes,
                       larger={order_batch.PATH: ctx.settings.max_batch_body_bytes})
    if ctx.settings.rate_limit_per_second > 0:  # a refusal reads no body and touches nothing
        app.add_middleware(RateLimit, per_second=ctx.settings.rate_limit_per_second,
                           burst=ctx.settings.rate_limit_burst)
    # Every answer, refusals included, is logged, counted, timed and traced; the request id is set first
    # (that middleware never answers itself), so the access log, the metrics' span and every log line
    # carry it.
    app.add_middleware(Instrument, faces=face_of)
    app.add_middleware(CorrelationIdMiddleware, header_name=HEADER, validator=accepted)
    return app


def operation_id(route: APIRoute) -> str:
    """`<group>.<name>`, stable and readable (`orders.cancel`, `akinon.login`): the group is the route's
    first tag — a capability natively, snake_cased; on a face (tagged "<Platform> … face") the
    platform's first word — and the name is the route's (its function's unless given)."""
    tag = cast(str, route.tags[0]) if route.tags else "meta"  # FastAPI allows an Enum; kalem's tags are strings
    group = tag.split()[0] if tag.endswith(" face") else tag.replace(" ", "_")
    return f"{group.lower()}.{route.name}"


def _leaves(routes: Iterable[Any]) -> Iterator[Any]:
    """The route objects requests are matched to (FastAPI keeps an included router's own routes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _leaves(included.routes) if included is not None else (route,)


class MatchedFirst(Route):
    """A face's hot route, tried before every other: FastAPI tries the routes in order, each try costing
    a few µs, and the routes are many. It answers only what the route fully matches, with the route's
    own app, under the route's name and labels; everything else is routed as before."""

    def __init__(self, route: APIRoute) -> None:
        if "{" in route.path:   # a path with parameters could take what an earlier route would have
            raise TypeError(f"{route.path}: only a route of a static path is tried first")
        super().__init__(route.path, endpoint=route.endpoint, methods=route.methods, name=route.name,
                         include_in_schema=False)
        self.app = route.app
        self.route = route

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.FULL:
            return Match.NONE, {}
        child["route"] = self.route   # the metrics' label and the face are the FastAPI route's
        return match, child
