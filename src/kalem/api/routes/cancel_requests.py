"""`/v1/cancel-requests`: ask for units to be cancelled; the seller approves or rejects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from kalem.api import views
from kalem.api.context import Caller, Ctx
from kalem.api.routes.orders import IdempotencyKey
from kalem.api.schemas import ApprovalIn, CancelRequestIn, RejectionIn
from kalem.api.schemas_out import ERRORS, CancelRequestOut, CancelRequestPage, DecidedCancelRequestOut
from kalem.app import cancellation as app
from kalem.domain.errors import DuplicateLine
from kalem.domain.orders import CancelItem, RequestStatus

router = APIRouter(prefix="/v1/cancel-requests", tags=["cancel requests"], responses=ERRORS)


@router.post("", status_code=201, summary="Ask the seller to cancel quantities of lines",
             response_model=CancelRequestOut)
def create(body: CancelRequestIn, ctx: Ctx, caller: Caller, idempotency_key: IdempotencyKey = None) -> Response:
    cmd = app.RequestCancel(body.order_number,
                            tuple(CancelItem(i.line_id, i.quantity, i.reason_id, i.note, tuple(i.units))
                                  for i in body.lines),
                            caller, body.seller_id)
    return ctx.idempotency.run(
        idempotency_key, caller, ["POST /v1/cancel-requests", body.model_dump(mode="json")],
        lambda uow: app.request_cancel(uow, cmd), lambda request: (201, views.cancel_request_view(request)))


@router.get("", summary="The cancel-request queue, oldest first", response_model=CancelRequestPage,
            name="list")
def list_requests(ctx: Ctx, caller: Caller, status: RequestStatus | None = None,
                  order_number: Annotated[str | None, Query(max_length=64)] = None,
                  seller_id: Annotated[str | None, Query(max_length=64)] = None,
                  limit: Annotated[int, Query(ge=1, le=100)] = 50,
                  cursor: Annotated[str | None, Query(max_length=200)] = None) -> dict:
    found = app.list_cancel_requests(ctx.listing_uow(), caller, status=status.value if status else None,
                                     limit=limit + 1, after=views.decode_cursor(cursor), seller_id=seller_id,
                                     order_number=order_number)
    page = found[:limit]
    next_cursor = views.encode_cursor(page[-1].created_at, page[-1].id) if len(found) > limit else None
    return {"data": [views.cancel_request_view(r) for r in page], "next_cursor": next_cursor}


@router.get("/{request_id}", summary="One cancel request", response_model=CancelRequestOut)
def get(request_id: str, ctx: Ctx, caller: Caller) -> dict:
    return views.cancel_request_view(app.get_cancel_request(ctx.uow(write=False), request_id, caller))


@router.post("/{request_id}/approve", summary="Approve, in full or per line in part",
             response_model=DecidedCancelRequestOut)
def approve(request_id: str, ctx: Ctx, caller: Caller, body: ApprovalIn | None = None,
            idempotency_key: IdempotencyKey = None) -> Response:
    body = body or ApprovalIn()
    quantities: dict[str, int] = {}
    for line in body.lines or ():
        if line.line_id in quantities:
            raise DuplicateLine(f"line {line.line_id} appears twice", line_id=line.line_id)
        quantities[line.line_id] = line.quantity
    cmd = app.DecideCancelRequest(request_id, caller, "approve", quantities=quantities or None, note=body.note)
    return _decide(ctx, caller, idempotency_key, cmd, body.model_dump(mode="json"))


@router.post("/{request_id}/reject", summary="Reject, with a denial reason", response_model=DecidedCancelRequestOut)
def reject(request_id: str, body: RejectionIn, ctx: Ctx, caller: Caller,
           idempotency_key: IdempotencyKey = None) -> Response:
    cmd = app.DecideCancelRequest(request_id, caller, "reject", reason_id=body.reason_id, note=body.note)
    return _decide(ctx, caller, idempotency_key, cmd, body.model_dump(mode="json"))


@router.post("/{request_id}/withdraw", summary="Withdraw a pending request", response_model=DecidedCancelRequestOut)
def withdraw(request_id: str, ctx: Ctx, caller: Caller, idempotency_key: IdempotencyKey = None) -> Response:
    cmd = app.DecideCancelRequest(request_id, caller, "withdraw")
    return _decide(ctx, caller, idempotency_key, cmd, {})


def _decide(ctx: Ctx, caller: Caller, key: str | None, cmd: app.DecideCancelRequest, body: dict) -> Response:
    return ctx.idempotency.run(
        key, caller, [f"POST /v1/cancel-requests/{cmd.request_id}/{cmd.decision}", body],
        lambda uow: app.decide_cancel_request(uow, cmd),
        lambda decided: (200, {**views.cancel_request_view(decided[0]), "order": views.order_view(decided[1])}))
