"""One HTTP delivery: check the address again, pin the connection to it, sign, send, time.

DNS rebinding: the host is resolved and checked before every send, and the request goes to the
address that was checked (the URL's host travels in `Host` and as the TLS server name), so a
second lookup inside the HTTP client cannot swap in a private address.
"""

from __future__ import annotations

import base64
import email.utils
import ipaddress
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from kalem.app.webhooks import Resolver, check_url, resolve
from kalem.domain.errors import KalemError

EXCERPT = 500


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


def signatures(row: dict[str, Any], msg_id: str, at: datetime, body: str) -> str:
    """`webhook-signature`: the current secret's, and during a rotation the previous one's too."""
    sigs = [Webhook(row["secret"]).sign(msg_id, at, body)]
    until = row.get("previous_secret_until")
    if row.get("previous_secret") and until is not None and at < until:
        sigs.append(Webhook(row["previous_secret"]).sign(msg_id, at, body))
    return " ".join(sigs)


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
    def __init__(self, *, timeout_seconds: float = 10.0, allow_private: bool = False,
                 resolver: Resolver = resolve, max_connections: int = 64) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        # No redirects: a 3xx is a failure (following it could lead to an address never checked).
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)), follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"user-agent": "kalem-webhooks/0.1"})

    def close(self) -> None:
        self._client.close()

    def send(self, row: dict[str, Any], msg_id: str, payload: dict[str, Any], method: str = "POST") -> Attempt:
        started = time.perf_counter()
        at = datetime.now(UTC)
        try:
            target = check_url(row["url"], allow_private=self._allow_private, resolver=self._resolver)
        except KalemError as exc:
            return Attempt(None, 0, None, f"{exc.code}: {exc.message}"[:500], attempted_at=at)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
        headers = {"content-type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(at.timestamp()))}
        kind = row["auth_kind"]
        if kind == "standard":
            headers["webhook-signature"] = signatures(row, msg_id, at, body)
        elif kind == "basic":
            token = base64.b64encode(f"{row['basic_username']}:{row['secret']}".encode()).decode()
            headers["authorization"] = f"Basic {token}"
        elif kind == "bearer":
            headers["authorization"] = f"Bearer {row['secret']}"
        url, extensions = _pinned(row["url"], target.host, target.addresses[0], headers)
        try:
            response = self._client.request(method, url, content=body.encode(), headers=headers,
                                            extensions=extensions)
        except httpx.TimeoutException:
            return Attempt(None, _ms(started), None, "timeout", attempted_at=at)
        except httpx.HTTPError as exc:
            return Attempt(None, _ms(started), None, f"{type(exc).__name__}: {exc}"[:500], attempted_at=at)
        excerpt = response.text[:EXCERPT] if response.content else None
        return Attempt(response.status_code, _ms(started), excerpt, None,
                       retry_after(response.headers.get("retry-after"), at), attempted_at=at)


def _pinned(url: str, host: str, address: str, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    parts = urlsplit(url)
    if parts.hostname and parts.hostname.lower() == address.lower():
        return url, {}
    ip = ipaddress.ip_address(address)
    netloc = f"[{ip}]" if ip.version == 6 else str(ip)
    if parts.port:
        netloc += f":{parts.port}"
    headers["host"] = parts.netloc
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), {"sni_hostname": host}


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
