"""The lean routes (src/kalem/api/lean.py) copy what FastAPI and Starlette do with a hot write; these
tests fail when that behaviour, or the internals lean.py reads, change underneath it.

What lean.py relies on:

- `fastapi.routing.APIRoute.dependant` (`fastapi.dependencies.models.Dependant`): its `body_params`,
  `path_params`, `header_params`, `query_params`, `cookie_params`, `dependencies` (each a `Dependant`
  with `name`, `call`, `use_cache`, its own headers and dependencies), `request_param_name` and
  `http_connection_param_name` (both given the request) — and no other kind of parameter that
  FastAPI would inject, for lean.py would not supply it; the route's `_embed_body_fields`;
- each parameter's `fastapi._compat.ModelField`: `name`, `alias`, `default`, `field_info.annotation`
  and `validate(value)`, answering `(value, errors)` (a body that is not a model, a path parameter
  that is not plain text: validated by it);
- FastAPI's dependency solving: each dependency's own dependencies first, in order, then the
  dependency called with them, the request and its headers; a value cached per request by its call;
  a coroutine callable (a function, or an object whose `__call__` is one: a security scheme)
  awaited, any other run in the thread pool;
- `starlette.routing.Route.matches(scope)` answering `(Match, child scope)`, the route's `handle`
  calling its `app`, the router keeping itself at `scope["router"]` and matching the routes put at
  the front of `app.router.routes`;
- FastAPI's request handler: a body sent as `application/json` read with `json.loads` of the whole
  body and validated by the body's model (an optional body, `Model | None`, left out altogether:
  None; a route without a body reads none), each header and query parameter validated by its own
  field (absent: its default), the dependencies called with the request, a sync endpoint run in the
  thread pool and the `Response` it returns sent as it is; the route left in `scope["route"]`;
- FastAPI serving an included router's route by what the route itself declares: lean.py reads the
  route's own path, parameters and dependencies, not those FastAPI adds for the include (its
  "effective route context", which an include's prefix or dependencies would change).

Both ways are taken on one app, in process: as it is (the lean route first), and with the request
marked passed on, which FastAPI's route answers. The endpoints are swapped for one that notes the
arguments it is called with (the app is built after the swap, so FastAPI analyses the same
signature), so every well-formed request is checked to reach the endpoint with the very arguments
FastAPI would give it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_type_hints

import httpx
import pytest
from fastapi.dependencies.models import Dependant, _is_coroutine_callable
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from kalem.api import lean
from kalem.api.app import MatchedFirst
from kalem.api.lean import PASSED_ON, LeanRoute
from kalem.api.request_id import HEADER
from kalem.bootstrap.api import build_app
from kalem.config import Settings
from kalem.platforms.n11.key_pairs import create_key_pair
from kalem.store.db import Database
from tests.conftest import ADMIN
from tests.support import Served, on_own_loop, order

CANCEL = "/v1/orders/4000000901/cancellations"
SPLIT = "/v1/orders/4000000901/packages/BB_pid000901/split"
REFUND = "/v1/orders/4000000901/cancellations-with-refund"
BATCH = "/v1/orders/batch"
ASK = "/v1/cancel-requests"
APPROVE, REJECT, WITHDRAW = (f"/v1/cancel-requests/cr_1/{decision}" for decision in ("approve", "reject", "withdraw"))
LINE = {"line_id": "item000901", "quantity": 1, "reason_id": 136}
BODIES = {  # a well-formed body of each hot write that has one
    "/v1/orders": order("4000000901"),
    BATCH: {"orders": [order("4000000901"), {"order_number": 1}]},
    CANCEL: {"lines": [LINE]},
    SPLIT: {"packages": [{"items": [{"line_id": "item000901", "quantity": 1}]}]},
    REFUND: {"lines": [LINE]},
    ASK: {"order_number": "4000000901", "lines": [LINE]},
    APPROVE: {"lines": [{"line_id": "item000901", "quantity": 1}], "note": "ok"},   # optional
    REJECT: {"reason_id": 140},
}
JSON = [(b"content-type", b"application/json")]
# The faces' writes served lean: (method, target) → a well-formed body. Their dependencies are solved as
# FastAPI solves them (n11's key pair is looked up by a sync one, HepsiGlobal's caller narrowed by an
# async one depending on the bearer, Akinon's security scheme reads its header), and Akinon's path
# parameters are integers, validated by their own fields.
FACE_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/rest/delivery/v1/splitPackageByQuantity"): {
        "splitPackages": [{"packageDetails": [{"orderLineId": 1, "quantities": 1}]}],
        "cancelledItems": [{"cancelReasonId": 1, "orderLineId": 1, "quantity": 1}]},
    ("POST", "/rest/delivery/v1/splitCombinePackage"): {"splitGroups": [{"orderLineIds": [1, 2]}]},
    ("POST", "/Orders/CreateOrderItemLineCancelRequest"): [{"sourceOrderItemLineId": "u-1", "quantity": 1,
                                                            "reasonId": 1, "reasonDesc": "ç"}],
    ("POST", "/Orders/CancelOrderItemLineList"): [{"sourceOrderItemLineId": "u-1", "quantity": 1, "reasonId": 1}],
    ("PUT", "/v1/orders/4000000901/order_items/item000901"): {"reason": "out of stock"},
    ("POST", "/v1/refunds"): {"refund_number": "r-1", "order_number": "4000000901",
                              "items": [{"order_item_number": "item000901", "quantity": 1, "reason": "x", "own": 1}]},
    ("POST", "/api/i1/orders/12/cancel/"): {"order": 12, "cancel_items": [1], "forced_refund_amount": None,
                                            "reasons": {"1": 2}},
    ("POST", "/api/v1/orders/12/cancel/"): {"order": "12", "cancel_items": {"1": 1}, "forced_refund_amount": "1.5",
                                            "reasons": {"1": 2}},
    ("POST", "/api/v1/channel/3/orders/12/cancel"): {"order": 12, "cancel_items": [1], "forced_refund_amount": None,
                                                     "reasons": {"1": 2}, "is_all": "yes"},
}
# The Dependant fields lean.py knows about: a new one is a kind of parameter it may not supply.
DEPENDANT_FIELDS = {
    "path_params", "query_params", "header_params", "cookie_params", "body_params", "dependencies", "name",
    "call", "request_param_name", "websocket_param_name", "http_connection_param_name", "response_param_name",
    "background_tasks_param_name", "security_scopes_param_name", "own_oauth_scopes", "parent_oauth_scopes",
    "use_cache", "path", "scope", "concurrency",
}


@dataclasses.dataclass
class Sent:
    """What one way answered, and what the endpoint was called with."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    calls: list[dict[str, Any]]
    lean: bool        # the lean route served it (did not pass it on)
    route: Any        # scope["route"] afterwards: the metrics' label
    served_by: Any    # what FastAPI served it by: an included route's effective context, else the route


