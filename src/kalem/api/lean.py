"""The hot writes — kalem's own and the faces' — served without FastAPI's per-request machinery when
the request is well formed.

A direct cancel costs a few milliseconds of CPU, and FastAPI's generic handling of it (content-type
sniffing, dependency solving, parameter resolution, an exit stack per request) is a measurable part of
that. A `LeanRoute` stands before one FastAPI route and serves the requests that are plainly well
formed — a JSON body that validates (or, where the body is optional, none at all; where the route
takes none, whatever is sent is not read, as FastAPI does not read it), each declared path, header
and query parameter, its dependencies' headers included, at most once and valid — by solving the
route's dependencies as FastAPI solves them (a face's credentials, read from its own headers) and
calling the very same endpoint with the same arguments. Every other request (another content type,
malformed JSON, a body or parameter that fails validation) is routed on to the FastAPI route itself,
so its refusals are FastAPI's own, byte for byte. The operation, its OpenAPI document, the errors the
endpoint and its dependencies raise, the metrics' route label and every middleware stay as they are.

On PostgreSQL kalem's own hot writes run their endpoint on the event loop (store/on_loop.py): its
transaction waits for the database on psycopg's async connection instead of holding a pool thread, and
the request skips the hop to that thread and back. Same endpoint, same use case, same unit of work. The
faces' writes keep the thread pool (`on_loop=False`, api/app.py): their transactions take more round
trips, each dearer on the loop.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Iterator
from typing import Any, get_args, get_type_hints

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from kalem.api.intake import Claim
from kalem.api.middleware import replay
from kalem.store import on_loop

PASSED_ON = "kalem.lean_passed_on"   # set in the scope: route this request the ordinary way
#: The kinds of parameter FastAPI injects that a lean route does not supply (`Dependant.<kind>_param_name`).
_UNSUPPLIED = ("websocket", "response", "background_tasks", "security_scopes")


class NotLean(Exception):
    """This request is not plainly well formed: FastAPI's route answers it."""


class _Need:
    """A dependency of the endpoint (or of another dependency), solved as FastAPI solves it: its own
    dependencies first, in order, then itself called with them, the request and its declared headers;
    once per request unless it opts out of FastAPI's cache. A sync one runs where the endpoint runs."""

    def __init__(self, dependant: Dependant, path: str) -> None:
        call = dependant.call
        if (call is None or dependant.body_params or dependant.path_params or dependant.query_params
                or dependant.cookie_params or dependant.own_oauth_scopes or dependant.concurrency is not None
                or _unsupplied(dependant) or _generator(call)):
            raise TypeError(f"{path}: a dependency of only the request, headers and other such dependencies "
                            "can be solved lean")
        self.name, self.call, self.use_cache = dependant.name, call, dependant.use_cache
        self.is_async = _coroutine(call)
        self.request = _request_names(dependant)
        self.headers = _header_fields(dependant)
        self.needs = [_Need(d, path) for d in dependant.dependencies]

    def flat(self) -> Iterator[_Need]:
        yield self
        for need in self.needs:
            yield from need.flat()


class LeanRoute(Route):
    def __init__(self, route: APIRoute, claims: Iterable[Claim] = (), *, on_loop: bool = True) -> None:
        """`claims`: the other faces' claims on this route's bodies (api/intake.py); a body one of them
        holds is passed on to the route, which hands it to that face. `on_loop`: on PostgreSQL, the
        endpoint runs on the event loop (a transaction of few round trips gains by it); else, as
        everywhere on SQLite, in the thread pool."""
        dependant = route.dependant
        self._claims = tuple(claims)
        self._on_loop = on_loop
        super().__init__(route.path, endpoint=route.endpoint, methods=route.methods, name=route.name,
                         include_in_schema=False)
        self.app = self._serve   # an ASGI app of its own, not wrapped as a request/response function
        self.route = route
        # One JSON body, required or optional (None when the request has none), or no body at all.
        self._body_name: str | None = None
        self._body_field: Any = None
        self._body_model: Any = None   # a model's own validation, when the body is one (FastAPI's, faster)
        self._body_optional = False
        if len(dependant.body_params) == 1:
            (body,) = dependant.body_params
            self._body_name, self._body_field = body.name, body
            self._body_optional = not body.field_info.is_required()
            model = _model(body.field_info.annotation, optional=self._body_optional)
            if isinstance(model, type) and issubclass(model, BaseModel) and not body.field_info.metadata:
                self._body_model = model
        # Path parameters typed `str` are passed as routed; any other is validated by its own field.
        self._path = [(p.name, None if p.field_info.annotation is str and not p.field_info.metadata else p)
                      for p in dependant.path_params]
        self._headers = _header_fields(dependant)
        self._queries = [(p.name, p.alias, p) for p in dependant.query_params]
        self._request = _request_names(dependant)
        self._needs = [_Need(d, route.path) for d in dependant.dependencies]
        self._headed = [need for top in self._needs for need in top.flat() if need.headers]   # read per request
        self._aliases = [b"content-type", *(alias for _, alias, _ in self._headers),
                         *(alias for need in self._headed for _, alias, _ in need.headers)]
        if (len(dependant.body_params) > 1 or route._embed_body_fields or dependant.cookie_params
                or _unsupplied(dependant) or _coroutine(route.endpoint) or not _answers_a_response(route.endpoint)):
            raise TypeError(f"{route.path}: only a sync endpoint answering a Response, of path parameters, at "
                            "most one JSON body, headers, query parameters, the request and dependencies of "
                            "those can be served lean")

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
            raw = _headers(scope["headers"], self._aliases)
            arguments = self._arguments(scope, raw, b"".join(m.get("body", b"") for m in received))
            headers = {need: {name: _one(field, _latin(raw.get(alias))) for name, alias, field in need.headers}
                       for need in self._headed}
        except NotLean:
            await _pass_on(scope, received, receive, send)
            return
        request = Request(scope, replay(received, receive))
        loop = self._on_loop and scope["app"].state.kalem.on_loop   # PostgreSQL: the transaction on the loop
        for name in self._request:
            arguments[name] = request
        arguments.update(await _solve(self._needs, request, headers, {}, loop))
        if loop:
            response = await on_loop.run(self.route.endpoint, **arguments)
        else:
            response = await run_in_threadpool(self.route.endpoint, **arguments)
        await response(scope, receive, send)

    def _arguments(self, scope: Scope, raw: dict[bytes, list[bytes]], body: bytes) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self._body_name is not None:
            arguments[self._body_name] = self._body(raw, body)
        path_params = scope["path_params"]
        for name, field in self._path:
            arguments[name] = path_params[name] if field is None else _one(field, [path_params[name]])
        for name, alias, field in self._headers:
            arguments[name] = _one(field, _latin(raw.get(alias)))
        if self._queries:
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
            if self._body_model is not None:
                return self._body_model.model_validate(data)
            value, errors = self._body_field.validate(data, loc=("body",))   # as FastAPI validates it
        except (ValueError, RecursionError, ValidationError) as exc:
            # a JSONDecodeError is a ValueError; too deep a nesting is a RecursionError
            raise NotLean from exc
        if errors or value is None:   # an optional body sent as null: FastAPI's route answers
            raise NotLean
        return value


