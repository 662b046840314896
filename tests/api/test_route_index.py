"""The route index (api/route_index.py) picks, for every path any route serves, the very route
Starlette's and FastAPI's own scan picks, tries only a few routes to do it, and leaves everything no
route fully matches (unknown paths, other methods, trailing slashes) to that scan, which answers it
as before."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from starlette.routing import Match

from kalem.api.app import _leaves
from kalem.api.request_id import HEADER
from kalem.api.route_index import RouteIndex, literal_key
from kalem.bootstrap.api import build_app
from tests.conftest import ADMIN, serving
from tests.support import order


def _index(app: Any) -> tuple[RouteIndex, list[Any]]:
    (at,) = [i for i, r in enumerate(app.router.routes) if isinstance(r, RouteIndex)]
    return app.router.routes[at], app.router.routes[at + 1:]


def _concrete(path: str) -> str:
    """A path the route matches: each parameter given a value its convertor takes."""
    return re.sub(r"\{[^}:]+(:([a-z]+))?\}", lambda m: {"path": "a/b", "float": "1.5"}.get(m.group(2) or "", "7"),
                  path)


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def _scanned(routes: list[Any], method: str, path: str) -> Any:
    """The route Starlette's scan would hand the request to: the first to match it fully."""
    return next((r for r in routes if r.matches(_scope(method, path))[0] is Match.FULL), None)


def _indexed(index: RouteIndex, method: str, path: str) -> Any:
    match, child = index.matches(_scope(method, path))
    return child["kalem.route_index.chosen"] if match is Match.FULL else None


def test_the_index_picks_what_the_scan_picks_for_every_route(server):
    app = build_app(server.settings, server.db)
    index, after = _index(app)
    paths = {_concrete(r.path) for r in _leaves(app.router.routes) if isinstance(getattr(r, "path", None), str)}
    assert len(paths) > 100
    checked = found = 0
    for path in sorted(paths | {"/", "/nope", "/v1/nope/7", "/hub/static/hub.css", "/API/v1/orders/7/cancel/"}):
        for variant in {path, path.rstrip("/") or "/", path + "/", path.upper()}:
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
                expected = _scanned(after, method, variant)
                assert _indexed(index, method, variant) is expected, (method, variant)
                checked += 1
                found += expected is not None
    assert found > 150 and checked - found > 1000   # both kinds were asked: routed, and left to the scan


def test_a_request_tries_only_the_routes_its_first_segments_name(server):
    app = build_app(server.settings, server.db)
    index, after = _index(app)
    assert len(after) > 25
    for path in ("/api/v1/orders/7/cancel/", "/hub/orders/7", "/v1/orders/7", "/healthz"):
        tried = index.candidates(path)
        method = "POST" if path.startswith("/api") else "GET"
        assert 1 <= len(tried) <= 8 and _scanned(list(tried), method, path) is not None, path
    assert index.candidates("/nowhere/at/all") == ()   # no route starts so: straight to the scan (404)


@pytest.mark.parametrize(("path", "key"), [
    ("/v1/orders/{order_number}/cancellations", ("v1", "orders")), ("/healthz", ("healthz",)),
    ("/api/{version}/orders", ("api",)), ("/x-{id}/y", ()), ("/", ("",)),
    ("/hub/static/{path:path}", ("hub", "static"))])
def test_a_routes_key_is_the_whole_literal_segments_it_starts_with(path, key):
    assert literal_key(path) == key


def test_names_are_still_found_past_the_index(server):
    app = build_app(server.settings, server.db)
    assert app.url_path_for("hub-static", path="hub.css") == "/hub/static/hub.css"   # a mount after the index
    assert app.url_path_for("healthz") == "/healthz"


def test_routes_added_later_are_indexed_too(server):
    app = build_app(server.settings, server.db)
    index, _ = _index(app)
    assert index.candidates("/added-later/7") == ()

    @app.get("/added-later/{n}")
    def added(n: str) -> dict[str, str]:
        return {"n": n}

    assert _indexed(index, "GET", "/added-later/7") is app.router.routes[-1]


def test_answers_through_the_index_are_the_scans_answers(server, api):
    app = build_app(server.settings, server.db)
    scanned = build_app(server.settings, server.db)
    scanned.router.routes[:] = [r for r in scanned.router.routes if not isinstance(r, RouteIndex)]
    assert api.post("/v1/orders", json=order("4000000077")).status_code == 201
    headers = {"Authorization": f"Bearer {ADMIN}", HEADER: "0123456789abcdef0123456789abcdef"}
    with serving(server.settings, server.db, app) as a, serving(server.settings, server.db, scanned) as b, \
            httpx.Client(base_url=a, headers=headers, timeout=30) as mine, \
            httpx.Client(base_url=b, headers=headers, timeout=30) as theirs:
        for method, path, kw in (("GET", "/v1/orders/4000000077", {}),
                                 ("GET", "/v1/orders/NOPE", {}),
                                 ("GET", "/healthz", {}),
                                 ("GET", "/hub/static/hub.css", {}),
                                 ("GET", "/nope", {}),
                                 ("DELETE", "/v1/orders/4000000077/cancellations", {}),
                                 ("GET", "/api/v1/orders", {}),       # Akinon's list wants its trailing slash
                                 ("POST", "/api/v1/orders/1/cancel/", {"content": b"{"}),
                                 ("GET", "/api/v1/channel/1/cancellation_requests/5/", {})):
            one, two = mine.request(method, path, **kw), theirs.request(method, path, **kw)
            assert (one.status_code, one.headers.get("content-type"), one.headers.get("allow"),
                    one.headers.get("location", "").replace(a, b), one.content.replace(a.encode(), b.encode())) == \
                   (two.status_code, two.headers.get("content-type"), two.headers.get("allow"),
                    two.headers.get("location", ""), two.content), (method, path)
