"""Request ids and the access log: one line per request (method, path, status, duration, request id).

The request id is the caller's `X-Request-ID` when it is a plain token, else a new one; it is
returned in `X-Request-ID`, carried into native error bodies and set on every log record."""

from __future__ import annotations

import logging
import re
import time

from asgi_correlation_id import correlation_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("kalem.access")
HEADER = "X-Request-ID"
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def current_request_id() -> str | None:
    return correlation_id.get()


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app fails before it starts a response

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            log.info("%s %s %s %.1fms", scope["method"], scope["path"], status, duration_ms,
                     extra={"method": scope["method"], "path": scope["path"], "status": status,
                            "duration_ms": duration_ms})


def accepted(value: str) -> bool:
    """A caller's `X-Request-ID` is kept when it is a plain token (it ends up in logs and headers)."""
    return bool(_ACCEPTED.match(value))