async def _solve(needs: list[_Need], request: Request, headers: dict[_Need, dict[str, Any]],
                 cache: dict[Any, Any], loop: bool) -> dict[str, Any]:
    """The named values of `needs`, solved in FastAPI's order: each one's own dependencies first, a
    cached value reused, an async call awaited, a sync one run where the endpoint runs (a greenlet on
    the event loop, else the thread pool, as FastAPI runs it)."""
    values: dict[str, Any] = {}
    for need in needs:
        kwargs = await _solve(need.needs, request, headers, cache, loop) if need.needs else {}
        kwargs.update(headers.get(need, ()))
        for name in need.request:
            kwargs[name] = request
        if need.use_cache and need.call in cache:
            value = cache[need.call]
        elif need.is_async:
            value = await need.call(**kwargs)
        elif loop:
            value = await on_loop.run(need.call, **kwargs)
        else:
            value = await run_in_threadpool(need.call, **kwargs)
        cache.setdefault(need.call, value)
        if need.name is not None:
            values[need.name] = value
    return values


def _unsupplied(dependant: Dependant) -> bool:
    """Whether FastAPI would inject a kind of parameter a lean route does not supply."""
    return any(getattr(dependant, f"{kind}_param_name") is not None for kind in _UNSUPPLIED)


def _header_fields(dependant: Dependant) -> list[tuple[str, bytes, Any]]:
    """(name, the header's lower-case name, its field) of each header parameter declared."""
    return [(p.name, p.alias.lower().encode("latin-1"), p) for p in dependant.header_params]


def _request_names(dependant: Dependant) -> list[str]:
    """The parameters FastAPI passes the request to (typed `Request`, or `HTTPConnection`)."""
    return [name for name in (dependant.request_param_name, dependant.http_connection_param_name) if name]


def _coroutine(call: Any) -> bool:
    """Whether FastAPI awaits `call` (a coroutine function, or an object whose `__call__` is one)."""
    if inspect.isroutine(call) or inspect.isclass(call):
        return inspect.iscoroutinefunction(call)
    return inspect.iscoroutinefunction(type(call).__call__)


def _generator(call: Any) -> bool:
    """A dependency with `yield` (FastAPI runs it in an exit stack): not solved lean."""
    return any(inspect.isgeneratorfunction(c) or inspect.isasyncgenfunction(c) for c in (call, type(call).__call__))


def _answers_a_response(endpoint: Any) -> bool:
    """Declared to return a `Response`, which FastAPI sends as it is (anything else it would serialise)."""
    try:
        answer = get_type_hints(endpoint).get("return")
    except (NameError, TypeError):
        return False
    return isinstance(answer, type) and issubclass(answer, Response)


def _latin(values: list[bytes] | None) -> list[str]:
    return [v.decode("latin-1") for v in values] if values else []


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


def lean_routes(routes: Iterable[Any], operations: set[tuple[str, str]], claims: Iterable[Claim], *,
                on_loop: bool = True) -> Iterator[LeanRoute]:
    """A lean route for each FastAPI route among `routes` that serves one of `operations` (method, path)."""
    claims = tuple(claims)
    found: set[tuple[str, str]] = set()
    for route in routes:
        served = {(method, route.path) for method in getattr(route, "methods", ())} & operations
        if isinstance(route, APIRoute) and served:
            found |= served
            yield LeanRoute(route, [claim for claim in claims if (claim.method, claim.path) in served],
                            on_loop=on_loop)
    if operations - found:   # a misspelt operation would silently stay FastAPI's
        raise TypeError(f"no route serves {sorted(operations - found)}")
