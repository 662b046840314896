"""`/v1/channel-accounts` and `/v1/channel-pushes`: a seller's accounts on the platforms kalem connects
to, their health and their outbox (docs/channels.md). Sellers manage their own; operators any seller's.
Credentials go in once and never come out: an account shows their names only."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kalem.api.context import Caller, Ctx
from kalem.api.schemas_out import ERRORS, Out
from kalem.app import channel_reconcile as reconciling
from kalem.app import channels as app
from kalem.app.channel_connectors import Connector
from kalem.store.channel_accounts import ChannelAccount, Push
from kalem.store.channel_drift import Drift

router = APIRouter(tags=["channel accounts"], responses=ERRORS)

Secret = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
AccountId = Annotated[str, Path(min_length=1, max_length=40)]
ReasonId = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]


class ChannelAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: str = Field(max_length=32, description="the platform to connect to, e.g. `n11`")
    base_url: str = Field(max_length=2000, description="the platform API's base URL")
    credentials: dict[Annotated[str, StringConstraints(max_length=64)], Secret] = Field(
        max_length=8, description="what the platform authenticates its caller with (n11: `appkey`, `appsecret`); "
                                  "sealed at rest, never shown again")
    channel: str | None = Field(None, max_length=64, description="the channel's name; default: the platform's")
    seller_id: str | None = Field(None, max_length=64, description="operators: the seller it belongs to")
    reason_map: dict[Annotated[str, StringConstraints(max_length=64)], ReasonId] | None = Field(
        None, max_length=64, description="kalem reason code (`out_of_stock`, …) → the platform's reason id, for a "
                                         "platform whose reasons are the tenant's own (Akinon); a code left out is "
                                         "sent as kalem's id")


class ChannelHealthOut(Out):
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_kind: str | None = Field(description="e.g. `credentials_rejected`, `throttled`, `unreachable`, "
                                                    "`unreadable_answer`")
    last_error: str | None
    consecutive_failures: int
    next_pull_at: datetime = Field(description="when the sync pulls next (later and later while it fails)")


class ChannelAccountOut(Out):
    id: str
    seller_id: str
    platform: str
    channel: str
    base_url: str
    credential_names: list[str]
    enabled: bool
    created_at: datetime
    health: ChannelHealthOut
    reason_map: dict[str, int] = Field(description="kalem reason code → the platform's reason id; empty: none")


class ChannelAccountList(Out):
    data: list[ChannelAccountOut]


class ChannelPushOut(Out):
    id: int
    account_id: str
    order_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "done", "dead"]
    attempts: int
    next_attempt_at: datetime
    last_error_kind: str | None
    last_error: str | None
    last_body: str | None = Field(description="a dead letter: the platform's answer, kept whole")
    created_at: datetime
    finished_at: datetime | None


class ChannelPushList(Out):
    data: list[ChannelPushOut]


def account_out(a: ChannelAccount) -> ChannelAccountOut:
    return ChannelAccountOut(
        id=a.id, seller_id=a.seller_id, platform=a.platform, channel=a.channel, base_url=a.base_url,
        credential_names=list(a.credential_names), enabled=a.enabled, created_at=a.created_at,
        health=ChannelHealthOut(last_success_at=a.last_success_at, last_error_at=a.last_error_at,
                         last_error_kind=a.last_error_kind, last_error=a.last_error,
                         consecutive_failures=a.consecutive_failures, next_pull_at=a.next_pull_at),
        reason_map=dict(a.settings.get("reason_map") or {}))


def push_out(p: Push) -> ChannelPushOut:
    return ChannelPushOut(
        id=p.id, account_id=p.account_id, order_id=p.order_id, event_id=p.event_id, event_type=p.event_type,
        status=p.status, attempts=p.attempts, next_attempt_at=p.next_attempt_at,  # type: ignore[arg-type]
        last_error_kind=p.last_error_kind, last_error=p.last_error, last_body=p.last_body,
        created_at=p.created_at, finished_at=p.finished_at)


def _connectors(request: Request) -> Mapping[str, Connector]:
    return request.app.state.channel_connectors


@router.post("/v1/channel-accounts", status_code=201, summary="Connect a channel account",
             response_model=ChannelAccountOut)
def add_account(body: ChannelAccountIn, principal: Caller, ctx: Ctx, request: Request) -> ChannelAccountOut:
    account = app.add_account(ctx.uow(), app.AddAccount(
        platform=body.platform, base_url=body.base_url, credentials=body.credentials, principal=principal,
        seller_id=body.seller_id, channel=body.channel, reason_map=body.reason_map), _connectors(request))
    return account_out(account)


@router.get("/v1/channel-accounts", summary="Channel accounts with their health", response_model=ChannelAccountList)
def list_accounts(principal: Caller, ctx: Ctx,
                  seller_id: Annotated[str | None, Query(max_length=64)] = None) -> ChannelAccountList:
    return ChannelAccountList(data=[account_out(a) for a in app.list_accounts(ctx.uow(write=False), principal,
                                                                               seller_id)])


@router.get("/v1/channel-accounts/{account_id}", summary="One channel account", response_model=ChannelAccountOut)
def get_account(account_id: AccountId, principal: Caller, ctx: Ctx) -> ChannelAccountOut:
    return account_out(app.get_account(ctx.uow(write=False), account_id, principal))


@router.delete("/v1/channel-accounts/{account_id}", status_code=204, summary="Disconnect a channel account")
def remove_account(account_id: AccountId, principal: Caller, ctx: Ctx) -> Response:
    app.remove_account(ctx.uow(), account_id, principal)
    return Response(status_code=204)


@router.get("/v1/channel-accounts/{account_id}/pushes", summary="The account's outbox, newest first",
            response_model=ChannelPushList)
def list_pushes(account_id: AccountId, principal: Caller, ctx: Ctx,
                status: Literal["pending", "done", "dead"] | None = None) -> ChannelPushList:
    return ChannelPushList(data=[push_out(p) for p in app.list_pushes(ctx.uow(write=False), principal,
                                                                      account_id=account_id, status=status)])


@router.post("/v1/channel-pushes/{push_id}/replay", status_code=204, summary="Send a dead push again")
def replay_push(push_id: Annotated[int, Path(ge=1, le=2**62)], principal: Caller, ctx: Ctx) -> Response:
    app.replay_push(ctx.uow(), push_id, principal)
    return Response(status_code=204)


class DriftCountsOut(Out):
    open: int | None = Field(None, description="units neither cancelled nor shipped")
    cancelled: int | None = None
    shipped: int | None = None
    alive: int | None = Field(None, description="units not cancelled")
    pending_cancel: int | None = Field(None, description="units reserved by a cancel request still waiting on a "
                                                         "decision")


class DriftLineOut(Out):
    line_id: str
    sku: str
    kalem: DriftCountsOut
    platform: DriftCountsOut | None = Field(description="null: the platform shows no such order or line")


class DriftOut(Out):
    id: str
    account_id: str
    order_number: str
    lines: list[DriftLineOut] = Field(description="the lines that differ, with the counts the platform shows and "
                                                  "kalem's beside them")
    found_at: datetime
    seen_at: datetime = Field(description="when a reconciliation last found it")


class DriftList(Out):
    data: list[DriftOut]


class ResolveDriftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Literal["take_platform", "push_kalem"] = Field(
        description="`take_platform`: kalem takes the platform's state (cancels what it cancelled); "
                    "`push_kalem`: kalem's state is pushed to the platform through the channel outbox")


class ResolvedOut(Out):
    id: str
    resolution: Literal["take_platform", "push_kalem"]
    left: list[DriftLineOut] = Field(description="what still differs (empty: resolved, or the push is queued)")


def drift_out(d: Drift) -> DriftOut:
    return DriftOut(id=d.id, account_id=d.account_id, order_number=d.order_number,
                    lines=[DriftLineOut.model_validate(line) for line in d.lines], found_at=d.found_at,
                    seen_at=d.seen_at)


@router.get("/v1/channel-accounts/{account_id}/drift", summary="The account's drift: orders the platform shows "
            "otherwise than kalem's ledger, as the last reconciliation found them", response_model=DriftList)
def list_drift(account_id: AccountId, principal: Caller, ctx: Ctx) -> DriftList:
    return DriftList(data=[drift_out(d) for d in reconciling.list_drift(ctx.uow(write=False), principal,
                                                                       account_id)])


@router.post("/v1/channel-drift/{drift_id}/resolve", summary="Resolve a drift: take the platform's state, or "
             "push kalem's", response_model=ResolvedOut)
def resolve_drift(drift_id: Annotated[str, Path(min_length=1, max_length=40)], body: ResolveDriftIn,
                  principal: Caller, ctx: Ctx, request: Request) -> ResolvedOut:
    left = reconciling.resolve_drift(ctx.uow, principal, drift_id, body.resolution, _connectors(request))
    return ResolvedOut(id=drift_id, resolution=body.resolution,
                       left=[DriftLineOut.model_validate(line) for line in left])


def install(connectors: Mapping[str, Connector]) -> Callable[[FastAPI], None]:
    """Adds the routes to an app, with the connectors its accounts may use."""
    def add(app_: FastAPI) -> None:
        app_.state.channel_connectors = dict(connectors)
        app_.include_router(router)
    return add