class Harness:
    def __init__(self, app: Any, calls: list[dict[str, Any]], n11_pair: tuple[str, str]) -> None:
        self.app, self.calls, self.n11_pair = app, calls, n11_pair
        self.scopes: list[dict[str, Any]] = []
        self._taken = Served(app, LeanRoute)

    @property
    def took(self) -> int:
        """The requests a lean route took (to serve, or to pass on)."""
        return self._taken.count

    async def _lean(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        await self.app(scope, receive, send)

    async def _fastapi(self, scope: Any, receive: Any, send: Any) -> None:
        scope[PASSED_ON] = True   # what a lean route sets before routing a request on
        self.scopes.append(scope)
        await self.app(scope, receive, send)

    async def send(self, way: str, target: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes],
                   method: str = "POST") -> Sent:
        async def content() -> Any:
            for chunk in chunks:
                yield chunk

        self.calls.clear()
        took = self.took
        transport = httpx.ASGITransport(app=self._lean if way == "lean" else self._fastapi)
        async with httpx.AsyncClient(transport=transport, base_url="http://kalem.test") as client:
            response = await client.request(method, target, content=content(), headers=[
                *headers, (b"authorization", f"Bearer {ADMIN}".encode()), (HEADER.lower().encode(), b"a" * 32),
                (b"appkey", self.n11_pair[0].encode()), (b"appsecret", self.n11_pair[1].encode())])
        scope = self.scopes[-1]
        return Sent(response.status_code, response.headers.raw, response.content, list(self.calls),
                    self.took > took and not scope.get(PASSED_ON), scope.get("route"),
                    scope.get("fastapi", {}).get("effective_route_context") or scope.get("route"))


