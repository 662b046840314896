"""Webhook use cases: subscriptions, deliveries, redelivery, replay, the change feed; and the address
check shared by the API (at creation) and the worker (at every send).

A seller manages its own subscriptions (they cover its own orders only) and sees and replays their
deliveries; another seller's, and an operator's, do not exist for it. An operator manages every one."""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from kalem.app.principals import Principal, SellerIdMismatch
from kalem.domain.webhooks import (
    DeliveryInFlight,
    DeliveryStatus,
    InvalidWebhookSecret,
    InvalidWebhookUrl,
    WebhookAuthIncomplete,
    WebhookDeliveryNotFound,
    WebhookFieldNotNullable,
    WebhookSubscriptionNotFound,
    WebhookUrlNotAllowed,
    is_public,
    split_url,
    validate_event_types,
)
from kalem.store.uow import UnitOfWork

#: How long the previous `whsec_` secret stays valid (and is signed with) after a rotation.
ROTATION_WINDOW = timedelta(hours=24)

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


@dataclass(frozen=True, slots=True)
class Target:
    """Where a send goes: the addresses were checked, and the connection is pinned to the first."""

    scheme: str
    host: str
    port: int
    addresses: list[str]


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> Target:
    """Refuse URLs that are not http(s) or (unless allowed) point at private or loopback addresses.
    Called when a subscription is saved and again before every send (DNS may have changed)."""
    scheme, host, port = split_url(url)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise InvalidWebhookUrl(f"the host {host} does not resolve", field="url", host=host) from exc
    if not addresses:
        raise InvalidWebhookUrl(f"the host {host} does not resolve", field="url", host=host)
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise WebhookUrlNotAllowed(f"the URL points at a private or loopback address ({refused[0]})",
                                       field="url", address=refused[0])
    return Target(scheme, host, port, addresses)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_secret(secret: str) -> str:
    if not secret.startswith("whsec_"):
        raise InvalidWebhookSecret("a signing secret starts with whsec_", field="secret")
    try:
        raw = base64.b64decode(secret[6:], validate=True)
    except ValueError as exc:
        raise InvalidWebhookSecret("a whsec_ secret is base64 after the prefix", field="secret") from exc
    if not 24 <= len(raw) <= 64:
        raise InvalidWebhookSecret("a whsec_ secret holds 24 to 64 bytes", field="secret")
    return secret


@dataclass
class SubscriptionSpec:
    """A new subscription, or (all fields optional) the changes of a PATCH."""

    url: str | None = None
    event_types: list[str] | None = None
    dialect: str | None = None
    auth: dict[str, Any] | None = None  # {"kind", "username", "password", "token"}
    secret: str | None = None
    seller_id: str | None = None
    enabled: bool | None = None
    channels: list[str] | None = None  # only these channels' orders; None: every channel
    fields_set: set[str] = field(default_factory=set)


def _auth_columns(auth: dict[str, Any] | None, secret: str | None) -> tuple[dict[str, Any], str | None]:
    """Columns for an auth choice, and a generated secret to show once (or None)."""
    kind = (auth or {}).get("kind") or "standard"
    if kind == "standard":
        generated = None if secret else new_secret()
        return {"auth_kind": kind, "secret": check_secret(secret) if secret else generated,
                "basic_username": None}, generated
    if secret:
        raise InvalidWebhookSecret("a whsec_ secret goes with auth kind standard", field="secret")
    if kind == "basic":
        if not auth.get("username") or not auth.get("password"):  # type: ignore[union-attr]
            raise WebhookAuthIncomplete("auth basic needs username and password", field="auth")
        return {"auth_kind": kind, "secret": auth["password"], "basic_username": auth["username"]}, None  # type: ignore[index]
    if kind == "bearer":
        if not auth.get("token"):  # type: ignore[union-attr]
            raise WebhookAuthIncomplete("auth bearer needs a token", field="auth")
        return {"auth_kind": kind, "secret": auth["token"], "basic_username": None}, None  # type: ignore[index]
    return {"auth_kind": kind, "secret": None, "basic_username": None}, None  # secret_url: the URL is the secret


def create_subscription(uow: UnitOfWork, principal: Principal, spec: SubscriptionSpec, *,
                        allow_private: bool, resolver: Resolver = resolve) -> tuple[dict[str, Any], str | None]:
    """An operator's covers the seller it names (every seller's without one); a seller's its own orders."""
    if principal.scope is not None:
        _own_seller(principal, spec)
        spec = replace(spec, seller_id=principal.scope)
    return _create(uow, spec, allow_private=allow_private, resolver=resolver)


def _own_seller(principal: Principal, spec: SubscriptionSpec) -> None:
    """A seller's subscription is for its own orders: naming another seller (or none: every seller's) is refused."""
    if "seller_id" in spec.fields_set and spec.seller_id != principal.scope:
        raise SellerIdMismatch("a seller may only subscribe to its own orders")


