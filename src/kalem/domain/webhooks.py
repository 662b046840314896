"""Webhook rules that need no I/O: which events a subscription wants, which addresses may be
called, a delivery's life (`DELIVERY`), how long to wait before the next attempt, and the typed
errors of the webhook API."""

from __future__ import annotations

import ipaddress
import random
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from kalem.domain.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from kalem.domain.events.catalog import EVENT_TYPES
from kalem.domain.states import Machine


@dataclass(frozen=True, slots=True)
class Hook:
    """One request a dialect sends for an event: the JSON body, and the HTTP method its platform documents."""

    body: dict[str, Any]
    method: str = "POST"


DIALECTS = ("native", "hebiar", "hepsiglobal", "zonos")
AUTH_KINDS = ("standard", "basic", "bearer", "secret_url")


class DeliveryStatus(StrEnum):
    PENDING = "pending"          # queued, due at `next_attempt_at`
    DELIVERING = "delivering"    # a worker holds its lease and is sending it
    DELIVERED = "delivered"
    SKIPPED = "skipped"          # the subscription's dialect has no body for the event: nothing was sent
    FAILED = "failed"            # the last attempt failed; the next is due at `next_attempt_at`
    DEAD = "dead"                # attempts exhausted, or the receiver answered 410 Gone


class DeliveryStep(StrEnum):
    CLAIM = "claim"              # a worker leases it (again, once an earlier lease ran out)
    SUCCEED = "succeed"          # the receiver took it
    SKIP = "skip"                # the subscription's dialect has no body for the event
    RETRY = "retry"
    GIVE_UP = "give_up"
    REQUEUE = "requeue"          # an operator redelivers or replays it: a fresh retry budget
    # A worker that stops gives its claims back unsent, the attempt undone: as they were claimed.
    RELEASE = "release"          # no attempt before this one: pending again
    RELEASE_RETRY = "release_retry"  # an earlier attempt failed: failed again, its retry due


class DeliveryActionNotAllowed(IllegalTransition):
    """A delivery asked to take a step its status does not allow (the table's refusal)."""
    code = "webhook_delivery_action_not_allowed"
    face_code = IllegalTransition.code


_S, _A = DeliveryStatus, DeliveryStep
#: A webhook delivery's life. The store takes its steps set-wise, in SQL: a step's `WHERE status IN`
#: is `from_statuses(step)`, its `SET status` is `DELIVERY.next(...)`.
DELIVERY: Machine[DeliveryStatus, DeliveryStep] = Machine("webhook delivery", {
    (_S.PENDING, _A.CLAIM): _S.DELIVERING, (_S.FAILED, _A.CLAIM): _S.DELIVERING,
    (_S.DELIVERING, _A.CLAIM): _S.DELIVERING,
    (_S.DELIVERING, _A.SUCCEED): _S.DELIVERED, (_S.DELIVERING, _A.RETRY): _S.FAILED,
    (_S.DELIVERING, _A.GIVE_UP): _S.DEAD, (_S.DELIVERING, _A.SKIP): _S.SKIPPED,
    (_S.DELIVERING, _A.RELEASE): _S.PENDING, (_S.DELIVERING, _A.RELEASE_RETRY): _S.FAILED,
    (_S.PENDING, _A.REQUEUE): _S.PENDING, (_S.FAILED, _A.REQUEUE): _S.PENDING,
    (_S.DELIVERED, _A.REQUEUE): _S.PENDING, (_S.SKIPPED, _A.REQUEUE): _S.PENDING,
    (_S.DEAD, _A.REQUEUE): _S.PENDING,
}, DeliveryActionNotAllowed)


def from_statuses(step: DeliveryStep) -> tuple[DeliveryStatus, ...]:
    """The statuses `step` may be taken from, in the enum's order."""
    return tuple(s for s in DeliveryStatus if (s, step) in DELIVERY.table)


def target_of(step: DeliveryStep) -> DeliveryStatus:
    """The status `step` leads to (the same from every status it may be taken from)."""
    (target,) = {DELIVERY.next(s, step) for s in from_statuses(step)}
    return target


#: Statuses of a delivery that still has to happen (a later event of the same order waits for them).
OPEN_STATUSES = from_statuses(DeliveryStep.CLAIM)
#: Statuses of a delivery that is over (a replay queues these again).
FINISHED_STATUSES = tuple(s for s in DeliveryStatus if s not in OPEN_STATUSES)

# `order.placed`, `cancel_request.*` or `*`: lower-case dotted names, a trailing `.*` for a family.
_EVENT_TYPE = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")


class InvalidWebhookUrl(InvalidInput):
    code = "invalid_webhook_url"


class WebhookUrlNotAllowed(InvalidInput):
    code = "webhook_url_not_allowed"


