"""ASGI middleware: body size limit, and case-insensitive paths for faces that route that way."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """Refuse bodies over `limit` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _too_large(send, self.limit)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": {"code": "payload_too_large", "message": f"the body exceeds {limit} bytes",
                                 "details": {"limit": limit}}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class CaseInsensitivePaths:
    """Rewrite known paths to their canonical case (ASP.NET-style routing, as the Hebiar OMS has)."""

    def __init__(self, app: ASGIApp, canonical: Mapping[str, str]) -> None:
        self.app = app
        self.canonical = {k.lower().rstrip("/"): v for k, v in canonical.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            fixed = self.canonical.get(path.lower().rstrip("/"))
            if fixed is not None and fixed != path:
                scope = dict(scope, path=fixed, raw_path=fixed.encode())
        await self.app(scope, receive, send)
