"""The hot writes, served without FastAPI's per-request machinery when the request is well formed.

A direct cancel costs a few milliseconds of CPU, and FastAPI's generic handling of it (content-type
sniffing, dependency solving, parameter resolution, an exit stack per request) is a measurable part of
that. A `LeanRoute` stands before one FastAPI route and serves the requests that are plainly well
formed — a JSON body that validates (or, where the body is optional, none at all; where the route
takes none, whatever is sent is not read, as FastAPI does not read it), each declared header and
query parameter at most once and valid — by calling the very same endpoint with the same arguments.
Every other request (another content type, malformed JSON, a body or parameter that fails
validation) is routed on to the FastAPI route itself, so its refusals are FastAPI's own, byte for
byte. The operation, its OpenAPI document, the
errors the endpoint raises, the metrics' route label and every middleware stay as they are.

On PostgreSQL the endpoint runs on the event loop (store/on_loop.py): its transaction waits for the
database on psycopg's async connection instead of holding a pool thread, and the request skips the
hop to that thread and back. Same endpoint, same use case, same unit of work.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, get_args

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from kalem.api.context import _context, bearer_principal
from kalem.api.intake import Claim
from kalem.api.middleware import replay
from kalem.store import on_loop

PASSED_ON = "kalem.lean_passed_on"   # set in the scope: route this request the ordinary way
_DEPENDENCIES = (_context, bearer_principal)   # what the endpoints served here may depend on


class NotLean(Exception):
    """This request is not plainly well formed: FastAPI's route answers it."""


class LeanRoute(Route):
    def __init__(self, route: APIRoute, claims: Iterable[Claim] = ()) -> None:
        """`claims`: the other faces' claims on this route's bodies (api/intake.py); a body one of them
        holds is passed on to the route, which hands it to that face."""
        dependant = route.dependant
        self._claims = tuple(claims)
        super().__init__(route.path, endpoint=route.endpoint, methods=route.methods, name=route.name,
                         include_in_schema=False)
        self.app = self._serve   # an ASGI app of its own, not wrapped as a request/response function
        self.route = route
        # One JSON body, required or optional (None when the request has none), or no body at all.
        self._body_name: str | None = None
        self._body_model: Any = BaseModel
        self._body_optional = False
        if len(dependant.body_params) == 1:
            (body,) = dependant.body_params
            self._body_name, self._body_optional = body.name, not body.field_info.is_required()
            self._body_model = _model(body.field_info.annotation, optional=self._body_optional)
        self._path = [p.name for p in dependant.path_params]
        self._headers = [(p.name, p.alias.lower().encode("latin-1"), p) for p in dependant.header_params]
        self._queries = [(p.name, p.alias, p) for p in dependant.query_params]
        # FastAPI types both as optional; the check below holds them to the named dependencies
        self._needs: list[tuple[Any, Any]] = [(d.name, d.call) for d in dependant.dependencies]
        if not (all(call in _DEPENDENCIES for _, call in self._needs) and len(dependant.body_params) <= 1
                and isinstance(self._body_model, type) and issubclass(self._body_model, BaseModel)
                and all(p.field_info.annotation is str for p in dependant.path_params)
                and not (dependant.cookie_params or dependant.request_param_name or dependant.response_param_name)):
            raise TypeError(f"{route.path}: only an endpoint of path strings, at most one JSON body, headers, query "
                            "parameters, the context and the caller can be served lean")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get(PASSED_ON):
            return Match.NONE, {}
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self.route   # the metrics' label and the face are the FastAPI route's
        return match, child

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = await _received(receive)
        try:
            if received[-1]["type"] != "http.request":   # the client left mid-body
                raise NotLean
            arguments = self._arguments(scope, b"".join(m.get("body", b"") for m in received))
        except NotLean:
            await _pass_on(scope, received, receive, send)
            return
        request = Request(scope, receive)
        for name, call in self._needs:
            arguments[name] = await call(request)
        if scope["app"].state.kalem.on_loop:   # PostgreSQL: the transaction on the event loop, no thread hop
            response = await on_loop.run(self.route.endpoint, **arguments)
        else:
            response = await run_in_threadpool(self.route.endpoint, **arguments)
        await response(scope, receive, send)

    def _arguments(self, scope: Scope, body: bytes) -> dict[str, Any]:
        raw = _headers(scope["headers"], [b"content-type", *(alias for _, alias, _ in self._headers)])
        arguments: dict[str, Any] = {}
        if self._body_name is not None:
            arguments[self._body_name] = self._body(raw, body)
        path_params = scope["path_params"]
        arguments.update((name, path_params[name]) for name in self._path)
        for name, alias, field in self._headers:
            arguments[name] = _one(field, [v.decode("latin-1") for v in raw.get(alias, ())])
        query = QueryParams(scope.get("query_string", b""))
        for name, key, field in self._queries:
            arguments[name] = _one(field, query.getlist(key))
        return arguments

    def _body(self, raw: dict[bytes, list[bytes]], body: bytes) -> Any:
        if self._body_optional and not body and b"content-type" not in raw:
            return None   # an optional body left out altogether
        if raw.get(b"content-type") != [b"application/json"]:
            raise NotLean
        try:
            data = json.loads(body)
            if any(claim.holds(data) for claim in self._claims):
                raise NotLean
            return self._body_model.model_validate(data)
        except (ValueError, RecursionError, ValidationError) as exc:
            # a JSONDecodeError is a ValueError; too deep a nesting is a RecursionError
            raise NotLean from exc


def _model(annotation: Any, *, optional: bool) -> Any:
    """The body's model: the annotation itself, or for an optional body its `Model | None`'s model."""
    if optional:
        models = [a for a in get_args(annotation) if a is not type(None)]
        return models[0] if len(models) == 1 else None
    return annotation


def _one(field: Any, values: list[str]) -> Any:
    """A declared header or query parameter, validated by its own field; absent: its default."""
    if not values:
        return field.default
    if len(values) > 1:
        raise NotLean
    value, errors = field.validate(values[0])
    if errors:
        raise NotLean
    return value


def _headers(raw: Iterable[tuple[bytes, bytes]], wanted: list[bytes]) -> dict[bytes, list[bytes]]:
    found: dict[bytes, list[bytes]] = {}
    for name, value in raw:
        if name in wanted:
            found.setdefault(name, []).append(value)
    return found


async def _received(receive: Receive) -> list[Message]:
    """The request's messages up to its whole body (or the client's leaving)."""
    messages = []
    while True:
        messages.append(await receive())
        if messages[-1]["type"] != "http.request" or not messages[-1].get("more_body", False):
            return messages


async def _pass_on(scope: Scope, received: list[Message], receive: Receive, send: Send) -> None:
    """Route the request again, past the lean routes, with the messages already received to read again."""
    scope[PASSED_ON] = True
    await scope["router"](scope, replay(received, receive), send)


def lean_routes(routes: Iterable[Any], operations: set[tuple[str, str]],
                claims: Iterable[Claim]) -> Iterator[LeanRoute]:
    """A lean route for each FastAPI route among `routes` that serves one of `operations` (method, path)."""
    claims = tuple(claims)
    for route in routes:
        served = {(method, route.path) for method in getattr(route, "methods", ())} & operations
        if isinstance(route, APIRoute) and served:
            yield LeanRoute(route, [claim for claim in claims if (claim.method, claim.path) in served])
