"""ASGI middleware: body size limit, and case-insensitive paths for faces that route that way."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kalem.api.error_bodies import INVALID_CHARACTERS, PAYLOAD_TOO_LARGE
from kalem.api.errors import renderer_for


class BodyLimit:
    """Refuse bodies over `limit` bytes (413) whether or not Content-Length is sent, and NUL characters (422).
    `larger`: paths that take bigger bodies (a batch), with their own limit."""

    def __init__(self, app: ASGIApp, limit: int, larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = limit
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.default)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await refuse(scope, receive, send, 413, PAYLOAD_TOO_LARGE, f"the body exceeds {limit} bytes")
                return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await refuse(scope, receive, send, 422, INVALID_CHARACTERS, "the URL holds a NUL character")
            return
        # Read the whole (bounded) body first, so a refusal happens before the app has started.
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            more = message.get("more_body", False)
            if seen > limit:
                await refuse(scope, receive, send, 413, PAYLOAD_TOO_LARGE, f"the body exceeds {limit} bytes")
                return
        body = b"".join(chunks)
        # PostgreSQL cannot store NUL in text; refuse it the same way on every database.
        if b"\\u0000" in body or b"\x00" in body or (b"%00" in body and _form_encoded(scope)):
            await refuse(scope, receive, send, 422, INVALID_CHARACTERS, "the body holds a NUL character")
            return
        await self.app(scope, replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _form_encoded(scope: Scope) -> bool:
    """A URL-encoded form (the hub's), where `%00` is a NUL once decoded."""
    return any(name == b"content-type" and value.split(b";")[0].strip().lower() == b"application/x-www-form-urlencoded"
               for name, value in scope.get("headers", ()))


def replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A `receive` that gives `messages` first, then what `then` receives (else a disconnect)."""
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if then is not None:
            return await then()  # e.g. http.disconnect
        return {"type": "http.disconnect"}

    return receive


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
    """Answer in the envelope of the face the path belongs to (before the app has run)."""
    response = renderer_for(scope["app"], scope["path"])(code, status, message, {})
    for name, value in (headers or {}).items():
        response.headers[name] = value
    await response(scope, receive, send)


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
                # In place, not a copy: the metrics middleware outside reads the matched route from it.
                scope["path"], scope["raw_path"] = fixed, fixed.encode()
        await self.app(scope, receive, send)
