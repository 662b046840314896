"""A seller's refund policy: does a decision that cancels or returns units also refund them?

    GET    /v1/refund-policy                        the seller-wide policy and each channel's own
    PUT    /v1/refund-policy                        set the seller-wide policy
    PUT    /v1/refund-policy/channels/{channel}     set one channel's
    DELETE /v1/refund-policy/channels/{channel}     the channel follows the seller-wide policy again

A seller acts for itself; an operator names the seller (`?seller_id=`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from kalem.api.context import Caller, Ctx
from kalem.api.schemas import Strict
from kalem.api.schemas_out import ERRORS
from kalem.app import refund_policy as app
from kalem.domain.refunds import RefundPolicy

router = APIRouter(prefix="/v1/refund-policy", tags=["refund policy"], responses=ERRORS)

POLICIES: list[Any] = [p.value for p in RefundPolicy]
POLICY = ("on_decision: an approved cancel request, a direct cancel and an approved return create the refund "
          "their preview showed, pending settlement; manual: they move no money (refund with POST /v1/orders/"
          "{n}/refunds)")
SellerQuery = Annotated[str | None, Query(max_length=64, description="operators: the seller; sellers: their own")]
Channel = Annotated[str, Path(min_length=1, max_length=64, description="the channel name (orders without one: "
                                                                       "direct)")]


class PolicyIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"policy": "manual"}]})
    policy: Annotated[str, Field(max_length=64, description=POLICY, json_schema_extra={"enum": POLICIES})]


class ChannelPolicyOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str
    policy: str = Field(description="on_decision or manual", json_schema_extra={"enum": POLICIES})
    updated_at: str
    updated_by: str


class RefundPolicyOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seller_id: str
    policy: str = Field(description="the seller-wide policy: it applies to every channel without one of its own",
                        json_schema_extra={"enum": POLICIES})
    is_default: bool = Field(description="the seller set no seller-wide policy: kalem's default (on_decision)")
    channels: list[ChannelPolicyOut] = Field(description="the channels with a policy of their own")


def _view(found: app.SellerPolicies) -> dict[str, Any]:
    return {"seller_id": found.seller_id, "policy": found.default.value, "is_default": not found.default_is_set,
            "channels": [{"channel": row.channel, "policy": row.policy.value,
                          "updated_at": row.updated_at.isoformat(), "updated_by": row.updated_by}
                         for row in found.channels]}


@router.get("", summary="The seller's refund policy, seller-wide and per channel", response_model=RefundPolicyOut,
            name="get")
def get_policy(ctx: Ctx, caller: Caller, seller_id: SellerQuery = None) -> dict:
    return _view(app.get_policies(ctx.uow(write=False), caller, seller_id))


@router.put("", summary="Set the seller-wide refund policy; decisions made after it follow it",
            response_model=RefundPolicyOut, name="put")
def put_policy(body: PolicyIn, ctx: Ctx, caller: Caller, seller_id: SellerQuery = None) -> dict:
    return _view(app.put_policy(ctx.uow(), caller, body.policy, seller_id=seller_id))


@router.put("/channels/{channel}", summary="Set one channel's refund policy", response_model=RefundPolicyOut,
            name="put_channel")
def put_channel_policy(channel: Channel, body: PolicyIn, ctx: Ctx, caller: Caller,
                       seller_id: SellerQuery = None) -> dict:
    return _view(app.put_policy(ctx.uow(), caller, body.policy, channel=channel, seller_id=seller_id))


@router.delete("/channels/{channel}", summary="The channel follows the seller-wide refund policy again",
               response_model=RefundPolicyOut, name="delete_channel")
def delete_channel_policy(channel: Channel, ctx: Ctx, caller: Caller, seller_id: SellerQuery = None) -> dict:
    return _view(app.delete_policy(ctx.uow(), caller, channel, seller_id=seller_id))