@pytest.fixture
def harness(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """An app whose hot endpoints note their arguments; the routes are the modules' own, so the swap is
    undone after the test."""
    shutil.copy(sqlite_template, tmp_path / "k.db")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", admin_token=ADMIN, rate_limit_per_second=0,
                        secret_key="test-secret-key-of-at-least-32-bytes!", max_body_bytes=65536)
    db = Database.connect(settings.database_url)
    calls: list[dict[str, Any]] = []
    for route in _served(build_app(settings, db)):
        monkeypatch.setattr(route, "endpoint", _noting(route.endpoint, calls))
    app = build_app(settings, db)
    served = sorted(r.route.endpoint.__wrapped__.__name__ for r in app.router.routes if isinstance(r, LeanRoute))
    assert served == sorted([
        "place", "place_batch", "cancel", "split", "cancel_with_refund", "create", "approve", "reject", "withdraw",
        "split_package_by_quantity", "split_combine_package", "create_cancel_request", "cancel_lines", "cancel_item",
        "create_refund", "cancel_order_items", "cancel_order_items_v1", "cancel_order_items_in_channel"])
    # A face's route tried first keeps the app FastAPI built with the endpoint as imported: without it,
    # the request passed on is routed to the included route, which calls the endpoint as swapped.
    app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, MatchedFirst)]
    pair = create_key_pair(app.state.kalem.uow(), seller_id="acme")   # what n11's sync dependency looks up
    try:
        yield Harness(app, calls, pair)
    finally:
        db.dispose()


def _served(app: Any) -> list[APIRoute]:
    return [r.route for r in app.router.routes if isinstance(r, LeanRoute)]


def _noting(endpoint: Callable[..., Any], calls: list[dict[str, Any]]) -> Callable[..., Any]:
    @functools.wraps(endpoint)   # FastAPI reads the endpoint's own signature through __wrapped__
    def noted(**arguments: Any) -> Response:
        calls.append(arguments)
        return Response(b"noted", status_code=201, headers={"x-noted": endpoint.__name__})
    return noted


def _shape(value: Any) -> Any:
    """A value with every type spelled out, and a model's fields as set: equal shapes are the same
    arguments (a request: its own, by type and target)."""
    if isinstance(value, Request):
        return (type(value), value.method, str(value.url), value.path_params)
    if isinstance(value, BaseModel):
        return (type(value), {k: _shape(v) for k, v in value}, sorted(value.model_fields_set))
    if isinstance(value, (list, tuple)):
        return (type(value), [_shape(v) for v in value])
    if isinstance(value, dict):
        return (dict, {k: _shape(v) for k, v in value.items()})
    return (type(value), value)


