"""Zonos webhook registration (the Zonos GraphQL API reference): `webhookCreate`, `webhookUpdate`, `webhookLogs`.

A Zonos webhook is a kalem webhook subscription of dialect `zonos`, owned by the calling seller (an
operator's covers every seller), subscribed to the kalem events its `WebhookType` stands for
(`views.WEBHOOK_EVENTS`); its logs are the subscription's deliveries.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry

from kalem.app import webhooks as app
from kalem.app.principals import Principal
from kalem.domain.errors import InvalidInput
from kalem.domain.webhooks import WebhookSubscriptionNotFound
from kalem.platforms.zonos.face import views
from kalem.platforms.zonos.face.limits import MAX_PAGE, PageSizeOutOfRange
from kalem.platforms.zonos.face.scalars import DateTime

WEBHOOK_PREFIX, LOG_PREFIX = "webhook_", "webhook_log_"
FACE = views.FACE

if TYPE_CHECKING:  # its members are made at run time, from views.WEBHOOK_TYPES
    class WebhookType(Enum): ...
else:
    WebhookType = strawberry.enum(Enum("WebhookType", {t: t for t in views.WEBHOOK_TYPES}))


@strawberry.enum
class WebhookStatus(Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class WebhookTypeNotSupported(InvalidInput):
    code = "webhook_type_not_supported"


@strawberry.type
class Webhook:
    id: strawberry.ID
    url: str
    type: WebhookType
    status: WebhookStatus
    secret: str | None = strawberry.field(description="Signs every delivery (Standard Webhooks: webhook-id, "
                                                      "webhook-timestamp, webhook-signature headers); shown once, "
                                                      "by the webhookCreate that made the webhook, null after")
    query: str = strawberry.field(description="The query each delivery's body is the answer to")
    created_at: DateTime

    @classmethod
    def of(cls, sub: dict[str, Any], secret: str | None = None) -> Webhook:
        kind = views.webhook_type(sub["event_types"])
        assert kind is not None, "only webhooks made by webhookCreate are shown"
        return cls(id=strawberry.ID(WEBHOOK_PREFIX + sub["id"]), url=sub["url"],
                   type=WebhookType[kind],
                   status=WebhookStatus.ENABLED if sub["enabled"] else WebhookStatus.DISABLED,
                   secret=secret, query=views.WEBHOOK_QUERY, created_at=sub["created_at"])


@strawberry.type
class WebhookLog:
    id: strawberry.ID
    type: WebhookType
    url: str
    created_at: DateTime
    response_status: int | None


@strawberry.input
class WebhookCreateInput:
    url: str
    type: WebhookType
    status: WebhookStatus = WebhookStatus.ENABLED


@strawberry.input
class WebhookUpdateInput:
    id: strawberry.ID
    url: str | None = None
    type: WebhookType | None = None
    status: WebhookStatus | None = None


@strawberry.input
class WebhookLogFilter:
    type: WebhookType | None = None


def _events(kind: Any) -> list[str]:
    names = views.WEBHOOK_EVENTS.get(kind.value)
    if names is None:
        raise WebhookTypeNotSupported(f"kalem sends no {kind.value} webhooks; it sends "
                                      f"{', '.join(views.WEBHOOK_EVENTS)}", field="type", value=kind.value)
    return list(names)


def _spec(url: str | None, kind: Any, status: WebhookStatus | None) -> app.SubscriptionSpec:
    spec = app.SubscriptionSpec(url=url, event_types=_events(kind) if kind is not None else None, dialect=FACE,
                                enabled=None if status is None else status is WebhookStatus.ENABLED)
    spec.fields_set = {name for name in ("url", "event_types", "enabled") if getattr(spec, name) is not None}
    return spec


def create(principal: Principal, kalem: Any, input: WebhookCreateInput) -> Webhook:
    """A new webhook — or, for a url and type the caller registered already, that one with the status
    given: a client that registers its webhooks at every start gets no duplicate deliveries."""
    spec = _spec(input.url, input.type, input.status)
    for sub, kind in _mine(principal, kalem).values():
        if (sub["url"], kind, sub["seller_id"]) == (input.url, input.type.value, principal.scope):
            if sub["enabled"] == spec.enabled:
                return Webhook.of(sub)
            return update(principal, kalem, WebhookUpdateInput(id=strawberry.ID(WEBHOOK_PREFIX + sub["id"]),
                                                               status=input.status))
    sub, secret = app.create_own_subscription(kalem.uow(), principal, spec,
                                              allow_private=kalem.settings.webhook_allow_private_urls)
    return Webhook.of(sub, secret)


def _mine(principal: Principal, kalem: Any) -> dict[str, tuple[dict[str, Any], str]]:
    """The caller's Zonos webhooks by subscription id, with their type."""
    return {sub["id"]: (sub, kind) for sub in app.own_subscriptions(kalem.uow(), principal, FACE)
            if (kind := views.webhook_type(sub["event_types"])) is not None}


def update(principal: Principal, kalem: Any, input: WebhookUpdateInput) -> Webhook:
    sub_id = str(input.id).removeprefix(WEBHOOK_PREFIX)
    if not str(input.id).startswith(WEBHOOK_PREFIX) or sub_id not in _mine(principal, kalem):
        raise WebhookSubscriptionNotFound(f"webhook {input.id} not found", id=str(input.id))
    sub, _ = app.update_own_subscription(kalem.uow(), principal, sub_id,
                                         _spec(input.url, input.type, input.status), dialect=FACE,
                                         allow_private=kalem.settings.webhook_allow_private_urls)
    return Webhook.of(sub)


def logs(principal: Principal, kalem: Any, filter: WebhookLogFilter | None, first: int) -> list[WebhookLog]:
    if not 1 <= first <= MAX_PAGE:
        raise PageSizeOutOfRange(f"first must be between 1 and {MAX_PAGE}", field="first")
    wanted = filter.type.value if filter and filter.type else None
    subs = {sub_id: mine for sub_id, mine in _mine(principal, kalem).items() if wanted in (None, mine[1])}
    return [WebhookLog(id=strawberry.ID(f"{LOG_PREFIX}{d['id']}"), type=WebhookType[subs[d["subscription_id"]][1]],
                       url=subs[d["subscription_id"]][0]["url"], created_at=d["created_at"],
                       response_status=d["last_status"])
            for d in app.own_deliveries(kalem.uow(), list(subs), first)]
