"""One path, several faces: a route that hands a request to another face when its body says so.

HepsiGlobal's order intake is `POST /v1/orders`, the very path of the native intake. The native
contract stays as it is; a face registers a *claim* on a (method, path) — a predicate on the
parsed JSON body — and the handler to use when it holds. A body no claim holds (or one that is not
JSON at all) goes to the native endpoint, whose own validation then answers. Registered claims
are tried in order; the rule each face uses is documented with the face (docs/refunds.md).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

Handler = Callable[[Request], Awaitable[Response]]
_claims: dict[tuple[str, str], list[tuple[Callable[[Any], bool], Handler]]] = {}


def register(method: str, path: str, claims: Callable[[Any], bool], handler: Handler) -> None:
    entries = _claims.setdefault((method.upper(), path), [])
    if all(existing is not handler for _, existing in entries):  # idempotent: apps are built more than once
        entries.append((claims, handler))


class BodyShapeRoute(APIRoute):
    """An APIRoute whose request may be claimed by another face on the body's shape."""

    def get_route_handler(self) -> Handler:
        native = super().get_route_handler()

        async def handler(request: Request) -> Response:
            claims = _claims.get((request.method, self.path_format))
            if claims:
                try:
                    body = json.loads(await request.body() or b"null")
                except ValueError:
                    body = None
                for holds, other in claims:
                    if holds(body):
                        return await other(request)
            return await native(request)

        return handler
