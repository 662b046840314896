"""Hebiar OMS endpoints, wire-compatible: same paths (any case), fields, envelopes, status names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from kalem.api.app import Face
from kalem.api.context import Ctx, context
from kalem.app import orders as app_orders
from kalem.app.principals import Principal
from kalem.domain.errors import InvalidInput
from kalem.domain.orders import CancelItem
from kalem.domain.reasons import StatusType, reasons
from kalem.platforms.hebiar import wire
from kalem.platforms.hebiar.cancellation import LineItems, cancel_lines_by_id, request_cancel_by_id
from kalem.platforms.hebiar.face import inbound
from kalem.platforms.hebiar.face.responses import (
    HebiarLoginResult,
    HebiarPackagePage,
    HebiarReason,
    HebiarResult,
    responses,
)
from kalem.platforms.hebiar.hooks import FACE
from kalem.platforms.hebiar.reads import PackageQuery, order_packages
from kalem.platforms.hebiar.units import UnitLineNotFound, parse_unit_line

router = APIRouter(tags=["Hebiar OMS face"])

PATHS = ("/Auth/login", "/Orders/CreateOrderItemLineCancelRequest", "/Orders/CancelOrderItemLineList",
         "/Lookup/OrderStatusReasonByTenant/GetStatusReasonByType", "/orders/GetOrderPackages")
_LOWER = {p.lower() for p in PATHS}


inbound.add_routes(router)  # kalem as a Hebiar OMS operator: the OMS's hooks to its channel accounts


_WRITES = frozenset({("POST", "/Orders/CreateOrderItemLineCancelRequest"), ("POST", "/Orders/CancelOrderItemLineList")})


def face() -> Face:
    return Face(router, {p: p for p in PATHS}, (lambda path: path.lower().rstrip("/") in _LOWER, wire.error),
                first=_WRITES, lean=_WRITES)


def _principal(request: Request, authorization: str | None) -> Principal:
    return context(request).auth.authorization(authorization)


Authorization = Annotated[str | None, Header(include_in_schema=False)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


class UnitLineQuantityNotPositive(InvalidInput):
    code = "unit_line_quantity_not_positive"
    face_code = InvalidInput.code


class StatusTypeUnknown(InvalidInput):
    code = "status_type_unknown"
    face_code = InvalidInput.code


class TimestampMalformed(InvalidInput):
    """A time filter that is not Unix seconds or milliseconds."""
    code = "timestamp_malformed"
    face_code = InvalidInput.code


@router.post("/Auth/login", summary="Log in; the token is a JWT for `Authorization: Bearer`",
             response_model=None, responses=responses(HebiarLoginResult, 400, 401, 413, 422, 429))
def login(body: wire.HebiarLogin, ctx: Ctx) -> dict[str, Any]:
    principal = ctx.logins.login(ctx.uow(), body.UserName, body.Password)
    token, expires = ctx.auth.issue_jwt(principal, claims={"__tenant__": principal.seller_id or "operator"})
    return {"token": token, "expire": expires.strftime("%Y-%m-%dT%H:%M:%SZ"), "isSuccess": True, "statusCode": None}


def _items(ctx: Ctx, principal: Principal, body: list[wire.LineCancel]) -> tuple[CancelItem, ...]:
    """Unit lines → the units they name, per line. A unit line names its unit (with a quantity above 1,
    as many more open units of the line, lowest-numbered first). The first reason of a line stands and
    distinct descriptions are joined, because a line carries one reason per request in kalem."""
    parsed = [(parse_unit_line(item.sourceOrderItemLineId), item) for item in body]
    quantities = app_orders.line_quantities(ctx.uow(write=False), {line for (line, _), _ in parsed}, principal)
    merged: dict[str, CancelItem] = {}
    for (line_id, n), item in parsed:
        if line_id not in quantities or n > quantities[line_id]:
            raise UnitLineNotFound(f"unit line {item.sourceOrderItemLineId} not found",
                                   line_id=item.sourceOrderItemLineId)
        if item.quantity <= 0:
            raise UnitLineQuantityNotPositive(f"{item.sourceOrderItemLineId}: quantity must be at least 1",
                                              line_id=item.sourceOrderItemLineId)
        before = merged.get(line_id) or CancelItem(line_id, 0, item.reasonId)
        notes = [n for n in dict.fromkeys((before.note, item.reasonDesc)) if n]
        merged[line_id] = CancelItem(line_id, before.quantity + item.quantity, before.reason_id,
                                     "; ".join(notes) or None, (*before.numbers, n),
                                     (*before.labels, item.sourceOrderItemLineId))
    return tuple(merged.values())


@router.post("/Orders/CreateOrderItemLineCancelRequest",
             summary="Ask the seller to cancel unit lines; lands on the seller's cancel-request queue",
             responses=responses(HebiarResult, 400, 401, 404, 409, 413, 422, 429))
def create_cancel_request(body: wire.LineCancelList, request: Request, ctx: Ctx,
                          authorization: Authorization = None, idempotency_key: IdempotencyKey = None) -> Response:
    principal = _principal(request, authorization)
    cmd = LineItems(_items(ctx, principal, body), principal)
    return ctx.idempotency.run(
        idempotency_key, principal, ["hebiar CreateOrderItemLineCancelRequest", [i.model_dump() for i in body]],
        lambda uow: request_cancel_by_id(uow, cmd), lambda _: (200, {"isSuccess": True, "statusCode": 200}))


@router.post("/Orders/CancelOrderItemLineList", summary="Cancel unit lines directly (no approval)",
             responses=responses(HebiarResult, 400, 401, 404, 409, 413, 422, 429))
def cancel_lines(body: wire.LineCancelList, request: Request, ctx: Ctx,
                 authorization: Authorization = None, idempotency_key: IdempotencyKey = None) -> Response:
    principal = _principal(request, authorization)
    cmd = LineItems(_items(ctx, principal, body), principal, via=FACE)
    return ctx.idempotency.run(
        idempotency_key, principal, ["hebiar CancelOrderItemLineList", [i.model_dump() for i in body]],
        lambda uow: cancel_lines_by_id(uow, cmd), lambda _: (200, {"isSuccess": True, "statusCode": 0}))


@router.get("/Lookup/OrderStatusReasonByTenant/GetStatusReasonByType", summary="Reasons by status type",
            response_model=None, responses=responses(list[HebiarReason], 401, 422, 429))
def status_reasons(request: Request, statusType: Annotated[str, Query(max_length=40)],
                   authorization: Authorization = None) -> list[dict[str, Any]]:
    _principal(request, authorization)
    try:
        status_type = StatusType(statusType)
    except ValueError as exc:
        raise StatusTypeUnknown(f"statusType must be one of {', '.join(s.value for s in StatusType)}",
                                field="statusType") from exc
    epoch = datetime(2023, 5, 25, 16, 56, 19, tzinfo=UTC).isoformat()
    return [{"orderStatusReasonId": index, "orderStatusReason": None, "reasonName": r.name_tr, "id": r.id,
             "createdAt": epoch} for index, r in enumerate(reasons(status_type), start=1)]


CustomerFilter = Annotated[str | None, Query(max_length=254)]


def _nullable(value: str | None) -> str | None:
    """The OMS sends the literal string `null` for "no filter"."""
    return None if value in (None, "", "null") else value


def _epoch(value: str | None, name: str) -> datetime | None:
    value = _nullable(value)
    if value is None:
        return None
    # ASCII digits only (int() refuses "²"), and at most 14 of them: a later time overflows datetime.
    if not (value.isascii() and value.isdigit()) or len(value) > 14:
        raise TimestampMalformed(f"{name} must be a Unix timestamp", field=name)
    number = int(value)
    return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, UTC)  # ms or s


@router.get("/orders/GetOrderPackages", summary="Outbound packages with their unit lines",
            responses=responses(HebiarPackagePage, 401, 422, 429))
def get_order_packages(
        request: Request, ctx: Ctx, authorization: Authorization = None,
        page: Annotated[int, Query(ge=0)] = 0, size: Annotated[int, Query(ge=1, le=100)] = 20,
        OrderNumber: Annotated[str | None, Query(max_length=64)] = None,
        Status: Annotated[str | None, Query(max_length=32)] = None,
        StartDate: Annotated[str | None, Query(max_length=20)] = None,
        EndDate: Annotated[str | None, Query(max_length=20)] = None,
        orderByDirection: Annotated[str | None, Query(pattern="^(ASC|DESC|asc|desc|null)$")] = None,
        # Packages are ordered by their order's date, the one field the platform documents for it.
        orderByField: Annotated[str | None, Query(pattern="^(orderDate|null|)$")] = None,
        CustomerCode: CustomerFilter = None, CustomerId: CustomerFilter = None,
        CustomerFirstName: CustomerFilter = None, CustomerLastName: CustomerFilter = None,
        CustomerPhone: CustomerFilter = None, CustomerEmail: CustomerFilter = None,
        IsGuest: Annotated[str | None, Query(pattern="^(true|false|True|False|null|)$")] = None,
        # No channel filter: Hebiar OMS's GetOrderPackages documentation has none (each package shows its
        # `channelCode`), so a `channelCode` in the query is ignored like any unknown parameter.
) -> JSONResponse:
    principal = _principal(request, authorization)
    asked = {"code": CustomerCode, "customer_id": CustomerId, "first_name": CustomerFirstName,
             "last_name": CustomerLastName, "phone": CustomerPhone, "email": CustomerEmail, "is_guest": IsGuest}
    query = PackageQuery(_nullable(OrderNumber), _nullable(Status), _epoch(StartDate, "StartDate"),
                         _epoch(EndDate, "EndDate"), (orderByDirection or "").upper() == "ASC", page, size,
                         {name: kept for name, value in asked.items() if (kept := _nullable(value)) is not None})
    total, pages, chunk = order_packages(ctx.uow, principal, query)
    return JSONResponse({
        "isSuccess": True, "statusCode": "200", "errorMesssage": None, "errorSource": None, "correlationId": None,
        "errors": [], "data": chunk, "resultCount": len(chunk), "totalResultCount": total, "pageSize": size,
        "totalPages": pages, "currentPage": page,
    })
