"""`/v1/webhook-subscriptions`, `/v1/webhook-deliveries` and `/v1/events` (the change feed): a seller
manages its own subscriptions and their deliveries, an operator every one. Design: docs/webhooks.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kalem.api import examples
from kalem.api.context import Caller, Ctx
from kalem.api.schemas import ChannelName
from kalem.api.schemas_out import ERRORS
from kalem.api.schemas_out_webhooks import (
    DeliveryOut,
    DeliveryPage,
    FeedPage,
    ReplayOut,
    SubscriptionList,
    SubscriptionOut,
)
from kalem.app import webhooks as app
from kalem.domain.errors import CursorInvalid
from kalem.domain.webhooks import DeliveryStatus

router = APIRouter(tags=["webhooks"], responses=ERRORS)
feed = APIRouter(tags=["events"], responses=ERRORS)

Dialect = Literal["native", "hebiar", "hepsiglobal", "zonos"]


URL = "where deliveries are POSTed (or sent with the method the dialect's platform documents)"
EVENT_TYPES = "event types (GET /v1/webhook-event-types) or patterns such as `order.*` and `*`"
DIALECT = "the body's shape: kalem's own, or a platform's (its webhook bodies, method and auth)"
CHANNELS = ("only the orders of these channels; absent: every channel — in the hepsiglobal and zonos dialects, "
            "that platform's own channel")


class AuthIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["standard", "basic", "bearer", "secret_url"] = Field(
        description="standard: Standard Webhooks signature; basic, bearer: that header; secret_url: the URL is it")
    username: str | None = Field(None, min_length=1, max_length=256, description="basic")
    password: str | None = Field(None, min_length=1, max_length=512, description="basic")
    token: str | None = Field(None, min_length=1, max_length=512, description="bearer")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.SUBSCRIPTION_IN]})
    url: str = Field(min_length=1, max_length=2000, description=URL)
    event_types: list[str] = Field(min_length=1, max_length=100, description=EVENT_TYPES)
    dialect: Dialect = Field("native", description=DIALECT)
    secret: str | None = Field(None, max_length=512, description="whsec_…; generated (and shown once) if absent")
    auth: AuthIn | None = Field(None, description="default: standard (Standard Webhooks signature)")
    seller_id: str | None = Field(None, min_length=1, max_length=64,
                                  description="only this seller's events (a seller's subscription: its own, always)")
    enabled: bool = Field(True, description="false: events are not queued for it")
    channels: list[ChannelName] | None = Field(None, min_length=1, max_length=100, description=CHANNELS)


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, min_length=1, max_length=2000, description=URL)
    event_types: list[str] | None = Field(None, min_length=1, max_length=100, description=EVENT_TYPES)
    dialect: Dialect | None = Field(None, description=DIALECT)
    secret: str | None = Field(None, max_length=512, description="a new whsec_ secret: rotation")
    auth: AuthIn | None = Field(None, description="a new auth kind or credential")
    seller_id: str | None = Field(None, min_length=1, max_length=64, description="only this seller's events")
    enabled: bool | None = Field(None, description="false: pause; true: resume (clears disabled_reason)")
    channels: list[ChannelName] | None = Field(None, min_length=1, max_length=100, description=CHANNELS)


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: AwareDatetime = Field(description="queue every event that occurred since this time")


def _spec(body: SubscriptionIn | SubscriptionPatch) -> app.SubscriptionSpec:
    fields = body.model_dump(exclude_unset=True)
    return app.SubscriptionSpec(url=body.url, event_types=body.event_types, dialect=body.dialect,
                                auth=body.auth.model_dump() if body.auth else None, secret=body.secret,
                                seller_id=body.seller_id, enabled=body.enabled, channels=body.channels,
                                fields_set=set(fields))


def subscription_view(sub: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
    url = sub["url"]
    if sub["auth_kind"] == "secret_url":  # the URL is the credential: show only where it goes
        parts = urlsplit(url)
        url = f"{parts.scheme}://{parts.netloc}/…"
    view = {"id": sub["id"], "url": url, "event_types": sub["event_types"], "dialect": sub["dialect"],
            "auth": {"kind": sub["auth_kind"],
                     **({"username": sub["basic_username"]} if sub["basic_username"] else {})},
            "seller_id": sub["seller_id"], "channels": sub["channels"], "enabled": sub["enabled"],
            "disabled_reason": sub["disabled_reason"],
            "previous_secret_valid_until": sub["previous_secret_until"], "created_at": sub["created_at"]}
    if secret:
        view["secret"] = secret
    return view


def delivery_view(d: dict[str, Any]) -> dict[str, Any]:
    return {"id": d["id"], "subscription_id": d["subscription_id"], "event_id": d["event_id"],
            "event_position": d["event_position"], "order_id": d["order_id"], "sequence": d["sequence"],
            "status": d["status"], "attempt_count": d["attempts"], "next_attempt_at": d["next_attempt_at"],
            "lease_until": d["lease_until"], "last_status": d["last_status"], "last_error": d["last_error"],
            "created_at": d["created_at"], "delivered_at": d["delivered_at"], "attempts": d["attempt_log"]}


@router.post("/v1/webhook-subscriptions", status_code=201, summary="Subscribe a URL to events",
             response_model=SubscriptionOut, response_model_exclude_unset=True)
def create_subscription(body: SubscriptionIn, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    spec = _spec(body)
    if spec.channels is None and body.dialect in ctx.own_channel_dialects:
        spec.channels = [body.dialect]  # a marketplace's dialect: its own channel's orders, unless named
    sub, generated = app.create_subscription(ctx.uow(), caller, spec,
                                             allow_private=ctx.settings.webhook_allow_private_urls)
    return subscription_view(sub, generated)


@router.get("/v1/webhook-subscriptions", summary="Every subscription (a seller: its own)",
            response_model=SubscriptionList,
            response_model_exclude_unset=True)
def list_subscriptions(ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return {"data": [subscription_view(s) for s in app.list_subscriptions(ctx.uow(write=False), caller)]}


@router.get("/v1/webhook-subscriptions/{sub_id}", summary="One subscription", response_model=SubscriptionOut,
            response_model_exclude_unset=True)
def get_subscription(sub_id: str, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return subscription_view(app.get_subscription(ctx.uow(write=False), caller, sub_id))


@router.patch("/v1/webhook-subscriptions/{sub_id}",
              summary="Change a subscription; a new `secret` rotates (the old one stays valid 24 h)",
              response_model=SubscriptionOut, response_model_exclude_unset=True)
def update_subscription(sub_id: str, body: SubscriptionPatch, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    sub, generated = app.update_subscription(ctx.uow(), caller, sub_id, _spec(body),
                                             allow_private=ctx.settings.webhook_allow_private_urls)
    return subscription_view(sub, generated)


@router.delete("/v1/webhook-subscriptions/{sub_id}", status_code=204,
               summary="Delete a subscription with its deliveries")
def delete_subscription(sub_id: str, ctx: Ctx, caller: Caller) -> Response:
    app.delete_subscription(ctx.uow(), caller, sub_id)
    return Response(status_code=204)


@router.post("/v1/webhook-subscriptions/{sub_id}/redeliver-dead", status_code=202,
             summary="Send every dead delivery of a subscription again (a fresh retry budget each)",
             response_model=ReplayOut)
def redeliver_dead(sub_id: str, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return {"queued": app.redeliver_dead(ctx.uow(), caller, sub_id)}


@router.post("/v1/webhook-subscriptions/{sub_id}/replay", status_code=202,
             summary="Queue again every event since a time (also ones from before the subscription)",
             response_model=ReplayOut)
def replay(sub_id: str, body: ReplayIn, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return {"queued": app.replay(ctx.uow(), caller, sub_id, body.since)}


@router.get("/v1/webhook-deliveries", summary="Deliveries, newest first, with their attempts",
            response_model=DeliveryPage)
def list_deliveries(ctx: Ctx, caller: Caller, subscription_id: Annotated[str | None, Query(max_length=40)] = None,
                    status: DeliveryStatus | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                    cursor: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
    found = app.list_deliveries(ctx.uow(write=False), caller, subscription_id=subscription_id, status=status,
                                limit=limit + 1, before_id=cursor)
    page = found[:limit]
    return {"data": [delivery_view(d) for d in page],
            "next_cursor": page[-1]["id"] if len(found) > limit else None}


@router.get("/v1/webhook-deliveries/{delivery_id}", summary="One delivery with its attempts",
            response_model=DeliveryOut)
def get_delivery(delivery_id: int, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return delivery_view(app.get_delivery(ctx.uow(write=False), caller, delivery_id))


@router.post("/v1/webhook-deliveries/{delivery_id}/redeliver", status_code=202,
             summary="Send a delivery again (a fresh retry budget)", response_model=DeliveryOut)
def redeliver(delivery_id: int, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return delivery_view(app.redeliver(ctx.uow(), caller, delivery_id))


def _cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (-1, 0)
    try:
        xid, position = (int(p) for p in cursor.split(".", 1))
    except ValueError as exc:
        raise CursorInvalid("the cursor is not valid", field="after") from exc
    return xid, position


@feed.get("/v1/events", summary="The change feed: every event in commit order, after a cursor",
          response_model=FeedPage, name="list")
def events(ctx: Ctx, caller: Caller, after: Annotated[str | None, Query(max_length=60)] = None,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100,
           channel: Annotated[str | None, Query(max_length=40, description="only this channel's orders")] = None,
           ) -> dict[str, Any]:
    """Reconciliation: page with `after=<next_cursor>` until `data` is empty, then poll. A cursor never
    skips an event: events appear only once no older transaction can still commit one."""
    rows = app.feed(ctx.uow(write=False), caller, _cursor(after), limit, channel)
    data = [{"id": r["id"], "type": r["type"], "order_id": r["order_id"], "order_number": r["order_number"],
             "seller_id": r["seller_id"], "channel": r["channel"], "sequence": r["sequence"],
             "occurred_at": r["occurred_at"],
             "actor": r["actor"], "data": r["data"], "cursor": f"{r['xid']}.{r['position']}"} for r in rows]
    return {"data": data, "next_cursor": data[-1]["cursor"] if data else after}
