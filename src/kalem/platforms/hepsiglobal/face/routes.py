"""HepsiGlobal Marketplace API endpoints (MP → HG), wire-compatible with its documentation.

    POST /v1/auth/token                         client credentials → a JWT (`Authorization: Bearer`)
    POST /v1/orders                             order intake in HG's format — the native path: a body
                                                with `items` and no `lines` is HG's (api/intake.py)
    PUT  /v1/orders/{order_number}/order_items/{order_item_number}   cancel the item's remaining units
                                                (or `cancel_items: [{cancel_quantity, reason}]`'s)
    POST /v1/refunds                            asynchronous: a pending refund; `refund.settled` reports it

Client credentials: `client_secret` is a kalem API token (`kalem token create`), `client_id` the
seller id it belongs to (`operator` for an operator token).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from kalem.api.app import Face
from kalem.api.context import Ctx, bearer_principal
from kalem.api.errors import validation_code
from kalem.api.intake import Claim
from kalem.app import orders as app_orders
from kalem.app import refunds as app_refunds
from kalem.app.principals import Principal, SellerIdMismatch
from kalem.domain.errors import CredentialsInvalid, InvalidInput, KalemError, UnknownReason
from kalem.domain.orders import LineSpec, OrderSpec
from kalem.domain.refunds import payout
from kalem.platforms.hepsiglobal import wire
from kalem.platforms.hepsiglobal.cancellation import cancel_remaining
from kalem.platforms.hepsiglobal.face import inbound, views
from kalem.platforms.hepsiglobal.face.responses import (
    HepsiGlobalRefundAccepted,
    HepsiGlobalResult,
    HepsiGlobalToken,
    answers,
)
from kalem.platforms.hepsiglobal.reasons import CANCEL_REASONS, RETURN_REASONS

router = APIRouter(tags=["HepsiGlobal face"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


async def _caller(principal: Annotated[Principal, Depends(bearer_principal)]) -> Principal:
    """The caller, narrowed to HepsiGlobal's channel: the marketplace sees the orders HG placed, no other.
    (Depending on `bearer_principal` declares the bearer scheme on the face's operations too.)"""
    return principal.within(views.FACE)


Caller = Annotated[Principal, Depends(_caller)]
_ITEM = "/order_items/"
_CANCEL_ITEM = "/v1/orders/{order_number}/order_items/{order_item_number}"


def _is_hg_path(path: str) -> bool:
    path = path.rstrip("/")  # an item number of blanks alone (`/order_items/%09`) leaves the path ending in `/`
    return path in ("/v1/auth/token", "/v1/refunds") or (path.startswith("/v1/orders/") and _ITEM in f"{path}/")


def face() -> Face:
    return Face(router, errors=(_is_hg_path, wire.error),
                claims=(Claim("POST", "/v1/orders", is_hg_order, _intake_handler),),
                lean=frozenset({("PUT", _CANCEL_ITEM), ("POST", "/v1/refunds")}))


def is_hg_order(body: Any) -> bool:
    """The dispatch rule: an object with `items` and without `lines` is an HG order."""
    return isinstance(body, dict) and "items" in body and "lines" not in body


class UnsupportedGrantType(InvalidInput):
    code = "unsupported_grant_type"


class CompanyIdRequired(InvalidInput):
    """An operator's order names its seller in one `company_id` on its items."""
    code = "company_id_required"
    face_code = InvalidInput.code


class OrderItemRepeated(InvalidInput):
    code = "order_item_repeated"
    face_code = InvalidInput.code


@router.post("/v1/auth/token", summary="Client credentials: a kalem token as client_secret → a JWT",
             response_model=None, responses=answers(HepsiGlobalToken))
def token(body: wire.TokenIn, ctx: Ctx) -> dict[str, Any]:
    if body.grant_type != "client_credentials":
        raise UnsupportedGrantType("grant_type must be client_credentials", field="grant_type")
    if body.client_secret.count(".") == 2:  # a JWT is not a client secret: tokens do not mint tokens
        raise CredentialsInvalid("invalid client credentials")
    principal = ctx.auth.bearer(body.client_secret)
    if body.client_id != (principal.seller_id or "operator"):
        raise CredentialsInvalid("invalid client credentials")
    jwt, expires = ctx.auth.issue_jwt(principal, claims={"client_id": body.client_id})
    ttl = ctx.settings.jwt_ttl_seconds
    grant = {"access_token": jwt, "token_type": "Bearer", "expires_in": ttl}
    return {**grant, "data": grant, "message": "token created"}


# --- intake (claimed from the native POST /v1/orders) -------------------------------------------
def _tax_rate(item: wire.OrderItemIn) -> Decimal:
    net = item.total_amount_excl_vat
    if net is None and item.total_amount is not None and item.vat_amount is not None:
        net = item.total_amount - item.vat_amount
    if not item.vat_amount or not net:
        return Decimal(0)
    return (item.vat_amount * 100 / net).quantize(Decimal("0.01"))


def spec_of(body: wire.OrderIn, seller_id: str | None) -> OrderSpec:
    companies = {str(i.company_id) for i in body.items if i.company_id is not None}
    if seller_id is None:
        if len(companies) != 1:
            raise CompanyIdRequired("an operator's HG order needs one company_id (the seller) on its items",
                                    field="items.company_id")
        seller_id = companies.pop()
    elif companies - {seller_id}:  # as natively: a seller places its own orders only, never silently re-owned
        raise SellerIdMismatch("a seller may only place its own orders: company_id names another seller",
                               field="items.company_id")
    lines = tuple(LineSpec(
        line_id=item.item_number or f"{body.order_number}_{item.sku}", sku=item.sku,
        name=item.product_name or item.sku, quantity=item.quantity, unit_price=item.unit_product_price,
        discount=item.total_discount_amount, tax_rate=_tax_rate(item)) for item in body.items)
    return OrderSpec(seller_id=seller_id, order_number=body.order_number, currency=body.currency.upper(),
                     lines=lines, shipping_amount=body.shipping_amount, channel=views.FACE)


def hg_intake(body: wire.OrderIn, ctx: Ctx, caller: Caller, idempotency_key: IdempotencyKey = None) -> Response:
    cmd = app_orders.PlaceOrder(spec_of(body, caller.seller_id), caller, ctx.settings.intake_limits)
    return ctx.idempotency.run(
        idempotency_key, caller, ["hepsiglobal POST /v1/orders", body.model_dump(mode="json")],
        lambda uow: app_orders.place_order(uow, cmd),
        lambda placed: (201 if placed.created else 200,
                        {"data": views.order_data(placed.order),
                         "message": "order created" if placed.created else "order already created"}))


_intake_route = APIRoute("/v1/orders", hg_intake, methods=["POST"])
_intake_native = _intake_route.get_route_handler()


async def _intake_handler(request: Request) -> Response:
    """HG's intake with HG's envelope: the path is the native one, so errors are rendered here."""
    try:
        return await _intake_native(request)
    except RequestValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return wire.error(validation_code(exc.errors()), 400, f"{field or 'body'}: {first.get('msg')}",
                          {"field": field})
    except KalemError as exc:
        return wire.error(exc.face_code, exc.status, exc.message, {})


# --- cancel by marketplace ----------------------------------------------------------------------
def _reason(value: str, table: dict[str, int]) -> int:
    if value not in table:
        raise UnknownReason(f"reason must be one of {', '.join(sorted(table))}", field="reason", reason=value[:80])
    return table[value]


class CancelItemElsewhere(InvalidInput):
    """A `cancel_items` element that names another order item than the path's."""
    code = "cancel_item_elsewhere"
    face_code = InvalidInput.code


def _what_to_cancel(order_item_number: str, body: wire.CancelItemIn) -> tuple[str, int | None]:
    """The reason and the units (None: every open one) of a cancel by marketplace."""
    if body.cancel_items is None:  # the model holds one of the two
        assert body.reason is not None
        return body.reason, None
    [entry] = body.cancel_items
    if entry.order_item_number not in (None, order_item_number):
        raise CancelItemElsewhere(f"cancel_items names order item {entry.order_item_number}, the path "
                                  f"{order_item_number}", field="cancel_items.order_item_number")
    return entry.reason, entry.cancel_quantity


@router.put(_CANCEL_ITEM,
            summary="Cancel an order item by marketplace: every unit not shipped or cancelled yet, or the "
                    "cancel_quantity of cancel_items",
            response_model=None, responses=answers(HepsiGlobalResult))
def cancel_item(order_number: str, order_item_number: str, body: wire.CancelItemIn, ctx: Ctx,
                caller: Caller) -> Response:
    reason, quantity = _what_to_cancel(order_item_number, body)
    reason_id = _reason(reason, CANCEL_REASONS)
    # Recorded as made through this face, so HG subscribers never get the marketplace's own cancel back.
    cancel_remaining(ctx.uow(), caller, order_number, order_item_number, reason_id, reason, via=views.FACE,
                     quantity=quantity)
    return wire.envelope({}, f"order item {order_item_number} cancelled")


# --- refunds ------------------------------------------------------------------------------------
@router.post("/v1/refunds", status_code=202, summary="Create a refund (asynchronous; final once created)",
             response_model=None, responses=answers(HepsiGlobalRefundAccepted, 202))
def create_refund(body: wire.HepsiGlobalRefundIn, ctx: Ctx, caller: Caller,
                  idempotency_key: IdempotencyKey = None) -> Response:
    counts: dict[str, int] = {}
    reasons: dict[str, int] = {}
    notes: dict[str, str | None] = {}
    amounts = [i.amount for i in body.items]
    for item in body.items:
        if item.order_item_number in counts:
            raise OrderItemRepeated(f"order item {item.order_item_number} appears twice", field="items")
        counts[item.order_item_number] = item.quantity
        reasons[item.order_item_number] = _reason(item.reason, RETURN_REASONS)
        notes[item.order_item_number] = item.customer_explanation
    expected = sum((a for a in amounts if a is not None), Decimal(0)) if all(a is not None for a in amounts) else None
    cmd = app_refunds.RefundUnits(body.order_number, caller, counts, payout(None, None, None),
                                  mode=app_refunds.Mode.AUTO, reasons=reasons, notes=notes,
                                  reference=body.refund_number, expected_total=expected)
    return ctx.idempotency.run(
        idempotency_key, caller, ["hepsiglobal POST /v1/refunds", body.model_dump(mode="json")],
        lambda uow: app_refunds.refund_units(uow, cmd),
        lambda done: (202, {"data": {"request_id": done.refund.id, "refund_number": done.refund.reference,
                                     "status": done.refund.status.value, "amount": format(done.refund.amount, "f"),
                                     "currency": done.refund.currency},
                            "message": "refund accepted; the result follows as refund.settled"}))


inbound.add_routes(router)  # kalem as a HepsiGlobal marketplace: HG's webhooks to its channel accounts
