"""The lean routes (src/kalem/api/lean.py) copy what FastAPI and Starlette do with a hot write; these
tests fail when that behaviour, or the internals lean.py reads, change underneath it.

What lean.py relies on:

- `fastapi.routing.APIRoute.dependant` (`fastapi.dependencies.models.Dependant`): its `body_params`,
  `path_params`, `header_params`, `query_params`, `cookie_params`, `dependencies` (each with `name`
  and `call`), `request_param_name` and `response_param_name` — and no other kind of parameter that
  FastAPI would inject, for lean.py would not supply it;
- each parameter's `fastapi._compat.ModelField`: `name`, `alias`, `default`, `field_info.annotation`
  and `validate(value)`, answering `(value, errors)`;
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
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_type_hints

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.routing import Match, Route

from kalem.api import lean
from kalem.api.context import _context, bearer_principal
from kalem.api.lean import PASSED_ON, LeanRoute
from kalem.api.request_id import HEADER
from kalem.bootstrap.api import build_app
from kalem.config import Settings
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
    def __init__(self, app: Any, calls: list[dict[str, Any]]) -> None:
        self.app, self.calls = app, calls
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

    async def send(self, way: str, target: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> Sent:
        async def content() -> Any:
            for chunk in chunks:
                yield chunk

        self.calls.clear()
        took = self.took
        transport = httpx.ASGITransport(app=self._lean if way == "lean" else self._fastapi)
        async with httpx.AsyncClient(transport=transport, base_url="http://kalem.test") as client:
            response = await client.post(target, headers=[*headers, (b"authorization", f"Bearer {ADMIN}".encode()),
                                                          (HEADER.lower().encode(), b"a" * 32)],
                                         content=content())
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
    assert {r.route.endpoint.__wrapped__.__name__ for r in app.router.routes if isinstance(r, LeanRoute)} == {
        "place", "place_batch", "cancel", "split", "cancel_with_refund", "create", "approve", "reject", "withdraw"}
    try:
        yield Harness(app, calls)
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
    arguments."""
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


def test_a_lean_route_calls_the_endpoint_with_fastapis_own_arguments(harness):
    async def run() -> None:
        served = 0
        for expected_lean, target, headers, chunks in _cases():
            lean_way = await harness.send("lean", target, headers, chunks)
            fastapi_way = await harness.send("fastapi", target, headers, chunks)
            case = (target, headers, chunks)
            assert lean_way.lean is expected_lean and not fastapi_way.lean, case
            assert (lean_way.status, lean_way.headers, lean_way.body) == (
                fastapi_way.status, fastapi_way.headers, fastapi_way.body), case
            assert [_shape(c) for c in lean_way.calls] == [_shape(c) for c in fastapi_way.calls], case
            assert isinstance(lean_way.route, APIRoute) and lean_way.route is fastapi_way.route, case
            if expected_lean:
                assert len(lean_way.calls) == 1 and lean_way.status == 201, case
                _same_route(next(r for r in harness.app.router.routes
                                 if isinstance(r, LeanRoute) and r.route is lean_way.route), fastapi_way.served_by)
                served += 1
        assert served > 40
    on_own_loop(run)


def _same_route(lean_route: LeanRoute, served_by: Any) -> None:
    """FastAPI serves the request by what the lean route read: the same path, parameters and
    dependencies (an include adding a prefix or a dependency would make them differ)."""
    def parameters(dependant: Dependant) -> list[Any]:
        return [[(p.name, p.alias) for p in getattr(dependant, kind)]
                for kind in ("path_params", "query_params", "header_params", "cookie_params", "body_params")]
    assert served_by.path_format == lean_route.path_format
    assert parameters(served_by.dependant) == parameters(lean_route.route.dependant)
    assert [(d.name, d.call) for d in served_by.dependant.dependencies] == lean_route._needs


def test_the_internals_a_lean_route_reads_are_where_it_reads_them(harness):
    assert {f.name for f in dataclasses.fields(Dependant)} == DEPENDANT_FIELDS
    validate = inspect.signature(next(iter(_served(harness.app))).dependant.header_params[0].validate)
    first, *rest = validate.parameters.values()
    assert first.name == "value" and all(p.default is not inspect.Parameter.empty for p in rest)
    assert list(inspect.signature(Route.matches).parameters) == ["self", "scope"]
    assert {m.name for m in Match} >= {"NONE", "PARTIAL", "FULL"}
    assert list(inspect.signature(run_in_threadpool).parameters) == ["func", "args", "kwargs"]
    assert QueryParams(b"a=1&a=%C3%A7&b=").getlist("a") == ["1", "ç"]
    for dependency in lean._DEPENDENCIES:   # called as `await call(request)`
        assert inspect.iscoroutinefunction(dependency)
        assert list(inspect.signature(dependency).parameters) == ["request"]
    assert set(lean._DEPENDENCIES) == {_context, bearer_principal}
    for route in _served(harness.app):
        endpoint, dependant = route.endpoint.__wrapped__, route.dependant
        # run in the thread pool, its answer sent as it is: as FastAPI does with a sync endpoint's Response
        assert not inspect.iscoroutinefunction(endpoint) and get_type_hints(endpoint)["return"] is Response
        assert dependant.call is endpoint and len(dependant.body_params) <= 1
        for body in dependant.body_params:   # an optional one: FastAPI passes None for a request without one
            assert body.field_info.is_required() or body.default is None, route.path
        for name in ("cookie_params", "dependencies", "path_params", "header_params", "query_params"):
            assert isinstance(getattr(dependant, name), list), name
        for field in dataclasses.fields(Dependant):   # nothing FastAPI would inject beyond what lean supplies
            if field.name.endswith("_param_name"):
                assert getattr(dependant, field.name) is None, (route.path, field.name)
        for sub in dependant.dependencies:
            assert sub.call in lean._DEPENDENCIES and not sub.dependencies and sub.request_param_name == "request"
        for param in dependant.header_params + dependant.query_params:
            # absent, lean.py passes the default itself: FastAPI neither validates nor copies a None
            assert not param.field_info.is_required() and param.default is None, (route.path, param.name)
            assert not param.field_info.validate_default, (route.path, param.name)
            assert param.field_info.alias == param.alias, (route.path, param.name)
        for param in dependant.path_params:
            assert param.field_info.annotation is str and not param.field_info.metadata, (route.path, param.name)
