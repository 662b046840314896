"""Akinon cancellation requests (PLATFORMS.md §4.4) over kalem's cancel and return requests.

    GET  {prefix}/cancellation_requests/                ?page=&limit=  DRF page {"count","next","previous","results"}
    POST {prefix}/cancellation_requests/                {"order_item","reason","description"?,"quantity"?} → 201
    GET  {prefix}/cancellation_requests/{id}/
    POST {prefix}/cancellation_requests/{id}/approve/   {"quantity"?}  (cancel requests may be approved in part)
    POST {prefix}/cancellation_requests/{id}/reject/    {"reason", "description"?}  (a request-denied reason)

for the prefixes `/api/v1/channel/{channel_id}`, `/api/channel/{channel_id}` (the path of the
integration docs) and `/api/v1`. kalem keeps no sales channels apart, so `channel_id` selects nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import NAMESPACE_URL, uuid5

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from kalem.api.context import Ctx, context
from kalem.app.principals import Principal
from kalem.dialects.akinon import cancellation_requests as app
from kalem.domain.cancellation import CancelRequest
from kalem.domain.errors import NotFound

Authorization = Annotated[str | None, Header(include_in_schema=False)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
Pk = Annotated[int, Path(ge=1, le=2**63 - 1)]
BigInt = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, StringConstraints(max_length=1000)]
#: path prefix → the suffix of its routes' names (operation ids: `akinon.list_requests_channel`, …)
PREFIXES = {"/api/v1/channel/{channel_id}": "channel", "/api/channel/{channel_id}": "integration", "/api/v1": "v1"}
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_item: BigInt
    reason: BigInt
    description: Text | None = None
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)] | None = None
    cancellation_type: Literal["cancel", "refund"] | None = None   # must match the unit's state if sent
    iban: None = None          # a refund's account is given when the refund is made (the cancel endpoint)
    holder_name: None = None


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)] | None = None


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: BigInt | None = None
    description: Text | None = None


# --- view ---------------------------------------------------------------------------------------
#: kalem request status → Akinon's (channel-app SDK enum). A withdrawn request released its units
#: like a rejected one; `attributes.kalem_status` keeps the difference.
STATUS = {"pending": "waiting_approval", "approved": "approved", "rejected": "rejected", "withdrawn": "rejected"}


def _time(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def view(r: app.AkinonRequest) -> dict[str, Any]:
    request, item = r.request, r.request.items[0]
    if isinstance(request, CancelRequest):
        approved = item.approved_quantity
    else:
        approved = {"pending": None, "approved": item.quantity}.get(request.status.value, 0)
    return {
        "id": r.pk, "order_item": r.order_item, "reason": item.reason_id, "description": item.note,
        "cancellation_type": "refund" if r.is_refund else "cancel", "status": STATUS[request.status.value],
        "iban": None, "holder_name": None, "easy_return": None, "quantity": item.quantity,
        "fully_refund_as_loyalty_money": False, "uuid": str(uuid5(NAMESPACE_URL, f"kalem:{request.id}")),
        "attributes": {"order": r.order_pk, "order_number": request.order_number, "kalem_id": request.id,
                       "kalem_status": request.status.value, "approved_quantity": approved,
                       "decision_reason": request.decision_reason_id,
                       "decision_description": request.decision_note},
        "created_date": _time(request.created_at), "modified_date": _time(request.decided_at or request.created_at),
    }


# --- endpoints ----------------------------------------------------------------------------------
def _principal(request: Request, authorization: str | None) -> Principal:
    return context(request).auth.authorization(authorization, schemes=("token",))


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None and raw.strip().isdigit() and len(raw) < 10 else None
    except ValueError:
        return None


def list_requests(request: Request, ctx: Ctx, authorization: Authorization = None,
                  page: str | None = None, limit: str | None = None) -> dict[str, Any]:
    """DRF's PageNumberPagination: a bad or empty page past the first is 404 "Invalid page."; a bad
    `limit` falls back to the default and a large one is capped (DRF's page_size_query_param)."""
    principal = _principal(request, authorization)
    number = 1 if page is None else _int(page)
    if number is None or number < 1:
        raise NotFound("Invalid page.", page=page)
    size = _int(limit) or DEFAULT_LIMIT
    size = min(max(size, 1), MAX_LIMIT)
    count, found = app.page(ctx.uow(write=False), principal, number=number, size=size)
    if number > 1 and not found:
        raise NotFound("Invalid page.", page=page)
    previous = None
    if number == 2:   # DRF links page 1 without `page`
        previous = str(request.url.remove_query_params("page"))
    elif number > 2:
        previous = str(request.url.include_query_params(page=number - 1))
    return {"count": count,
            "next": str(request.url.include_query_params(page=number + 1)) if number * size < count else None,
            "previous": previous, "results": [view(r) for r in found]}


def create_request(body: RequestIn, request: Request, ctx: Ctx, authorization: Authorization = None,
                   idempotency_key: IdempotencyKey = None) -> Response:
    principal = _principal(request, authorization)
    cmd = app.CreateRequest(principal, body.order_item, body.reason, body.description, body.quantity,
                            body.cancellation_type)
    return ctx.idempotency.run(idempotency_key, principal,
                               ["akinon cancellation_requests create", body.model_dump(mode="json")],
                               lambda uow: app.create(uow, cmd), lambda done: (201, view(done)))


def detail(pk: Pk, request: Request, ctx: Ctx, authorization: Authorization = None) -> dict[str, Any]:
    return view(app.get(ctx.uow(write=False), pk, _principal(request, authorization)))


def approve(pk: Pk, request: Request, ctx: Ctx, body: ApproveIn | None = None, authorization: Authorization = None,
            idempotency_key: IdempotencyKey = None) -> Response:
    body = body or ApproveIn()
    return _decide(ctx, request, authorization, idempotency_key, body.model_dump(mode="json"),
                   lambda p: app.Decide(p, pk, "approve", quantity=body.quantity))


def reject(pk: Pk, request: Request, ctx: Ctx, body: RejectIn | None = None, authorization: Authorization = None,
           idempotency_key: IdempotencyKey = None) -> Response:
    body = body or RejectIn()
    return _decide(ctx, request, authorization, idempotency_key, body.model_dump(mode="json"),
                   lambda p: app.Decide(p, pk, "reject", reason_id=body.reason, description=body.description))


def _decide(ctx: Ctx, request: Request, authorization: str | None, key: str | None, body: dict[str, Any],
            command: Any) -> Response:
    principal = _principal(request, authorization)
    cmd: app.Decide = command(principal)
    return ctx.idempotency.run(key, principal, [f"akinon cancellation_requests {cmd.decision}", cmd.pk, body],
                               lambda uow: app.decide(uow, cmd), lambda done: (200, view(done)))


def _channel(channel_id: int) -> None:
    """Declares the path's `channel_id` (kalem keeps no channels apart: it selects nothing)."""


def register(router: APIRouter) -> None:
    """Add the endpoints to the face's router (added directly: the face's routes stay one flat list)."""
    for prefix, suffix in PREFIXES.items():
        base = f"{prefix}/cancellation_requests"
        more: dict[str, Any] = {"dependencies": [Depends(_channel)]} if "{channel_id}" in prefix else {}
        router.add_api_route(f"{base}/", list_requests, methods=["GET"], summary="Cancellation requests, newest first",
                             name=f"list_requests_{suffix}", **more)
        router.add_api_route(f"{base}/", create_request, methods=["POST"], status_code=201,
                             summary="Request the cancellation (before shipment) or refund (after delivery) of an item",
                             name=f"create_request_{suffix}", **more)
        router.add_api_route(f"{base}/{{pk}}/", detail, methods=["GET"], summary="One cancellation request",
                             name=f"detail_{suffix}", **more)
        router.add_api_route(f"{base}/{{pk}}/approve/", approve, methods=["POST"],
                             summary="Approve (a cancel request in part with `quantity`)", name=f"approve_{suffix}", **more)
        router.add_api_route(f"{base}/{{pk}}/reject/", reject, methods=["POST"],
                             summary="Reject with a request-denied reason", name=f"reject_{suffix}", **more)