class InvalidEventType(InvalidInput):
    code = "invalid_event_type"


class UnknownEventType(InvalidInput):
    code = "unknown_event_type"


class InvalidWebhookSecret(InvalidInput):
    code = "invalid_webhook_secret"


class WebhookAuthIncomplete(InvalidInput):
    """Receiver auth without what its kind needs (basic: username and password; bearer: a token)."""
    code = "webhook_auth_incomplete"
    face_code = InvalidInput.code


class WebhookFieldNotNullable(InvalidInput):
    """A subscription field set to null that must have a value (`dialect`, `enabled`)."""
    code = "webhook_field_not_nullable"
    face_code = InvalidInput.code


class WebhookSubscriptionNotFound(NotFound):
    code = "webhook_subscription_not_found"


class WebhookDeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"


class DeliveryInFlight(Conflict):
    code = "webhook_delivery_in_flight"


def validate_event_types(event_types: list[str]) -> list[str]:
    if not event_types:
        raise InvalidEventType("event_types must name at least one type (or \"*\")", field="event_types")
    for name in event_types:
        if not isinstance(name, str) or len(name) > 64 or not _EVENT_TYPE.match(name):
            raise InvalidEventType(f"{name!r} is not an event type (e.g. \"order.placed\", "
                                   "\"cancel_request.*\", \"*\")", field="event_types", value=str(name)[:80])
        if not any(wants([name], known) for known in EVENT_TYPES):
            raise UnknownEventType(f"{name!r} names no event kalem sends; see GET /v1/webhook-event-types",
                                   field="event_types", value=name, known=sorted(EVENT_TYPES))
    return sorted(set(event_types))


def wants(event_types: list[str], event_type: str) -> bool:
    """Does a subscription to `event_types` receive an event of `event_type`?"""
    for pattern in event_types:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or InvalidWebhookUrl."""
    if len(url) > 2000:
        raise InvalidWebhookUrl("the URL is longer than 2000 characters", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhookUrl(f"the URL is not valid: {exc}", field="url") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhookUrl("the URL must be absolute http(s) with a host", field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("credentials in the URL are not allowed; use auth basic", field="url")
    if any(c.isspace() for c in url):
        raise InvalidWebhookUrl("the URL contains white space", field="url")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


#: IPv6 prefixes whose addresses carry an IPv4 address in their last 32 bits: IPv4-compatible (::/96),
#: IPv4-translated (::ffff:0:0/96, RFC 2765), NAT64's well-known and local-use prefixes (RFC 6052, RFC 8215).
#: A host reached through one of them is the IPv4 host, so that host is the one to judge.
_LAST_32_BITS = tuple(ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for: IPv4-mapped, 6to4, Teredo (server and client),
    the prefixes above, and ISATAP interface identifiers (`…:0:5efe:a.b.c.d`, `…:200:5efe:a.b.c.d`)."""
    found = [v4 for v4 in (ip.ipv4_mapped, ip.sixtofour) if v4 is not None]
    if ip.teredo is not None:
        found += ip.teredo
    last = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in _LAST_32_BITS) or (int(ip) >> 32) & 0xFDFFFFFF == 0x5EFE:
        found.append(last)
    return found


def is_public(address: str) -> bool:
    """May kalem call this IP address when private addresses are not allowed? An IPv6 address that
    embeds IPv4 addresses (see `embedded_ipv4`) is public only if it and every address it stands for
    are; an IPv4-mapped one is its IPv4 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _public(ip)
    if ip.ipv4_mapped is not None:
        return _public(ip.ipv4_mapped)
    return _public(ip) and all(_public(v4) for v4 in embedded_ipv4(ip))


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n (1-based) failed → wait base·factor^(n-1), capped,
    times a random factor in [1-jitter, 1+jitter]; after `max_attempts` attempts the delivery is dead.

    The defaults (5 s, ×4, cap 6 h, 11 attempts) wait 5 s, 20 s, 80 s, 5.3 min, 21 min, 85 min,
    5.7 h, 6 h, 6 h, 6 h — about 25.6 h from the first attempt to the last."""

    base_seconds: float = 5.0
    factor: float = 4.0
    cap_seconds: float = 6 * 3600.0
    max_attempts: int = 11
    jitter: float = 0.2

    def delay(self, attempts: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after `attempts` failed attempts; `Retry-After` (capped at a day) is a floor."""
        raw = min(self.cap_seconds, self.base_seconds * self.factor ** max(0, attempts - 1))
        wait = raw * (1 + self.jitter * (2 * (rng or random).random() - 1))
        if retry_after is not None:
            wait = max(wait, min(retry_after, 86400.0))
        return wait

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