def visible(principal: Principal, sub: dict[str, Any]) -> bool:
    """Is `sub` the caller's to see and manage: an operator's, any; a seller's, those for its orders."""
    return principal.scope is None or sub["seller_id"] == principal.scope


def create_own_subscription(uow: UnitOfWork, principal: Principal, spec: SubscriptionSpec, *,
                            allow_private: bool, resolver: Resolver = resolve) -> tuple[dict[str, Any], str | None]:
    """A subscription a caller registers for itself through a face's own webhook API: a seller's
    covers its own orders only, an operator's every seller's; through a face narrowed to a channel (a
    marketplace's), only that channel's orders."""
    channels = [principal.channel] if principal.channel is not None else spec.channels
    return _create(uow, replace(spec, seller_id=principal.scope, channels=channels), allow_private=allow_private,
                   resolver=resolver)


def _create(uow: UnitOfWork, spec: SubscriptionSpec, *, allow_private: bool,
            resolver: Resolver) -> tuple[dict[str, Any], str | None]:
    assert spec.url is not None and spec.event_types is not None
    check_url(spec.url, allow_private=allow_private, resolver=resolver)
    types = validate_event_types(spec.event_types)
    columns, generated = _auth_columns(spec.auth, spec.secret)
    with uow:
        sub = {"id": uuid.uuid4().hex, "url": spec.url, "event_types": types, "dialect": spec.dialect or "native",
               **columns, "previous_secret": None, "previous_secret_until": None, "seller_id": spec.seller_id,
               "enabled": True if spec.enabled is None else spec.enabled, "disabled_reason": None,
               "created_at": uow.now(), "channels": spec.channels}
        uow.webhooks.add_subscription(sub)
        uow.commit()
    return sub, generated


def update_subscription(uow: UnitOfWork, principal: Principal, sub_id: str, spec: SubscriptionSpec, *,
                        allow_private: bool, resolver: Resolver = resolve) -> tuple[dict[str, Any], str | None]:
    if principal.scope is not None:
        _own_seller(principal, spec)
    return _update(uow, sub_id, spec, allow_private=allow_private, resolver=resolver,
                   mine=lambda sub: visible(principal, sub))


def owns(principal: Principal, sub: dict[str, Any], dialect: str) -> bool:
    """Is `sub` one the caller registered through the face of `dialect` (an operator: anyone's)?"""
    return sub["dialect"] == dialect and (principal.scope is None or sub["seller_id"] == principal.scope)


def update_own_subscription(uow: UnitOfWork, principal: Principal, sub_id: str, spec: SubscriptionSpec, *,
                            dialect: str, allow_private: bool,
                            resolver: Resolver = resolve) -> tuple[dict[str, Any], str | None]:
    """Change a subscription made with `create_own_subscription`; anyone else's does not exist."""
    return _update(uow, sub_id, spec, allow_private=allow_private, resolver=resolver,
                   mine=lambda sub: owns(principal, sub, dialect))


def _update(uow: UnitOfWork, sub_id: str, spec: SubscriptionSpec, *, allow_private: bool, resolver: Resolver,
            mine: Callable[[dict[str, Any]], bool]) -> tuple[dict[str, Any], str | None]:
    changes: dict[str, Any] = {}
    if "url" in spec.fields_set:
        if spec.url is None:
            raise InvalidWebhookUrl("url cannot be null", field="url")
        check_url(spec.url, allow_private=allow_private, resolver=resolver)
        changes["url"] = spec.url
    if "event_types" in spec.fields_set:
        changes["event_types"] = validate_event_types(spec.event_types or [])
    for name in ("dialect", "enabled"):
        if name in spec.fields_set:
            if getattr(spec, name) is None:
                raise WebhookFieldNotNullable(f"{name} cannot be null", field=name)
            changes[name] = getattr(spec, name)
    if "seller_id" in spec.fields_set:
        changes["seller_id"] = spec.seller_id
    if "channels" in spec.fields_set:
        changes["channels"] = spec.channels
    with uow:
        sub = uow.webhooks.subscription(sub_id, for_update=True)
        if sub is None or not mine(sub):
            raise WebhookSubscriptionNotFound(f"webhook subscription {sub_id} not found", id=sub_id)
        generated = None
        if "auth" in spec.fields_set:  # a new way to authenticate replaces the old outright
            columns, generated = _auth_columns(spec.auth, spec.secret)
            changes.update(columns, previous_secret=None, previous_secret_until=None)
        elif "secret" in spec.fields_set:
            if sub["auth_kind"] != "standard" or not spec.secret:
                raise InvalidWebhookSecret("only a standard subscription rotates a whsec_ secret", field="secret")
            # Rotation: the old secret keeps signing beside the new one for ROTATION_WINDOW.
            changes.update(secret=check_secret(spec.secret), previous_secret=sub["secret"],
                           previous_secret_until=uow.now() + ROTATION_WINDOW)
        if changes.get("enabled"):
            changes["disabled_reason"] = None
        if changes:
            uow.webhooks.update_subscription(sub_id, changes)
        sub = uow.webhooks.subscription(sub_id)
        uow.commit()
    return sub, generated  # type: ignore[return-value]