def _cases() -> list[tuple[bool, str, list[tuple[bytes, bytes]], list[bytes]]]:
    """(served lean?, target, headers, body chunks): well-formed requests of every shape the lean route
    takes, and the near misses it leaves to FastAPI."""
    cases: list[tuple[bool, str, list[tuple[bytes, bytes]], list[bytes]]] = []
    for path, body in BODIES.items():
        raw = json.dumps(body).encode()
        cases += [
            (True, path, JSON, [raw]),
            (True, path, JSON, [raw[:7], raw[7:]]),                       # the body in two messages
            (True, path, JSON + [(b"idempotency-key", b"k-1")], [raw]),
            (True, path, JSON + [(b"idempotency-key", b"")], [raw]),
            (True, path, JSON + [(b"idempotency-key", b"cl\xe9-\xff")], [raw]),   # latin-1 bytes
            (True, path, JSON, [b"\xef\xbb\xbf" + raw]),                   # a UTF-8 byte order mark
            (True, path, JSON, [b" \n" + json.dumps(body, indent=2).encode() + b"\n"]),
            (False, path, JSON + [(b"idempotency-key", b"a"), (b"idempotency-key", b"b")], [raw]),
            (False, path, JSON + [(b"idempotency-key", b"k" * 256)], [raw]),
            (False, path, [(b"content-type", b"application/json; charset=utf-8")], [raw]),
            (False, path, [(b"content-type", b"application/merge-patch+json")], [raw]),
            (False, path, [(b"content-type", b"text/plain")], [raw]),
            (False, path, [], [raw]),
            (False, path, JSON, [b""]),
            (False, path, JSON, [raw[:-1]]),
            (False, path, JSON, [b"null"]),
            (False, path, JSON, [json.dumps({**body, "extra": 1}).encode()]),
        ]
    line = {**LINE, "line_id": "  item000901 ", "note": "çok güzel — ✓"}
    cases += [
        (True, CANCEL, JSON, [json.dumps({"lines": [line, {**LINE, "units": [1]}]}).encode()]),
        (True, CANCEL, JSON, [b'{"lines": [], "lines": [{"line_id": "x", "quantity": 2, "reason_id": 1}]}']),
        (True, CANCEL, JSON + [(b"if-match", b'W/"7"')], [json.dumps(BODIES[CANCEL]).encode()]),
        (True, SPLIT, JSON + [(b"if-match", b"")], [json.dumps({**BODIES[SPLIT], "cancelled": [line]}).encode()]),
        (True, REFUND, JSON, [json.dumps({"lines": [line], "include_cargo": False, "forced_amount": 1.1,
                                          "method": "original"}).encode()]),
        (True, REFUND, JSON, [json.dumps({"lines": [LINE], "forced_amount": "12.5000"}).encode()]),
        (True, "/v1/orders", JSON, [json.dumps(order("4000000902", shipping_amount=29.9, channel=" APP ")).encode()]),
        (False, CANCEL, JSON + [(b"if-match", b"1"), (b"if-match", b"2")], [json.dumps(BODIES[CANCEL]).encode()]),
        (False, CANCEL, JSON, [json.dumps({"lines": [{**LINE, "quantity": 1.0}]}).encode()]),
        (False, CANCEL, JSON, [json.dumps({"lines": [{**LINE, "quantity": "1"}]}).encode()]),
        (False, "/v1/orders", JSON, [b'{"items": []}']),   # a body another face claims
        # An optional body left out altogether is None; sent empty or as null, FastAPI's route answers.
        (True, APPROVE, [], [b""]),
        (True, APPROVE, [(b"idempotency-key", b"k-2")], []),
        (True, APPROVE, JSON, [b"{}"]),
        (False, APPROVE, [(b"content-type", b"text/plain")], [b""]),
        # A write without a body: whatever is sent is not read, as FastAPI does not read it.
        (True, WITHDRAW, [], [b""]),
        (True, WITHDRAW, JSON, [b"{not json"]),
        (True, WITHDRAW, [(b"content-type", b"text/plain")], [b"x"]),
        (False, WITHDRAW, [(b"idempotency-key", b"a"), (b"idempotency-key", b"b")], [b""]),
    ]
    for path in (CANCEL, SPLIT, REFUND):   # the query, and a path written with escapes
        raw = json.dumps(BODIES[path]).encode()
        cases += [
            (True, path + "?seller_id=acme", JSON, [raw]),
            (True, path + "?seller_id=", JSON, [raw]),
            (True, path + "?seller_id=%C3%A7i%C3%A7ek+ve%20dal", JSON, [raw]),
            (True, path + "?other=1&seller_id=acme&other=2", JSON, [raw]),
            (True, path.replace("4000000901", "4000%20%C3%A7"), JSON, [raw]),
            (False, path + "?seller_id=a&seller_id=b", JSON, [raw]),
            (False, path + "?seller_id=" + "s" * 65, JSON, [raw]),
        ]
    return cases


