"""The HTTP edge: every request counted and timed by face and route template, written to the access log
(`kalem.access`: method, path, status, duration; the request id is on every record), and traced when on.

Outside every middleware that can answer, so it sees every answer — the rate limiter's 429s and the
body limit's 413s included; inside the one that sets the request id, which the span carries. The
route template (not the path) keeps the label set small; a path no route matches is `unmatched`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from asgi_correlation_id import correlation_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kalem.observability import metrics, tracing

UNMATCHED = "unmatched"
access_log = logging.getLogger("kalem.access")


class Instrument:
    def __init__(self, app: ASGIApp, faces: Mapping[int, str]) -> None:
        """`faces`: the face of each route, by the route object's id."""
        self.app = app
        self.faces = faces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = {"status": 500, "replayed": False}  # an exception that escapes everything is a 500

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["replayed"] = any(name == b"idempotent-replayed" for name, _ in message.get("headers", ()))
            await send(message)

        with tracing.span(scope["method"], parent=tracing.extract(scope.get("headers", ())),
                          attributes={"http.request.method": scope["method"], "url.path": scope["path"]}) as span:
            try:
                await self.app(scope, receive, observed)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or UNMATCHED
                face = self.faces.get(id(route), "none") if route is not None else "none"
                method, status, seconds = scope["method"], answer["status"], time.perf_counter() - started
                metrics.http_requests(face, template, method, str(status)).inc()
                metrics.http_latency(face, template, method).observe(seconds)
                duration_ms = round(seconds * 1000, 1)
                access_log.info("%s %s %s %.1fms", method, scope["path"], status, duration_ms,
                                extra={"method": method, "path": scope["path"], "status": status,
                                       "duration_ms": duration_ms})
                if answer["replayed"]:
                    metrics.idempotent_replays(face).inc()
                if span is not None:
                    span.update_name(f"{method} {template}")
                    span.set_attributes({"http.route": template, "kalem.face": face,
                                         "http.response.status_code": status,
                                         "kalem.request_id": correlation_id.get() or ""})
                    if status >= 500:
                        tracing.fail(span)
