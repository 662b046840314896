"""Akinon Omnitron endpoints, wire-compatible with Akinon Omnitron's API reference (Django REST style).

    POST /api/v1/auth/login/                              {"username","password"} → {"key"}
    POST /api/i1/orders/{order_id}/cancel/                (also /api/v1/orders/{id}/cancel/ and
    POST /api/v1/channel/{channel_id}/orders/{pk}/cancel   the channel path) — cancel before shipment,
                                                          refund (return) after, never both at once
    GET  /api/v1/orders/?number=…&channel=…, /api/v1/orders/{pk}/   orders with `pk`, `channel` and `orderitem_set`
    GET  /api/{i1,v1}/orders_integration/{pk}/detailed_integration/   the same order
    GET  /api/v1/channel/{channel_id}/cancellation_reasons/[{id}/]
    …/cancellation_requests/[{id}/[approve/|reject/]]       list, create, read, decide (requests.py)

A `channel_id` is a channel's integer id (`platforms/akinon/channels.py`): a channel's paths act only on
that channel's orders, and another channel's order is not found there.

Credentials: `Authorization: Token <key>`; the key is a JWT for a user made with `kalem user create`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import NAMESPACE_URL, uuid5

from fastapi import APIRouter, Header, Query, Request, Response

from kalem.api.app import Face
from kalem.api.context import Ctx, context
from kalem.app.principals import Principal
from kalem.domain.errors import AuthenticationFailed
from kalem.domain.orders import Operation
from kalem.domain.reasons import CATALOG, StatusType
from kalem.platforms.akinon import cancel, wire
from kalem.platforms.akinon import pks as app
from kalem.platforms.akinon.face import requests as _requests
from kalem.platforms.akinon.face import schemas as out
from kalem.platforms.akinon.face import views
from kalem.platforms.akinon.face.errors import CancellationReasonNotFound, Invalid, InvalidCredentials, Required
from kalem.platforms.akinon.face.paging import drf_page, offset_page, page_number

router = APIRouter(tags=["Akinon face"])
Authorization = Annotated[str | None, Header(include_in_schema=False)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


def face() -> Face:
    return Face(router, errors=(lambda path: path.startswith("/api/"), wire.error),
                lean=frozenset({("POST", "/api/i1/orders/{order_id}/cancel/"),
                                ("POST", "/api/v1/orders/{order_id}/cancel/"),
                                ("POST", "/api/v1/channel/{channel_id}/orders/{pk}/cancel")}))


def _principal(request: Request, authorization: str | None) -> Principal:
    return context(request).auth.authorization(authorization, schemes=("token",))


@router.post("/api/v1/auth/login/", summary="Log in: the key goes in `Authorization: Token <key>`",
             responses={200: {"model": out.AkinonLoginOut, "description": "The token"}, **out.errors()})
def login(body: wire.AkinonLogin, ctx: Ctx) -> dict[str, Any]:
    try:
        principal = ctx.logins.login(ctx.uow(), body.username, body.password)
    except AuthenticationFailed as exc:  # Akinon answers 400 for bad credentials
        raise InvalidCredentials("Unable to log in with provided credentials.") from exc
    key, _ = ctx.auth.issue_jwt(principal)
    return {"key": key}


# --- cancel / refund (platforms/akinon/cancel.py) -------------------------------------------------
def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise Invalid("A valid number is required.", field="forced_refund_amount") from None
    if not amount.is_finite() or amount < 0:
        raise Invalid("A valid non-negative number is required.", field="forced_refund_amount")
    return amount


def _cancel_items(given: list[int] | dict[str, int]) -> list[int]:
    """The order item pks to cancel: a list of pks, or the page's dict `{pk: quantity}`. An order item is
    one unit, so its quantity is 1."""
    if isinstance(given, list):
        return given
    items = []
    for key, quantity in given.items():
        if not key.strip().isdigit():
            raise Invalid(f"{key[:20]!r} is not an order item id.", field="cancel_items")
        if quantity != 1:
            raise Invalid(f"Order item {key} is one unit: its quantity to cancel is 1, not {quantity}.",
                          field="cancel_items")
        items.append(int(key))
    return items


def _cancel(order_pk: int, body: wire.CancelIn, request: Request, ctx: Ctx, authorization: str | None,
            idempotency_key: str | None, channel: int | None = None) -> Response:
    principal = _principal(request, authorization)
    if body.order != order_pk:
        raise Invalid(f"order {body.order} is not the order of this path ({order_pk}).", field="order")
    items = _cancel_items(body.cancel_items)
    if body.is_all and items:
        raise Invalid("cancel_items must be an empty list when is_all is true.", field="cancel_items")
    if not body.is_all and not items:
        raise Required("Name the order items to cancel, or send is_all: true.", field="cancel_items")
    if len(set(items)) != len(items):
        raise Invalid("An order item appears twice.", field="cancel_items")
    cmd = cancel.CancelItems(
        principal, order_pk, tuple(items), body.reasons, body.ibans, body.holder_names,
        include_cargo=True if body.is_cargo_refund else None, forced_amount=_amount(body.forced_refund_amount),
        reference=body.refund_invoice_number, channel=channel)

    def render(done: cancel.Cancelled) -> tuple[int, Any]:
        if not body.return_details:
            refund = done.refund.refund
            return 200, {"order": order_pk,
                         "cancellation_type": "cancel" if done.operation is Operation.CANCEL else "refund",
                         "order_items": done.items, "refund": {"id": refund.id, "amount": format(refund.amount, "f"),
                                                               "status": refund.status.value}}
        return 200, views.order_detail(done.order)

    fingerprint = ["akinon cancel", order_pk, body.model_dump(mode="json")]
    return ctx.idempotency.run(idempotency_key, principal, fingerprint if channel is None else [*fingerprint, channel],
                               lambda uow: cancel.cancel(uow, cmd), render)


CANCELLED = out.answers(out.AkinonCancelAnswer, "The order detail (as Get Order), or with `return_details: false` "
                        "a summary", 403, 404)


@router.post("/api/i1/orders/{order_id}/cancel/", summary="Cancel order items (before shipment) or refund them (after)",
             responses=CANCELLED, dependencies=out.AUTHED)
def cancel_order_items(order_id: int, body: wire.CancelIn, request: Request, ctx: Ctx,
                       authorization: Authorization = None, idempotency_key: IdempotencyKey = None) -> Response:
    return _cancel(order_id, body, request, ctx, authorization, idempotency_key)


@router.post("/api/v1/orders/{order_id}/cancel/", summary="The same, at the path of the page's Python example",
             responses=CANCELLED, dependencies=out.AUTHED)
def cancel_order_items_v1(order_id: int, body: wire.CancelIn, request: Request, ctx: Ctx,
                          authorization: Authorization = None, idempotency_key: IdempotencyKey = None) -> Response:
    return _cancel(order_id, body, request, ctx, authorization, idempotency_key)


@router.post("/api/v1/channel/{channel_id}/orders/{pk}/cancel",
             summary="The same, at the channel-app SDK's path: only for an order of that channel",
             responses=CANCELLED, dependencies=out.AUTHED)
def cancel_order_items_in_channel(channel_id: int, pk: int, body: wire.CancelIn, request: Request, ctx: Ctx,
                                  authorization: Authorization = None,
                                  idempotency_key: IdempotencyKey = None) -> Response:
    return _cancel(pk, body, request, ctx, authorization, idempotency_key, channel_id)


# --- reads --------------------------------------------------------------------------------------
ChangeTime = Annotated[str | None, Query(max_length=64, description=(
    "ISO 8601 date-time (django-filter's `IsoDateTimeFilter`, as Omnitron's list filters take it); "
    "one without an offset is UTC"))]


def _change_time(value: str | None, field: str) -> datetime | None:
    """A `modified_date__gte`/`__lte` bound; what is not an ISO 8601 date-time is DRF's "Enter a valid
    date/time." for that field."""
    if value is None:
        return None
    text = value.strip().replace("Z", "+00:00")
    if "T" in text:
        text = text.replace(" ", "+", 1)  # an offset's `+` sent unencoded arrives as a space
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("Enter a valid date/time.", field=field) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


