"""Per-credential rate limiting: one in-process token bucket per credential, 429 past it.

A request is counted against the credential it carries (`Authorization`, Zonos' `credentialToken`,
n11's `appkey`/`appsecret`, the hub's session cookie) — hashed, so no secret is kept in memory — or,
with none, against its client address. Sign-in endpoints always count against the address: a
made-up header must not buy a fresh bucket for guessing passwords.

Limits are per process (N API processes allow N× the budget); a limit shared by every process
belongs to the reverse proxy in front (docs/api.md, "Limits"). No database on this path.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from kalem.api.error_bodies import RATE_LIMITED
from kalem.api.middleware import refuse
from kalem.app.throttle import TokenBuckets, retry_after

#: Probes (liveness, readiness) must answer however busy the address they come from is.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: Credentials travel in the body here: count per client address (lower case, no trailing slash).
SIGN_IN_PATHS = frozenset({"/auth/login", "/api/v1/auth/login", "/v1/auth/token", "/hub/login"})
HUB_SESSION_COOKIE = "kalem_hub"  # kalem.hub.session.SESSION_COOKIE (the api may not import the hub)


def credential_key(scope: Scope) -> bytes:
    """SHA-256 of the credential the request carries; of the client address when it carries none."""
    path = scope["path"].lower().rstrip("/")
    if path not in SIGN_IN_PATHS:
        authorization = token = appkey = appsecret = None
        cookies: list[bytes] = []
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                authorization = value
            elif name == b"credentialtoken":
                token = value
            elif name == b"appkey":
                appkey = value
            elif name == b"appsecret":
                appsecret = value
            elif name == b"cookie":
                cookies.append(value)
        if authorization:
            # The credential without its scheme, so `Bearer X` and `credentialToken: X` share a bucket.
            _, _, credential = authorization.strip().partition(b" ")
            return _digest(b"token", credential.strip() or authorization)
        if token:
            return _digest(b"token", token.strip())
        if appkey or appsecret:
            return _digest(b"n11", (appkey or b"") + b"\x00" + (appsecret or b""))
        if cookies:
            session = cookie_parser(b"; ".join(cookies).decode("latin-1")).get(HUB_SESSION_COOKIE)
            if session:
                return _digest(b"hub", session.encode())
    client = scope.get("client")
    return _digest(b"address", (client[0] if client else "unknown").encode())


def _digest(kind: bytes, value: bytes) -> bytes:
    return hashlib.sha256(kind + b"\x00" + value).digest()


class RateLimit:
    """Pure ASGI: refuses before the app (or the body-size limit) reads anything."""

    def __init__(self, app: ASGIApp, per_second: float, burst: int, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_second, burst, max_keys=max_keys, clock=clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(credential_key(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = str(retry_after(wait))
        await refuse(scope, receive, send, 429, RATE_LIMITED,
                     f"too many requests for this credential; retry after {seconds} s",
                     headers={"Retry-After": seconds, "RateLimit-Limit": str(self.buckets.burst),
                              "RateLimit-Remaining": "0", "RateLimit-Reset": seconds})