def _face_cases() -> list[tuple[bool, str, list[tuple[bytes, bytes]], list[bytes], str]]:
    """(served lean?, target, headers, body chunks, method) of the faces' writes served lean."""
    cases: list[tuple[bool, str, list[tuple[bytes, bytes]], list[bytes], str]] = []
    for (method, path), body in FACE_BODIES.items():
        raw = json.dumps(body).encode()
        more = [*body, {"x": 1}] if isinstance(body, list) else {**body, "extra": 1}
        cases += [(expected, path, headers, chunks, method) for expected, headers, chunks in [
            (True, JSON, [raw]),
            (True, JSON, [raw[:5], raw[5:]]),
            (True, JSON + [(b"if-match", b"1"), (b"if-match", b"2")], [raw]),   # a header it does not declare
            (False, [(b"content-type", b"text/plain")], [raw]),
            (False, [], [raw]),
            (False, JSON, [b""]),
            (False, JSON, [raw[:-1]]),
            (False, JSON, [b"null"]),
            (False, JSON, [json.dumps(more).encode()]),
        ]]
        if path != "/v1/orders/4000000901/order_items/item000901":   # the others take an Idempotency-Key
            cases += [(True, path, JSON + [(b"idempotency-key", b"k-1")], [raw], method),
                      (False, path, JSON + [(b"idempotency-key", b"a"), (b"idempotency-key", b"b")], [raw], method),
                      (False, path, JSON + [(b"idempotency-key", b"k" * 256)], [raw], method)]
    split = json.dumps(FACE_BODIES[("POST", "/rest/delivery/v1/splitPackageByQuantity")]).encode()
    cancel = json.dumps(FACE_BODIES[("POST", "/api/i1/orders/12/cancel/")]).encode()
    cases += [
        # a dependency's header sent twice: FastAPI's route takes the first (and the key pair is refused)
        (False, "/rest/delivery/v1/splitPackageByQuantity", JSON + [(b"appkey", b"n11k_other")], [split], "POST"),
        (True, "/api/i1/orders/0012/cancel/", JSON, [cancel], "POST"),   # an integer path parameter, as parsed
        (False, "/api/i1/orders/twelve/cancel/", JSON, [cancel], "POST"),
        (False, "/api/v1/channel/x/orders/12/cancel", JSON, [cancel], "POST"),
    ]
    return cases


def test_a_lean_route_calls_the_endpoint_with_fastapis_own_arguments(harness):
    async def run() -> None:
        served = 0
        for expected_lean, target, headers, chunks, method in [(*c, "POST") for c in _cases()] + _face_cases():
            lean_way = await harness.send("lean", target, headers, chunks, method)
            fastapi_way = await harness.send("fastapi", target, headers, chunks, method)
            case = (method, target, headers, chunks)
            assert lean_way.lean is expected_lean and not fastapi_way.lean, case
            assert (lean_way.status, lean_way.headers, _steady(lean_way.body)) == (
                fastapi_way.status, fastapi_way.headers, _steady(fastapi_way.body)), case
            assert [_shape(c) for c in lean_way.calls] == [_shape(c) for c in fastapi_way.calls], case
            assert isinstance(lean_way.route, APIRoute) and lean_way.route is fastapi_way.route, case
            if expected_lean:
                assert len(lean_way.calls) == 1 and lean_way.status == 201, case
                _same_route(next(r for r in harness.app.router.routes
                                 if isinstance(r, LeanRoute) and r.route is lean_way.route), fastapi_way.served_by)
                served += 1
        assert served > 80
    on_own_loop(run)


def _steady(body: bytes) -> bytes:
    """The body but the id Hebiar's face gives each of its errors (`correlationId`, a random UUID)."""
    return re.sub(rb'"correlationId":"[0-9a-f-]{36}"', b'"correlationId":"-"', body)


def _same_route(lean_route: LeanRoute, served_by: Any) -> None:
    """FastAPI serves the request by what the lean route read: the same path, parameters and
    dependencies (an include adding a prefix or a dependency would make them differ)."""
    def parameters(dependant: Dependant) -> list[Any]:
        return [[(p.name, p.alias) for p in getattr(dependant, kind)]
                for kind in ("path_params", "query_params", "header_params", "cookie_params", "body_params")]
    assert served_by.path_format == lean_route.path_format
    assert parameters(served_by.dependant) == parameters(lean_route.route.dependant)
    assert [(d.name, d.call) for d in served_by.dependant.dependencies] == [(n.name, n.call) for n in lean_route._needs]


