"""What a connector is: the client of one platform's API, playing the role that platform's documentation
gives its caller (docs/channels.md). Each platform package provides one through its `PLATFORM`; the sync
(app/channel_sync.py) drives them and names none.

Inbound, `pull` returns the platform's orders as kalem order specs, with what the platform has
cancelled of each line, and the watermark to ask from next time. A connector may stream them: its
`orders` a lazy iterable that reads the platform page by page while the sync takes each order in, so
that a pull of a hundred thousand orders holds one page of them at a time, not all. Outbound, `push` turns one stored
event of an order into the platform's call and says how it went: done, retry later, or rejected (a
dead letter that keeps the platform's answer). A push never applies a change twice: a connector reads
the platform's state first where the platform has no idempotency of its own.

For reconciliation (app/channel_reconcile.py), a connector that can also `read` one order as the
platform shows it is a `Reader`; one that cannot is reported as not reconcilable.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any, Protocol, TypeVar, runtime_checkable

import httpx
from pydantic import BaseModel, ValidationError

from kalem.domain.orders import Order, OrderSpec, PackageStatus
from kalem.store.channel_accounts import ChannelAccount


@cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS settings, made once: reading the CA bundle costs tens of milliseconds, which
    a client made per push or per order read would pay each time."""
    return httpx.create_ssl_context()


def http_client(base_url: str, *, timeout: float, headers: Mapping[str, str] | None = None,
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """A client of a platform's API, on the process's one TLS context."""
    return httpx.Client(base_url=base_url, timeout=timeout, headers=dict(headers or {}), transport=transport,
                        verify=_tls())


#: Kinds of failure an account's health shows (`last_error_kind`).
CREDENTIALS_REJECTED = "credentials_rejected"
UNREACHABLE = "unreachable"
UNREADABLE_ANSWER = "unreadable_answer"
PLATFORM_ERROR = "platform_error"
REFUSED = "refused"
#: HTTP 429: the platform asks kalem to wait (a login locked after failed attempts, a request quota).
THROTTLED = "throttled"
#: The longest `Retry-After` kalem waits for as asked; a longer one is cut to this.
RETRY_AFTER_MAX = 86400.0


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """An HTTP `Retry-After` (RFC 9110: whole seconds, or an HTTP date) as seconds from `now`; None when
    absent or unreadable, never below 0 nor above `RETRY_AFTER_MAX`."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, seconds), RETRY_AFTER_MAX)


@dataclass(frozen=True, slots=True)
class InboundOrder:
    """One order as the platform shows it: `spec` (its seller and channel are the account's), and how
    many units of each line (by kalem line id) the platform has cancelled, with the kalem reason. A
    platform that shows only what is left of each line gives `remaining` instead: kalem
    cancels the open units it holds beyond it."""

    spec: OrderSpec
    cancelled: Mapping[str, int] = field(default_factory=dict)
    reason_id: int = 137  # kalem's `seller_request`, when the platform gives none
    remaining: Mapping[str, int] | None = None
    #: A platform that shows each unit's package status: line id → kalem unit number → that status
    #: (app/channel_packages.py moves kalem's packages as far).
    unit_status: Mapping[str, Mapping[int, PackageStatus]] | None = None


@dataclass(frozen=True, slots=True)
class Pulled:
    """The orders of one pull, and the watermark to ask from next time. A streamed pull learns its
    watermark as it reads the pages: it gives `watermark_read`, asked once every order has been read."""

    orders: Iterable[InboundOrder]
    watermark: str | None = None
    watermark_read: Callable[[], str | None] | None = None

    def final_watermark(self) -> str | None:
        return self.watermark_read() if self.watermark_read is not None else self.watermark


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One event to mirror on the platform, with the order as kalem holds it now. `attempt` > 1 means
    an earlier attempt may have reached the platform: read its state before sending again. `packages`:
    the platform's id of each of the order's packages that earlier pushes learnt (kalem package id →
    the platform's), for a platform that numbers packages itself."""

    event_type: str
    data: Mapping[str, Any]
    order: Order
    attempt: int
    packages: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Done:
    """The platform shows the change. `packages`: the platform's ids of kalem packages this push
    learnt (a split's new packages), kept for the order's later pushes."""

    note: str = ""
    packages: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Not done; tried again with backoff, and not before `retry_after` seconds when the platform asked."""

    kind: str
    message: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """The platform refused the call, or answered what kalem does not understand: a dead letter."""

    kind: str
    message: str
    body: str | None = None


Outcome = Done | RetryLater | Rejected


class ChannelFailure(Exception):
    """A pull that failed: `kind` (one of the kinds above) goes on the account's health; `body` is the
    platform's answer when it was one kalem does not understand; `retry_after`, the seconds the
    platform asked kalem to wait (its `Retry-After`)."""

    def __init__(self, kind: str, message: str, body: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.body = body
        self.retry_after = retry_after


def throttled(platform: str, headers: Mapping[str, str], body: str | None = None) -> ChannelFailure:
    """The failure of an HTTP 429 answer from `platform` (its name in words), with the wait it asked for."""
    wait = retry_after_seconds(headers.get("retry-after"))
    asked = f"; it asks to wait {wait:.0f} s" if wait is not None else ""
    return ChannelFailure(THROTTLED, f"{platform} answered HTTP 429, too many requests{asked}", body,
                          retry_after=wait)


M = TypeVar("M", bound=BaseModel)


class UnreadableAnswer(Exception):
    """A platform's answer that is not in the form of its documented model; `body` keeps it (a dead
    letter shows it)."""

    def __init__(self, body: str) -> None:
        super().__init__(body)
        self.body = body


def parse_answer(model: type[M], response: httpx.Response) -> M:
    """The platform's answer read as `model` (the connector's wire model of it), or `UnreadableAnswer`."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        raise UnreadableAnswer(response.text) from None


