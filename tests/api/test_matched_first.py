"""A face's hot route tried before every other route answers what FastAPI's routing would, and only
what the route fully matches; its other methods and paths are routed as before."""

from __future__ import annotations

from typing import Any

import httpx

from kalem.api.app import MatchedFirst
from kalem.bootstrap.api import build_app
from tests.conftest import ADMIN, serving
from tests.dialects.test_zonos import LINE, UPDATE, place, seed_order, zid
from tests.support import Served


def test_the_graphql_post_route_is_tried_first_and_answers_as_routed(server, api):
    app = build_app(server.settings, server.db)
    first = [r for r in app.router.routes if isinstance(r, MatchedFirst)]
    assert [(r.path, r.methods) for r in first] == [("/graphql", {"POST"})]
    included = next(i for i, r in enumerate(app.router.routes) if getattr(r, "original_router", None) is not None)
    assert app.router.routes.index(first[0]) < included   # before every included router
    counted = Served(app, MatchedFirst)
    ordinary = build_app(server.settings, server.db)
    ordinary.router.routes[:] = [r for r in ordinary.router.routes if not isinstance(r, MatchedFirst)]
    zonos = place(api, seed_order(quantity=3))
    headers = {"credentialToken": ADMIN}
    with serving(server.settings, server.db, app) as a, serving(server.settings, server.db, ordinary) as b, \
            httpx.Client(base_url=a, headers=headers, timeout=30) as to_first, \
            httpx.Client(base_url=b, headers=headers, timeout=30) as to_it:
        def same(method: str, path: str, **kw: Any) -> httpx.Response:
            mine, theirs = to_first.request(method, path, **kw), to_it.request(method, path, **kw)
            assert (mine.status_code, mine.headers.get("content-type"), mine.headers.get("allow")) == \
                   (theirs.status_code, theirs.headers.get("content-type"), theirs.headers.get("allow"))
            return mine

        removed = same("POST", "/graphql", json={"query": UPDATE, "variables": {
            "orderId": zid(zonos), "itemId": f"item_{LINE}", "quantity": 1}})
        assert removed.json()["data"]["orderItemUpdate"]["order"]["items"][0]["quantity"] == 2 and counted.count == 1
        malformed = {"content": b"{", "headers": {"Content-Type": "application/json"}}
        for method, path, kw in (("POST", "/graphql", malformed),
                                 ("POST", "/GraphQL", {"json": {"query": "{ __typename }"}}),
                                 ("GET", "/graphql", {"params": {"query": "{ __typename }"}}),
                                 ("PUT", "/graphql", {"json": {}}),
                                 ("GET", "/graphql/schema.graphql", {})):
            answered = same(method, path, **kw)
            assert answered.content == to_it.request(method, path, **kw).content
        assert counted.count == 3   # the two POSTs to /graphql (a case-insensitive path arrives as /graphql)
