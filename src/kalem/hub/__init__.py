"""The hub: server-rendered pages (Jinja2 + htmx, no build step) for sellers and operators, at /hub.

`install(secret_key, sections)` returns the hook `api.app.create_app(extra={"hub": ...})` runs: it mounts
the pages and the static files, and keeps the order page's extra sections (hub/sections.py) on the app.
The hub calls `app/` use cases only, never the REST routes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from kalem.hub import channels, integrations, order_page, refunds, routes
from kalem.hub.sections import OrderSection
from kalem.hub.session import Signer
from kalem.hub.web import PREFIX, STATIC, HubRoute, PageNotFound

_fallback = APIRouter(prefix=PREFIX, route_class=HubRoute, include_in_schema=False)


@_fallback.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest: str) -> None:
    """Any other /hub address gets the hub's not-found page, not the API's JSON."""
    raise PageNotFound(f"no page at {PREFIX}/{rest}")


def install(secret_key: str, sections: Sequence[OrderSection] = ()) -> Callable[[FastAPI], None]:
    def _install(app: FastAPI) -> None:
        app.state.hub_signer = Signer(secret_key)
        app.state.hub_sections = tuple(sections)
        app.include_router(routes.router)
        app.include_router(order_page.router)
        app.include_router(refunds.router)
        app.include_router(integrations.router)
        app.include_router(channels.router)
        app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="hub-static")
        app.include_router(_fallback)

    return _install
