"""Routing by the path's first two segments, so a request tries only the routes that could match it.

Starlette (and FastAPI) try an app's routes in order until one fully matches, and kalem's routes are
many: every face, the hub, the native API. A request for a route near the end (a face's cancel, a hub
page) paid for trying every one before it, a scan inside every included router on the way — about
150 µs of CPU for an Akinon cancel. `RouteIndex` is one route, placed before the routes it indexes.
It knows, for each of them, the literal segments its paths (or its included routers' paths) start
with, and tries in their order only those whose start can equal the request's: the first of them to
match fully is the one the scan would have found, since a route whose literal start differs cannot
match. It then hands the request to that route, so what answers is exactly the route the scan would
have reached, through FastAPI's own handling. What no candidate fully matches (an unknown path, a
method the path does not take, a path that wants a trailing slash) is left to the scan that follows,
which answers it as before (404, 405, redirect). A route whose paths it cannot know (a host route,
an included router with a prefix of its own) is a candidate for every request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Host, Match, Mount, NoMatchFound
from starlette.types import Receive, Scope, Send

_CHOSEN = "kalem.route_index.chosen"
_DEPTH = 2   # the segments a key holds: /v1/orders, /api/v1, /hub/orders

Key = tuple[str, ...]


class RouteIndex(BaseRoute):
    def __init__(self, routes: list[BaseRoute]) -> None:
        """`routes`: the app's route list, this index among them; it covers the routes after it, as
        they are when it is first used (built again when routes are added or removed)."""
        self._routes = routes
        self._size = -1
        self._last: BaseRoute | None = None
        self._fitting: dict[Key, tuple[BaseRoute, ...]] = {}   # a request's key → the routes that fit it

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope.get("root_path"):
            return Match.NONE, {}
        for route in self.candidates(scope["path"]):
            match, child = route.matches(scope)
            if match is Match.FULL:
                child[_CHOSEN] = route
                return match, child
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope.pop(_CHOSEN).handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)   # it names nothing: the routes after it answer for their names

    def candidates(self, path: str) -> tuple[BaseRoute, ...]:
        """The indexed routes, in order, that could match `path`."""
        routes = self._routes
        if len(routes) != self._size or routes[-1] is not self._last:
            self._build(tuple(routes[next(i for i, r in enumerate(routes) if r is self) + 1:]))
            self._size, self._last = len(routes), routes[-1]
        segments = tuple(path.split("/", _DEPTH + 1)[1:_DEPTH + 1])
        # the routes fitting the longest start of the request's segments that some route's key begins
        # with: a route whose key goes on past it differs from the request there, and cannot match
        for n in range(len(segments), 0, -1):
            found = self._fitting.get(segments[:n])
            if found is not None:
                return found
        return self._fitting[()]   # routes whose paths start with no literal segment, or are unknown

    def _build(self, routes: tuple[BaseRoute, ...]) -> None:
        keys = [set(route_keys(route)) for route in routes]
        starts = {key[:n] for each in keys for key in each for n in range(len(key) + 1)} | {()}
        # a route fits a request's key when one of its keys is a start of it
        self._fitting = {request: tuple(route for route, each in zip(routes, keys, strict=True)
                                        if any(request[:len(key)] == key for key in each))
                         for request in starts}


def route_keys(route: Any) -> Iterator[Key]:
    """The literal starts of the paths `route` can fully match an HTTP request on; () when unknown."""
    included = getattr(route, "original_router", None)
    if included is not None:   # FastAPI's included router: its routes' paths, unless it adds a prefix
        context = getattr(route, "include_context", None)
        if context is None or getattr(context, "prefix", None) != "":
            yield ()
            return
        for child in included.routes:
            yield from route_keys(child)
        return
    if isinstance(route, Host):
        yield ()
        return
    path = getattr(route, "path", None)
    if not isinstance(path, str) or not path.startswith("/"):
        yield ()
        return
    if isinstance(route, Mount):
        path = path.rstrip("/") + "/{path:path}"   # what a mount matches (Starlette compiles it so)
    yield literal_key(path)


def literal_key(path: str) -> Key:
    """The whole segments, at most `_DEPTH`, a route path starts with before its first parameter."""
    literal, parameter, _ = path.partition("{")
    segments = literal.split("/")[1:]
    if parameter:
        segments = segments[:-1]   # the segment the parameter is in (or starts) is not literal
    return tuple(segments[:_DEPTH])