@router.get("/api/v1/orders/", summary="Orders, newest first, in DRF pages; `?number=` finds one by its number, "
                                       "`?channel=` keeps one channel's (by its id)",
            description="A page holds `limit` orders, and stops early at the order that would take it past "
                        f"{app.UNITS_PER_PAGE:,} order items (unless its first order alone holds more); its "
                        "`next` link then goes on with `?offset=`.",
            responses=out.answers(out.AkinonOrderPage, "A DRF page of orders", 404), dependencies=out.AUTHED)
def list_orders(request: Request, ctx: Ctx, authorization: Authorization = None,
                number: Annotated[str | None, Query(max_length=64)] = None,
                page: Annotated[str | None, Query(max_length=10)] = None,
                limit: Annotated[int, Query(ge=1, le=100)] = 20,
                offset: Annotated[int | None, Query(ge=0, le=2_147_483_647)] = None,
                channel: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
                modified_date__gte: ChangeTime = None, modified_date__lte: ChangeTime = None) -> dict[str, Any]:
    principal = _principal(request, authorization)
    at = page_number(page)
    start = (at - 1) * limit if offset is None else offset
    changed = (_change_time(modified_date__gte, "modified_date__gte"),
               _change_time(modified_date__lte, "modified_date__lte"))
    if number is not None:
        found = [n for n in app.by_number(ctx.uow(write=False), number, principal, channel)
                 if (changed[0] is None or n.order.updated_at >= changed[0])
                 and (changed[1] is None or n.order.updated_at <= changed[1])]
        count, found = len(found), found[start:start + limit]
    else:
        count, found = app.listed(ctx.uow(write=False), principal, offset=start, size=limit, channel=channel,
                                  changed=changed)
    results = [views.order_detail(n) for n in found]
    if offset is not None:
        return offset_page(request, offset, limit, count, results)
    return drf_page(request, at, limit, count, results)