def test_the_internals_a_lean_route_reads_are_where_it_reads_them(harness):
    assert {f.name for f in dataclasses.fields(Dependant)} == DEPENDANT_FIELDS
    validate = inspect.signature(next(iter(_served(harness.app))).dependant.header_params[0].validate)
    first, *rest = validate.parameters.values()
    assert first.name == "value" and all(p.default is not inspect.Parameter.empty for p in rest)
    assert list(inspect.signature(Route.matches).parameters) == ["self", "scope"]
    assert {m.name for m in Match} >= {"NONE", "PARTIAL", "FULL"}
    assert list(inspect.signature(run_in_threadpool).parameters) == ["func", "args", "kwargs"]
    assert QueryParams(b"a=1&a=%C3%A7&b=").getlist("a") == ["1", "ç"]
    for route in _served(harness.app):
        endpoint, dependant = route.endpoint.__wrapped__, route.dependant
        # run in the thread pool, its answer sent as it is: as FastAPI does with a sync endpoint's Response
        assert not inspect.iscoroutinefunction(endpoint) and get_type_hints(endpoint)["return"] is Response
        assert dependant.call is endpoint and len(dependant.body_params) <= 1 and route._embed_body_fields is False
        for body in dependant.body_params:   # an optional one: FastAPI passes None for a request without one
            assert body.field_info.is_required() or body.default is None, route.path
        for name in ("cookie_params", "dependencies", "path_params", "header_params", "query_params"):
            assert isinstance(getattr(dependant, name), list), name
        _injects_only_the_request(dependant, route.path)
        needs = list(_tree(dependant.dependencies))
        for sub in needs:   # each dependency: only the request, headers and dependencies of those
            _injects_only_the_request(sub, route.path)
            assert not (sub.body_params or sub.path_params or sub.query_params or sub.cookie_params), route.path
            # awaited exactly when FastAPI awaits it; a sync one FastAPI runs in the thread pool
            assert lean._coroutine(sub.call) is _is_coroutine_callable(sub.call), (route.path, sub.call)
            assert not (inspect.isgeneratorfunction(sub.call) or inspect.isasyncgenfunction(sub.call)), route.path
            assert sub.concurrency is None and not sub.own_oauth_scopes, route.path
        for param in dependant.header_params + dependant.query_params + [h for n in needs for h in n.header_params]:
            # absent, lean.py passes the default itself: FastAPI neither validates nor copies a None
            assert not param.field_info.is_required() and param.default is None, (route.path, param.name)
            assert not param.field_info.validate_default, (route.path, param.name)
            assert param.field_info.alias == param.alias, (route.path, param.name)
        lean_route = next(r for r in harness.app.router.routes if isinstance(r, LeanRoute) and r.route is route)
        for param, (name, validated) in zip(dependant.path_params, lean_route._path, strict=True):
            # passed as routed only where FastAPI's validation would leave the text as it is
            plain = param.field_info.annotation is str and not param.field_info.metadata
            assert name == param.name and (validated is None) is plain, (route.path, param.name)
    # the kinds of dependency the faces' lean routes solve: async of the request, async of another
    # dependency, a security scheme's `__call__` of the connection, sync of the request and headers
    solved = {type(n.call) for r in _served(harness.app) for n in _tree(r.dependant.dependencies)}
    assert APIKeyHeader in solved
    assert any(not _is_coroutine_callable(n.call) and n.header_params
               for r in _served(harness.app) for n in _tree(r.dependant.dependencies))
    assert any(n.dependencies for r in _served(harness.app) for n in _tree(r.dependant.dependencies))


def _tree(dependencies: list[Dependant]) -> Iterator[Dependant]:
    for sub in dependencies:
        yield sub
        yield from _tree(sub.dependencies)


def _injects_only_the_request(dependant: Dependant, path: str) -> None:
    """Nothing FastAPI would inject beyond what lean supplies: the request, as `Request` or `HTTPConnection`."""
    for field in dataclasses.fields(Dependant):
        if field.name.endswith("_param_name") and field.name not in ("request_param_name",
                                                                     "http_connection_param_name"):
            assert getattr(dependant, field.name) is None, (path, field.name)