def get_subscription(uow: UnitOfWork, principal: Principal, sub_id: str) -> dict[str, Any]:
    with uow:
        sub = uow.webhooks.subscription(sub_id)
    if sub is None or not visible(principal, sub):
        raise WebhookSubscriptionNotFound(f"webhook subscription {sub_id} not found", id=sub_id)
    return sub


def list_subscriptions(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        return [sub for sub in uow.webhooks.subscriptions(principal.scope) if visible(principal, sub)]


def own_subscriptions(uow: UnitOfWork, principal: Principal, dialect: str) -> list[dict[str, Any]]:
    with uow:
        return [sub for sub in uow.webhooks.subscriptions() if owns(principal, sub, dialect)]


def own_deliveries(uow: UnitOfWork, subscription_ids: list[str], limit: int) -> list[dict[str, Any]]:
    """The latest `limit` deliveries of these subscriptions (from `own_subscriptions`), newest first."""
    with uow:
        found = [d for sub_id in subscription_ids
                 for d in uow.webhooks.deliveries(subscription_id=sub_id, status=None, limit=limit)]
    return sorted(found, key=lambda d: d["id"], reverse=True)[:limit]


def delete_subscription(uow: UnitOfWork, principal: Principal, sub_id: str) -> None:
    with uow:
        sub = uow.webhooks.subscription(sub_id, for_update=True)
        if sub is None or not visible(principal, sub):
            raise WebhookSubscriptionNotFound(f"webhook subscription {sub_id} not found", id=sub_id)
        uow.webhooks.delete_subscription(sub_id)
        uow.commit()


def list_deliveries(uow: UnitOfWork, principal: Principal, *, subscription_id: str | None,
                    status: DeliveryStatus | None, limit: int, before_id: int | None,
                    order_id: str | None = None) -> list[dict[str, Any]]:
    """Newest first; a seller's are those of its own subscriptions (naming another's is not found)."""
    with uow:
        if subscription_id is not None and principal.scope is not None:
            _visible_subscription(uow, principal, subscription_id)
        return uow.webhooks.deliveries(subscription_id=subscription_id, status=status, limit=limit,
                                       before_id=before_id, order_id=order_id, owner=principal.scope)


def _visible_subscription(uow: UnitOfWork, principal: Principal, sub_id: str,
                          for_update: bool = False) -> dict[str, Any]:
    sub = uow.webhooks.subscription(sub_id, for_update=for_update)
    if sub is None or not visible(principal, sub):
        raise WebhookSubscriptionNotFound(f"webhook subscription {sub_id} not found", id=sub_id)
    return sub


def _delivery(uow: UnitOfWork, principal: Principal, delivery_id: int) -> dict[str, Any]:
    found = uow.webhooks.deliveries(subscription_id=None, status=None, limit=1, ids=[delivery_id],
                                    owner=principal.scope)
    if not found:
        raise WebhookDeliveryNotFound(f"webhook delivery {delivery_id} not found", id=delivery_id)
    return found[0]


def get_delivery(uow: UnitOfWork, principal: Principal, delivery_id: int) -> dict[str, Any]:
    with uow:
        return _delivery(uow, principal, delivery_id)


def redeliver(uow: UnitOfWork, principal: Principal, delivery_id: int) -> dict[str, Any]:
    with uow:
        _delivery(uow, principal, delivery_id)
        if not uow.webhooks.redeliver(delivery_id, uow.now()):
            raise DeliveryInFlight("a worker is sending this delivery right now; retry shortly", id=delivery_id)
        found = _delivery(uow, principal, delivery_id)
        uow.commit()
    return found


def redeliver_dead(uow: UnitOfWork, principal: Principal, sub_id: str) -> int:
    """Queue every dead delivery of a subscription again (each with a fresh retry budget)."""
    with uow:
        _visible_subscription(uow, principal, sub_id, for_update=True)
        queued = uow.webhooks.redeliver_dead(sub_id, uow.now())
        uow.commit()
    return queued


def replay(uow: UnitOfWork, principal: Principal, sub_id: str, since: datetime) -> int:
    with uow:
        sub = _visible_subscription(uow, principal, sub_id, for_update=True)
        queued = uow.webhooks.replay(sub, since, uow.now())
        uow.commit()
    return queued


def feed(uow: UnitOfWork, principal: Principal, after: tuple[int, int], limit: int,
         channel: str | None = None) -> list[dict[str, Any]]:
    """The change feed; a seller sees its own events only; `channel`: only that channel's orders'."""
    with uow:
        return uow.webhooks.feed(after, limit, principal.scope, channel)
