"""A face's hot routes (Zonos' GraphQL POST, n11's splits and line updates, Hebiar's line cancels), tried
before every other route, answer what FastAPI's routing would, and only what the route fully matches;
their other methods and paths are routed as before."""

from __future__ import annotations

from typing import Any

import httpx

from kalem.api.app import MatchedFirst
from kalem.api.request_id import HEADER
from kalem.bootstrap.api import build_app
from tests.conftest import ADMIN, serving
from tests.dialects.test_zonos import LINE, UPDATE, place, seed_order, zid
from tests.support import Served


def _body(response: httpx.Response) -> Any:
    """The answer's body, but the id Hebiar's face gives every answer of its own (`correlationId`)."""
    try:
        body = response.json()
    except ValueError:
        return response.content
    if isinstance(body, dict):
        body.pop("correlationId", None)
    return body


def test_the_faces_hot_routes_are_tried_first_and_answer_as_routed(server, api):
    app = build_app(server.settings, server.db)
    first = [r for r in app.router.routes if isinstance(r, MatchedFirst)]
    assert {(method, r.path) for r in first for method in r.methods} == {
        ("POST", "/graphql"),   # Zonos; n11's splits and line updates; Hebiar's line cancels
        ("POST", "/rest/delivery/v1/splitPackageByQuantity"), ("POST", "/rest/delivery/v1/splitCombinePackage"),
        ("PUT", "/rest/order/v1/update"), ("POST", "/Orders/CreateOrderItemLineCancelRequest"),
        ("POST", "/Orders/CancelOrderItemLineList")}
    included = next(i for i, r in enumerate(app.router.routes) if getattr(r, "original_router", None) is not None)
    assert max(app.router.routes.index(r) for r in first) < included   # before every included router
    counted = Served(app, MatchedFirst)
    ordinary = build_app(server.settings, server.db)
    ordinary.router.routes[:] = [r for r in ordinary.router.routes if not isinstance(r, MatchedFirst)]
    zonos = place(api, seed_order(quantity=3))
    headers = {"credentialToken": ADMIN, HEADER: "0123456789abcdef0123456789abcdef"}   # one request id: same bodies
    with serving(server.settings, server.db, app) as a, serving(server.settings, server.db, ordinary) as b, \
            httpx.Client(base_url=a, headers=headers, timeout=30) as to_first, \
            httpx.Client(base_url=b, headers=headers, timeout=30) as to_it:
        def same(method: str, path: str, **kw: Any) -> tuple[httpx.Response, httpx.Response]:
            mine, theirs = to_first.request(method, path, **kw), to_it.request(method, path, **kw)
            assert (mine.status_code, mine.headers.get("content-type"), mine.headers.get("allow")) == \
                   (theirs.status_code, theirs.headers.get("content-type"), theirs.headers.get("allow"))
            return mine, theirs

        removed = same("POST", "/graphql", json={"query": UPDATE, "variables": {
            "orderId": zid(zonos), "itemId": f"item_{LINE}", "quantity": 1}})   # one unit each, one after the other
        assert [r.json()["data"]["orderItemUpdate"]["order"]["items"][0]["quantity"] for r in removed] == [2, 1]
        assert counted.count == 1
        malformed = {"content": b"{", "headers": {"Content-Type": "application/json"}}
        for method, path, kw in (("POST", "/graphql", malformed),
                                 ("POST", "/GraphQL", {"json": {"query": "{ __typename }"}}),
                                 ("GET", "/graphql", {"params": {"query": "{ __typename }"}}),
                                 ("PUT", "/graphql", {"json": {}}),
                                 ("GET", "/graphql/schema.graphql", {}),
                                 ("POST", "/rest/delivery/v1/splitPackageByQuantity", {"json": {}}),
                                 ("PUT", "/rest/order/v1/update", malformed),
                                 ("GET", "/rest/order/v1/update", {}),
                                 ("POST", "/orders/cancelorderitemlinelist", {"json": {}})):
            mine, theirs = same(method, path, **kw)
            assert _body(mine) == _body(theirs)
        # the two POSTs to /graphql (a case-folded path arrives as /graphql), n11's update, Hebiar's one (n11's
        # split of `{}` is well formed: its lean route, before these, serves it)
        assert counted.count == 5
