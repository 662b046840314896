"""Request ids: the caller's `X-Request-ID` when it is a plain token, else a new one; returned in
`X-Request-ID`, carried into native error bodies and set on every log record. The access log line (one
per request: method, path, status, duration, request id) is written where each request is measured
(`observability/http.py`)."""

from __future__ import annotations

import re

from asgi_correlation_id import correlation_id

HEADER = "X-Request-ID"
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def current_request_id() -> str | None:
    return correlation_id.get()


def accepted(value: str) -> bool:
    """A caller's `X-Request-ID` is kept when it is a plain token (it ends up in logs and headers)."""
    return bool(_ACCEPTED.match(value))