class Connector(Protocol):
    platform: str
    credential_names: tuple[str, ...]   # what an account of this platform must hold
    pushes: frozenset[str]              # the event types it mirrors on the platform

    def pull(self, account: ChannelAccount, since: str | None) -> Pulled: ...

    def push(self, account: ChannelAccount, request: PushRequest) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class LineView:
    """One line's units as the platform shows them; None where the platform does not say (a platform
    may show how many units are left, not how many were cancelled or shipped)."""

    open: int | None = None
    cancelled: int | None = None
    shipped: int | None = None
    alive: int | None = None    # not cancelled: open and shipped together
    pending_cancel: int | None = None   # reserved by a cancel request the platform still waits on


@dataclass(frozen=True, slots=True)
class Decided:
    """A line's units, by kalem unit number, on which the platform shows a cancel request decided:
    `cancelled` (approved, or cancelled otherwise) and `refused` (open again, the request refused, with
    kalem's denial reason `reason_id`). Taking the platform's state decides kalem's own pending
    request over those units the same way, when the platform waits on none of its units any more."""

    cancelled: frozenset[int] = frozenset()
    refused: frozenset[int] = frozenset()
    reason_id: int | None = None


@dataclass(frozen=True, slots=True)
class ChannelView:
    """One order as the platform shows it: its lines by kalem line id, and the order as a pull would
    take it in (what taking the platform's state applies); `decided`, by line id, for a platform that
    decides the cancel requests kalem asks it."""

    lines: Mapping[str, LineView]
    inbound: InboundOrder
    decided: Mapping[str, Decided] = field(default_factory=dict)


@runtime_checkable
class Reader(Protocol):
    def read(self, account: ChannelAccount, order: Order) -> ChannelView | None:
        """The order as the platform shows it now; None when the platform shows no such order.
        Raises `ChannelFailure` when the platform cannot be read."""
        ...
