"""Native returns, refund previews, refunds and their settlement, and per-seller cancellation strategies.

    POST /v1/orders/{n}/refund-preview            what a refund would pay (changes nothing)
    POST /v1/orders/{n}/cancellations-with-refund cancel open units and refund them, atomically
    POST /v1/orders/{n}/returns                   ask to return delivered units (seller decides)
    POST /v1/returns/{id}/approve | /reject        decide; approved units become refundable
    POST /v1/orders/{n}/refunds                   refund cancelled or returned units
    GET  /v1/orders/{n}/refunds, GET /v1/refunds/{id}, POST /v1/refunds/{id}/settle | /retry
    GET | PUT /v1/sellers/{id}/cancellation-strategy

An IBAN is accepted in a body and shown masked only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from kalem.api import examples, views
from kalem.api.context import Caller, Ctx
from kalem.api.schemas import Id, Money, Note, Strict
from kalem.api.schemas_out import ERRORS
from kalem.api.schemas_out_money import (
    DecidedReturnOut,
    RefundedOut,
    RefundList,
    RefundOut,
    RefundPreviewOut,
    ReturnOut,
    StrategySettingOut,
)
from kalem.app import refunds as app
from kalem.domain.errors import DuplicateLine
from kalem.domain.orders import ReturnItem, ReturnRequest
from kalem.domain.reasons import StatusType, shared_code
from kalem.domain.refunds import Refund, RefundCause, payout

router = APIRouter(tags=["refunds"], responses=ERRORS)
returns = APIRouter(tags=["returns"], responses=ERRORS)
strategies = APIRouter(tags=["cancellation strategy"], responses=ERRORS)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
SellerScope = Annotated[str | None,
                        Query(max_length=64, description="operators: the seller, if the number is ambiguous")]
IbanText = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Holder = Annotated[str, StringConstraints(min_length=1, max_length=200)]


INCLUDE_CARGO = "pay back the shipping fee; null: the seller's strategy decides"
FORCED_AMOUNT = "operators only: pay this instead of the computed total (recorded with the actor)"


class UnitsIn(Strict):
    line_id: Id = Field(description="a line of the order")
    quantity: StrictInt = Field(description="its units")


class ReasonedUnitsIn(UnitsIn):
    reason_id: StrictInt = Field(description="a reason of GET /v1/reasons")
    note: Note | None = Field(None, description="free text kept with the units")


class PayoutIn(Strict):
    include_cargo: StrictBool | None = Field(None, description=INCLUDE_CARGO)
    forced_amount: Money | None = Field(None, description=FORCED_AMOUNT)
    method: Literal["original", "fund_transfer"] | None = Field(
        None, description="original: back the way the buyer paid (the default); fund_transfer: to an IBAN")
    iban: IbanText | None = Field(None, description="fund_transfer: the account (shown masked from now on)")
    holder_name: Holder | None = Field(None, description="fund_transfer: the account holder")


class PreviewIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.PREVIEW_IN]})
    lines: Annotated[list[UnitsIn], Field(min_length=1, max_length=500, description="the units to price")]
    include_cargo: StrictBool | None = Field(None, description=INCLUDE_CARGO)
    forced_amount: Money | None = Field(None, description=FORCED_AMOUNT)


class CancelRefundIn(PayoutIn):
    lines: Annotated[list[ReasonedUnitsIn], Field(min_length=1, max_length=500,
                                                  description="open units to cancel and refund")]


class RefundIn(PayoutIn):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.REFUND_IN]})
    lines: Annotated[list[UnitsIn], Field(min_length=1, max_length=500,
                                          description="cancelled or returned units to refund")]
    cause: Literal["cancellation", "return"] | None = Field(None, description="null: returned units if they "
                                                                              "cover the request, else cancelled")
    reference: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="your own reference (a refund invoice number); unique per order")


class ReturnIn(Strict):
    lines: Annotated[list[ReasonedUnitsIn], Field(min_length=1, max_length=500,
                                                  description="delivered units to return, with a return reason")]


class ReturnRejectIn(Strict):
    reason_id: StrictInt = Field(description="a return-denied reason of GET /v1/reasons")
    note: Note | None = Field(None, description="free text kept with the decision")


class SettleIn(Strict):
    status: Literal["succeeded", "failed"] = Field(description="what the payment provider reported")


class RetryIn(Strict):
    forced_amount: Money | None = Field(None, description=FORCED_AMOUNT)


class StrategyIn(Strict):
    cargo_rule: Literal["never", "per_unit", "last_unit"] | None = Field(
        None, description="when the shipping fee is paid back: never, per unit, or with the order's last unit")
    discounts_refundable: StrictBool | None = Field(None, description="give back the discount as credit too")
    allow_partial: StrictBool | None = Field(None, description="allow refunding part of a line")


def counts_of(lines: Sequence[UnitsIn]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        if line.line_id in counts:
            raise DuplicateLine(f"line {line.line_id} appears twice; send it once with the total", line_id=line.line_id)
        counts[line.line_id] = line.quantity
    return counts


# --- views --------------------------------------------------------------------------------------
def refund_view(refund: Refund) -> dict[str, Any]:
    p = refund.payout
    return {
        "id": refund.id, "order_number": refund.order_number, "seller_id": refund.seller_id,
        "cause": refund.cause.value, "status": refund.status.value,
        "amount": format(refund.amount, "f"), "currency": refund.currency,
        "lines": [{"line_id": lid, "quantity": n} for lid, n in refund.lines],
        "units": [{"line_id": lid, "first": first, "last": last} for lid, first, last in refund.units],
        "method": p.method.value, "iban_masked": p.iban_masked, "holder_name": p.holder_name,
        "forced_amount": None if refund.forced_amount is None else format(refund.forced_amount, "f"),
        "forced_by": refund.forced_by, "reference": refund.reference, "return_id": refund.return_id,
        "created_by": refund.created_by, "created_at": views._time(refund.created_at),
        "settled_by": refund.settled_by, "settled_at": views._time(refund.settled_at),
        "breakdown": refund.breakdown, "on_decision": refund.on_decision,
    }


def return_view(request: ReturnRequest) -> dict[str, Any]:
    return {
        "id": request.id, "order_number": request.order_number, "seller_id": request.seller_id,
        "status": request.status.value,
        "items": [{"line_id": i.line_id, "quantity": i.quantity, "reason_id": i.reason_id,
                   "reason_code": shared_code(i.reason_id, StatusType.RETURNED), "note": i.note}
                  for i in request.items],
        "requested_by": request.requested_by, "created_at": views._time(request.created_at),
        "decided_by": request.decided_by, "decided_at": views._time(request.decided_at),
        "decision_reason_id": request.decision_reason_id,
        "decision_reason_code": shared_code(request.decision_reason_id, StatusType.RETURN_REQUEST_DENIED),
        "decision_note": request.decision_note,
    }


def _refunded(done: app.Refunded) -> tuple[int, dict[str, Any]]:
    return 201, {"refund": refund_view(done.refund), "order": views.order_view(done.order)}


def _fingerprint(path: str, body: Any) -> list[Any]:
    return [path, body.model_dump(mode="json")]


# --- refunds ------------------------------------------------------------------------------------
@router.post("/v1/orders/{order_number}/refund-preview", summary="What a refund of these units would pay; "
             "changes nothing", response_model=RefundPreviewOut, name="preview")
def refund_preview(order_number: str, body: PreviewIn, ctx: Ctx, caller: Caller, seller_id: SellerScope = None) -> dict:
    order, breakdown = app.preview_refund(ctx.uow(write=False), caller, order_number, counts_of(body.lines),
                                          include_cargo=body.include_cargo, forced_amount=body.forced_amount,
                                          seller_id=seller_id)
    return {"order_number": order.order_number, "version": order.version, "breakdown": breakdown.to_dict()}


def _command(order_number: str, body: PayoutIn, caller: Any, counts: dict[str, int], **more: Any) -> app.RefundUnits:
    return app.RefundUnits(order_number, caller, counts, payout(body.method, body.iban, body.holder_name),
                           include_cargo=body.include_cargo, forced_amount=body.forced_amount, **more)


@router.post("/v1/orders/{order_number}/cancellations-with-refund", status_code=201,
             summary="Cancel open units and refund them in one step", response_model=RefundedOut)
def cancel_with_refund(order_number: str, body: CancelRefundIn, ctx: Ctx, caller: Caller,
                       idempotency_key: IdempotencyKey = None, seller_id: SellerScope = None) -> Response:
    cmd = _command(order_number, body, caller, counts_of(body.lines), mode=app.Mode.CANCEL, seller_id=seller_id,
                   reasons={ln.line_id: ln.reason_id for ln in body.lines},
                   notes={ln.line_id: ln.note for ln in body.lines})
    return ctx.idempotency.run(idempotency_key, caller,
                               _fingerprint(f"POST /v1/orders/{order_number}/cancellations-with-refund", body),
                               lambda uow: app.refund_units(uow, cmd), _refunded, optimistic=True)


@router.post("/v1/orders/{order_number}/refunds", status_code=201, summary="Refund cancelled or returned units",
             response_model=RefundedOut, name="create")
def create_refund(order_number: str, body: RefundIn, ctx: Ctx, caller: Caller,
                  idempotency_key: IdempotencyKey = None, seller_id: SellerScope = None) -> Response:
    cmd = _command(order_number, body, caller, counts_of(body.lines), seller_id=seller_id,
                   cause=RefundCause(body.cause) if body.cause else None, reference=body.reference)
    return ctx.idempotency.run(idempotency_key, caller, _fingerprint(f"POST /v1/orders/{order_number}/refunds", body),
                               lambda uow: app.refund_units(uow, cmd), _refunded)


@router.get("/v1/orders/{order_number}/refunds", summary="The order's refunds, oldest first", response_model=RefundList,
            name="list")
def list_refunds(order_number: str, ctx: Ctx, caller: Caller, seller_id: SellerScope = None) -> dict:
    _, found = app.order_refunds(ctx.uow(write=False), order_number, caller, seller_id)
    return {"data": [refund_view(r) for r in found]}


@router.get("/v1/refunds/{refund_id}", summary="One refund, with its explained breakdown", response_model=RefundOut,
            name="get")
def get_refund(refund_id: str, ctx: Ctx, caller: Caller) -> dict:
    return refund_view(app.get_refund(ctx.uow(write=False), refund_id, caller))


@router.post("/v1/refunds/{refund_id}/settle", summary="Report a refund's outcome (operators): emits refund.settled",
             response_model=RefundOut)
def settle(refund_id: str, body: SettleIn, ctx: Ctx, caller: Caller,
           idempotency_key: IdempotencyKey = None) -> Response:
    return ctx.idempotency.run(idempotency_key, caller, _fingerprint(f"POST /v1/refunds/{refund_id}/settle", body),
                               lambda uow: app.settle_refund(uow, refund_id, body.status, caller),
                               lambda refund: (200, refund_view(refund)))


@router.post("/v1/refunds/{refund_id}/retry", status_code=201,
             summary="Refund a failed refund's units again (operators): a new pending refund, emits refund.created",
             response_model=RefundedOut)
def retry(refund_id: str, ctx: Ctx, caller: Caller, body: RetryIn | None = None,
          idempotency_key: IdempotencyKey = None) -> Response:
    body = body or RetryIn(forced_amount=None)
    return ctx.idempotency.run(idempotency_key, caller, _fingerprint(f"POST /v1/refunds/{refund_id}/retry", body),
                               lambda uow: app.retry_refund(uow, refund_id, caller, body.forced_amount), _refunded)


# --- returns ------------------------------------------------------------------------------------
@returns.post("/v1/orders/{order_number}/returns", status_code=201, summary="Ask to return delivered units",
             response_model=ReturnOut, name="create")
def request_return(order_number: str, body: ReturnIn, ctx: Ctx, caller: Caller,
                   idempotency_key: IdempotencyKey = None, seller_id: SellerScope = None) -> Response:
    counts_of(body.lines)  # refuses duplicates
    items = [ReturnItem(ln.line_id, ln.quantity, ln.reason_id, ln.note) for ln in body.lines]
    return ctx.idempotency.run(idempotency_key, caller, _fingerprint(f"POST /v1/orders/{order_number}/returns", body),
                               lambda uow: app.request_return(uow, caller, order_number, items, seller_id),
                               lambda request: (201, return_view(request)))


@returns.get("/v1/returns/{return_id}", summary="One return request", response_model=ReturnOut,
            name="get")
def get_return(return_id: str, ctx: Ctx, caller: Caller) -> dict:
    return return_view(app.get_return(ctx.uow(write=False), return_id, caller))


def _decided(result: tuple[ReturnRequest, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"return": return_view(result[0]), "order": views.order_view(result[1])}


@returns.post("/v1/returns/{return_id}/approve", summary="Approve: the units become returned (and refundable)",
             response_model=DecidedReturnOut, name="approve")
def approve_return(return_id: str, ctx: Ctx, caller: Caller, idempotency_key: IdempotencyKey = None) -> Response:
    return ctx.idempotency.run(idempotency_key, caller, [f"POST /v1/returns/{return_id}/approve"],
                               lambda uow: app.decide_return(uow, caller, return_id, "approve"), _decided)


@returns.post("/v1/returns/{return_id}/reject", summary="Reject with a return-denied reason: units stay delivered",
             response_model=DecidedReturnOut, name="reject")
def reject_return(return_id: str, body: ReturnRejectIn, ctx: Ctx, caller: Caller,
                  idempotency_key: IdempotencyKey = None) -> Response:
    return ctx.idempotency.run(idempotency_key, caller, _fingerprint(f"POST /v1/returns/{return_id}/reject", body),
                               lambda uow: app.decide_return(uow, caller, return_id, "reject",
                                                             reason_id=body.reason_id, note=body.note), _decided)


# --- strategies ---------------------------------------------------------------------------------
def _strategy_view(seller_id: str, strategy: Any, is_default: bool) -> dict[str, Any]:
    return {"seller_id": seller_id, "strategy": strategy.to_dict(), "is_default": is_default}


@strategies.get("/v1/sellers/{seller_id}/cancellation-strategy", summary="The seller's cancellation strategy",
            response_model=StrategySettingOut, name="get")
def get_strategy(seller_id: str, ctx: Ctx, caller: Caller) -> dict:
    strategy, is_default = app.get_strategy(ctx.uow(write=False), seller_id, caller)
    return _strategy_view(seller_id, strategy, is_default)


@strategies.put("/v1/sellers/{seller_id}/cancellation-strategy",
            summary="Set the seller's cancellation strategy (operators); omitted keys take the default",
            response_model=StrategySettingOut, name="put")
def put_strategy(seller_id: Annotated[str, Path(min_length=1, max_length=64)], body: StrategyIn,
                 ctx: Ctx, caller: Caller) -> dict:
    config = {k: v for k, v in body.model_dump().items() if v is not None}
    return _strategy_view(seller_id, app.put_strategy(ctx.uow(), seller_id, config, caller), False)
