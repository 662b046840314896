"""One HTTP delivery: check the address again, pin the connection to it, sign, send, time.

DNS rebinding: the host is resolved and checked before every send, and the request goes to the
address that was checked (the URL's host travels in `Host` and as the TLS server name), so a
second lookup inside the HTTP client cannot swap in a private address.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import urllib3
from standardwebhooks import Webhook

from kalem.app.webhooks import Resolver, Target, check_url, resolve
from kalem.domain.errors import KalemError

EXCERPT = 500
USER_AGENT = "kalem-webhooks/0.1"
#: Endpoints (checked address and host) whose kept-alive connections a worker holds at once.
ENDPOINTS_KEPT = 64


@dataclass
class Attempt:
    status_code: int | None
    duration_ms: int
    response_excerpt: str | None
    error: str | None
    retry_after: float | None = None
    attempted_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Sender:
    """Sends over urllib3 (a pool of kept-alive connections per checked address: one delivery after
    another to an endpoint reuses its connection), shared by every sending thread of a worker."""

    def __init__(self, *, timeout_seconds: float = 10.0, allow_private: bool = False,
                 resolver: Resolver = resolve, max_connections: int = 64) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        # No retries, no redirects: a 3xx is a failure (following it could lead to an address never checked).
        self._pools = urllib3.PoolManager(
            num_pools=ENDPOINTS_KEPT, maxsize=max_connections, retries=False,
            timeout=urllib3.Timeout(connect=min(5.0, timeout_seconds), read=timeout_seconds))

    def close(self) -> None:
        self._pools.clear()

    def send(self, row: dict[str, Any], msg_id: str, payload: dict[str, Any], method: str = "POST") -> Attempt:
        started = time.perf_counter()
        at = datetime.now(UTC)
        try:
            target = check_url(row["url"], allow_private=self._allow_private, resolver=self._resolver)
        except KalemError as exc:
            return Attempt(None, 0, None, f"{exc.code}: {exc.message}"[:500], attempted_at=at)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
        headers = {"content-type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(at.timestamp())), "user-agent": USER_AGENT,
                   "host": urlsplit(row["url"]).netloc}
        kind = row["auth_kind"]
        if kind == "standard":
            headers["webhook-signature"] = self._signatures(row, msg_id, at, body)
        elif kind == "basic":
            token = base64.b64encode(f"{row['basic_username']}:{row['secret']}".encode()).decode()
            headers["authorization"] = f"Basic {token}"
        elif kind == "bearer":
            headers["authorization"] = f"Bearer {row['secret']}"
        try:
            response = self._pinned(target).urlopen(
                method, _path(row["url"]), body=body.encode(), headers=headers, redirect=False,
                assert_same_host=False)
        except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the connect timeout, yet refused
            return Attempt(None, _ms(started), None, _error(exc), attempted_at=at)
        except urllib3.exceptions.TimeoutError:
            return Attempt(None, _ms(started), None, "timeout", attempted_at=at)
        except urllib3.exceptions.HTTPError as exc:
            return Attempt(None, _ms(started), None, _error(exc), attempted_at=at)
        excerpt = response.data[:EXCERPT * 4].decode(errors="replace")[:EXCERPT] if response.data else None
        return Attempt(response.status, _ms(started), excerpt, None,
                       retry_after(response.headers.get("retry-after"), at), attempted_at=at)

    def _pinned(self, target: Target) -> urllib3.HTTPConnectionPool:
        """The pool for the address that was checked: the URL's host travels in `Host` (set by `send`)
        and, over TLS, as the server name the certificate must match."""
        kwargs = {"server_hostname": target.host, "assert_hostname": target.host} if target.scheme == "https" else {}
        return self._pools.connection_from_host(target.addresses[0], target.port, target.scheme, pool_kwargs=kwargs)

    def _signatures(self, row: dict[str, Any], msg_id: str, at: datetime, body: str) -> str:
        """`webhook-signature`: the current secret's, and during a rotation the previous one's too."""
        secrets = [row["secret"]]
        until = row.get("previous_secret_until")
        if row.get("previous_secret") and until is not None and at < until:
            secrets.append(row["previous_secret"])
        return " ".join(_signer(secret).sign(msg_id, at, body) for secret in secrets)


@functools.lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    """One `Webhook` per secret: it decodes the key once, not at every send."""
    return Webhook(secret)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