@router.get("/api/v1/orders/{pk}/", summary="One order by pk",
            responses=out.answers(out.AkinonOrder, "The order", 404), dependencies=out.AUTHED)
def get_order(pk: int, request: Request, ctx: Ctx, authorization: Authorization = None) -> dict[str, Any]:
    return views.order_detail(app.by_pk(ctx.uow(write=False), pk, _principal(request, authorization)))


@router.get("/api/i1/orders_integration/{pk}/detailed_integration/", summary="One order with its relations",
            responses=out.answers(out.AkinonOrder, "The order", 404), dependencies=out.AUTHED)
def get_order_detailed_integration(pk: int, request: Request, ctx: Ctx,
                                   authorization: Authorization = None) -> dict[str, Any]:
    return views.order_detail(app.by_pk(ctx.uow(write=False), pk, _principal(request, authorization)))


@router.get("/api/v1/orders_integration/{pk}/detailed_integration/",
            summary="The same, at the path of the page's Python example",
            responses=out.answers(out.AkinonOrder, "The order", 404), dependencies=out.AUTHED)
def get_order_detailed_integration_v1(pk: int, request: Request, ctx: Ctx,
                                      authorization: Authorization = None) -> dict[str, Any]:
    return views.order_detail(app.by_pk(ctx.uow(write=False), pk, _principal(request, authorization)))


# --- cancellation reasons -----------------------------------------------------------------------
_TYPES = {StatusType.CANCELLED: "cancel", StatusType.RETURNED: "refund"}


def _reasons() -> list[dict[str, Any]]:
    """kalem's catalog is built in, not tenant data: it has no creation or change dates (null)."""
    found: dict[int, dict[str, Any]] = {}
    for index, r in enumerate(CATALOG):
        if r.platform != "kalem" or r.status_type not in _TYPES or r.id in found:
            continue  # a pk is listed once: 151 (changed my mind) serves cancels and refunds, listed as cancel
        found[r.id] = {"pk": r.id, "cancellation_type": _TYPES[r.status_type], "extra_information_needed": False,
                       "order": index, "subject": r.name_en, "is_active": True, "send_to_remote": False,
                       "translations": {"tr": {"subject": r.name_tr}},
                       "uuid": str(uuid5(NAMESPACE_URL, f"kalem:reason:{r.id}:{_TYPES[r.status_type]}")),
                       "created_date": None, "modified_date": None}
    return list(found.values())


@router.get("/api/v1/channel/{channel_id}/cancellation_reasons/", summary="Cancellation and refund reasons",
            responses=out.answers(out.AkinonReasonPage, "A DRF page of every reason"), dependencies=out.AUTHED)
def list_cancellation_reasons(channel_id: int, request: Request,
                              authorization: Authorization = None) -> dict[str, Any]:
    _principal(request, authorization)
    found = _reasons()
    return {"count": len(found), "next": None, "previous": None, "results": found}


@router.get("/api/v1/channel/{channel_id}/cancellation_reasons/{pk}/", summary="One reason",
            responses=out.answers(out.AkinonReason, "The reason", 404), dependencies=out.AUTHED)
def get_cancellation_reason(channel_id: int, pk: int, request: Request,
                            authorization: Authorization = None) -> dict[str, Any]:
    _principal(request, authorization)
    found = [r for r in _reasons() if r["pk"] == pk]
    if not found:
        raise CancellationReasonNotFound("Not found.", pk=pk)
    return found[0]


# --- cancellation requests (platforms/akinon/face/requests.py) -----------------------------------------
_requests.register(router)
