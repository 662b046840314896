"""One path, several faces: a route that hands a request to another face when its body says so.

HepsiGlobal's order intake is `POST /v1/orders`, the very path of the native intake. The native
contract stays as it is; a face brings a *claim* on a (method, path) — a predicate on the parsed
JSON body — and the handler to use when it holds (`api.app.Face.claims`, kept on the app). A body
no claim holds (or one that is not JSON at all) goes to the native endpoint, whose own validation
then answers. Claims are tried in order; the rule each face uses is documented with the face
(docs/refunds.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True)
class Claim:
    method: str
    path: str                       # the route's path template
    holds: Callable[[Any], bool]    # on the parsed JSON body (None when it is not JSON)
    handler: Handler


class BodyShapeRoute(APIRoute):
    """An APIRoute whose request may be claimed by another face on the body's shape."""

    def get_route_handler(self) -> Handler:
        native = super().get_route_handler()

        async def handler(request: Request) -> Response:
            claims = [c for c in request.app.state.intake_claims
                      if c.method == request.method and c.path == self.path_format]
            if claims:
                try:
                    body = json.loads(await request.body() or b"null")
                except (ValueError, RecursionError):
                    body = None
                for claim in claims:
                    if claim.holds(body):
                        return await claim.handler(request)
            return await native(request)

        return handler
