"""Akinon cancellation requests (Akinon Omnitron's API reference) over kalem's cancel and return requests.

    GET  {prefix}/cancellation_requests/                ?page=&limit=  DRF page {"count","next","previous","results"}
    POST {prefix}/cancellation_requests/                {"order_item","reason","description"?,"quantity"?} → 201
    GET  {prefix}/cancellation_requests/{id}/
    POST {prefix}/cancellation_requests/{id}/approve/   {"quantity"?}  (cancel requests may be approved in part)
    POST {prefix}/cancellation_requests/{id}/reject/    {"reason", "description"?}  (a request-denied reason)

for the prefixes `/api/v1/channel/{channel_id}`, `/api/channel/{channel_id}` (the path of the
integration docs) and `/api/v1`. Under a channel's prefix only the requests of that channel's orders are
there (`channel_id` is a channel's integer id, `platforms/akinon/channels.py`); `/api/v1` holds every channel's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import NAMESPACE_URL, uuid5

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kalem.api.context import Ctx, context
from kalem.app.principals import Principal
from kalem.domain.orders import CancelRequest
from kalem.platforms.akinon import cancellation_requests as app
from kalem.platforms.akinon.face import schemas as out
from kalem.platforms.akinon.face.paging import drf_page, page_number
from kalem.platforms.akinon.wire import Integer

Authorization = Annotated[str | None, Header(include_in_schema=False)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
Pk = Annotated[int, Path(ge=1, le=2**63 - 1)]
BigInt = Annotated[Integer, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, StringConstraints(max_length=1000)]
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_item: BigInt
    reason: BigInt
    description: Text | None = None
    quantity: Annotated[Integer, Field(ge=1, le=100_000)] | None = None
    cancellation_type: Literal["cancel", "refund"] | None = None   # must match the unit's state if sent
    iban: None = None          # a refund's account is given when the refund is made (the cancel endpoint)
    holder_name: None = None


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: Annotated[Integer, Field(ge=1, le=100_000)] | None = None


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


def _channel(request: Request) -> int | None:
    """The id of the path's channel (None under `/api/v1`); FastAPI has checked it is an integer."""
    raw = request.path_params.get("channel_id")
    return None if raw is None else int(raw)


def _on_channel(fingerprint: list[Any], channel: int | None) -> list[Any]:
    """An idempotency fingerprint, with the path's channel when it names one."""
    return fingerprint if channel is None else [*fingerprint, channel]


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None and raw.strip().isdigit() and len(raw) < 10 else None
    except ValueError:
        return None


def list_requests(request: Request, ctx: Ctx, authorization: Authorization = None,
                  page: str | None = None, limit: str | None = None) -> dict[str, Any]:
    """DRF's PageNumberPagination: a bad `limit` falls back to the default and a large one is capped
    (DRF's page_size_query_param)."""
    principal = _principal(request, authorization)
    number = page_number(page)
    size = min(max(_int(limit) or DEFAULT_LIMIT, 1), MAX_LIMIT)
    count, found = app.page(ctx.uow(write=False), principal, number=number, size=size, channel=_channel(request))
    return drf_page(request, number, size, count, [view(r) for r in found])


def create_request(body: RequestIn, request: Request, ctx: Ctx, authorization: Authorization = None,
                   idempotency_key: IdempotencyKey = None) -> Response:
    principal = _principal(request, authorization)
    cmd = app.CreateRequest(principal, body.order_item, body.reason, body.description, body.quantity,
                            body.cancellation_type, _channel(request))
    return ctx.idempotency.run(idempotency_key, principal,
                               _on_channel(["akinon cancellation_requests create", body.model_dump(mode="json")],
                                           cmd.channel),
                               lambda uow: app.create(uow, cmd), lambda done: (201, view(done)))


def detail(pk: Pk, request: Request, ctx: Ctx, authorization: Authorization = None) -> dict[str, Any]:
    return view(app.get(ctx.uow(write=False), pk, _principal(request, authorization), _channel(request)))


def approve(pk: Pk, request: Request, ctx: Ctx, body: ApproveIn | None = None, authorization: Authorization = None,
            idempotency_key: IdempotencyKey = None) -> Response:
    body = body or ApproveIn()
    return _decide(ctx, request, authorization, idempotency_key, body.model_dump(mode="json"),
                   lambda p: app.Decide(p, pk, "approve", quantity=body.quantity, channel=_channel(request)))


def reject(pk: Pk, request: Request, ctx: Ctx, body: RejectIn | None = None, authorization: Authorization = None,
           idempotency_key: IdempotencyKey = None) -> Response:
    body = body or RejectIn()
    return _decide(ctx, request, authorization, idempotency_key, body.model_dump(mode="json"),
                   lambda p: app.Decide(p, pk, "reject", reason_id=body.reason, description=body.description,
                                        channel=_channel(request)))


def _decide(ctx: Ctx, request: Request, authorization: str | None, key: str | None, body: dict[str, Any],
            command: Any) -> Response:
    principal = _principal(request, authorization)
    cmd: app.Decide = command(principal)
    return ctx.idempotency.run(key, principal,
                               _on_channel([f"akinon cancellation_requests {cmd.decision}", cmd.pk, body], cmd.channel),
                               lambda uow: app.decide(uow, cmd), lambda done: (200, view(done)))


def channel(channel_id: Annotated[int, Path(description="The sales channel's id: only its orders' requests")]) -> None:
    """Declares the `{channel_id}` of a channel path (each endpoint reads it from the path)."""


#: prefix → the suffix of its operations' names (operation ids are made from them)
PREFIXES = {"/api/v1/channel/{channel_id}": "", "/api/channel/{channel_id}": "_unversioned",
            "/api/v1": "_without_channel"}


def register(router: APIRouter) -> None:
    """Add the endpoints to the face's router (added directly: the face's routes stay one flat list)."""
    for prefix, suffix in PREFIXES.items():
        base = f"{prefix}/cancellation_requests"
        channel_param = [Depends(channel)] if "{channel_id}" in prefix else []
        kw: dict[str, Any] = {"dependencies": [*out.AUTHED, *channel_param]}
        answer = out.AkinonCancellationRequest
        router.add_api_route(f"{base}/", list_requests, methods=["GET"], summary="Cancellation requests, newest first",
                             name=f"list_cancellation_requests{suffix}",
                             responses=out.answers(out.AkinonCancellationRequestPage, "A DRF page", 404), **kw)
        router.add_api_route(f"{base}/", create_request, methods=["POST"], status_code=201,
                             summary="Request the cancellation (before shipment) or refund (after delivery) of an item",
                             name=f"create_cancellation_request{suffix}",
                             responses=out.answers(answer, "The request, waiting approval", status=201), **kw)
        router.add_api_route(f"{base}/{{pk}}/", detail, methods=["GET"], summary="One cancellation request",
                             name=f"get_cancellation_request{suffix}",
                             responses=out.answers(answer, "The request", 404), **kw)
        router.add_api_route(f"{base}/{{pk}}/approve/", approve, methods=["POST"],
                             summary="Approve (a cancel request in part with `quantity`)",
                             name=f"approve_cancellation_request{suffix}",
                             responses=out.answers(answer, "The request, approved", 403, 404), **kw)
        router.add_api_route(f"{base}/{{pk}}/reject/", reject, methods=["POST"],
                             summary="Reject with a request-denied reason", name=f"reject_cancellation_request{suffix}",
                             responses=out.answers(answer, "The request, rejected", 403, 404), **kw)
