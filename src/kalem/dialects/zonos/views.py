"""Zonos names for kalem things: ids, statuses, the order as Zonos shows it, webhook payloads.

Ids: a Zonos order id is `order_` + the kalem order id without its `ord_` prefix; an item id is
`item_` + the kalem line id (the line id the channel sent, so `item_8659ec0e-…` round-trips).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kalem.domain.errors import InvalidInput
from kalem.domain.order_billing import CANCELED_ATTRIBUTE
from kalem.domain.orders import Line, Order, OrderStatus, PackageStatus

ORDER_PREFIX, ITEM_PREFIX, KALEM_ORDER_PREFIX = "order_", "item_", "ord_"


class InvalidZonosId(InvalidInput):
    code = "invalid_id"


def order_id(order: Order) -> str:
    return ORDER_PREFIX + order.id.removeprefix(KALEM_ORDER_PREFIX)


def kalem_order_id(value: str) -> str:
    if not value.startswith(ORDER_PREFIX) or len(value) == len(ORDER_PREFIX):
        raise InvalidZonosId(f"{value!r} is not an order id (order_…)", id=value)
    return KALEM_ORDER_PREFIX + value.removeprefix(ORDER_PREFIX)


def item_id(line: Line) -> str:
    return ITEM_PREFIX + line.line_id


def kalem_line_id(value: str) -> str:
    if not value.startswith(ITEM_PREFIX) or len(value) == len(ITEM_PREFIX):
        raise InvalidZonosId(f"{value!r} is not an item id (item_…)", id=value)
    return value.removeprefix(ITEM_PREFIX)


#: Zonos has no SHIPPED/DELIVERED order status: an order whose every live unit left is COMPLETED.
_STATUS = {
    OrderStatus.OPEN: "OPEN", OrderStatus.PARTIALLY_SHIPPED: "PARTIALLY_SHIPPED",
    OrderStatus.SHIPPED: "COMPLETED", OrderStatus.DELIVERED: "COMPLETED", OrderStatus.RETURNED: "COMPLETED",
    # Removing units never closes a Zonos order (the seed: the last unit removed, still OPEN);
    # only `orderCancel` does, and that sets CANCELED_ATTRIBUTE.
    OrderStatus.CANCELLED: "OPEN",
}
#: Which kalem statuses may show as each Zonos status (for filtering in SQL first).
KALEM_STATUSES = {
    "OPEN": {"open", "cancelled"}, "PARTIALLY_SHIPPED": {"partially_shipped"},
    "COMPLETED": {"shipped", "delivered", "returned"}, "CANCELED": {"cancelled"},
}
STATUSES = ("OPEN", "PARTIALLY_SHIPPED", "COMPLETED", "CANCELED", "FRAUD_HOLD", "PAYMENT_PENDING",
            "PAYMENT_FAILED", "IN_TRANSIT_TO_CONSOLIDATION_CENTER")


def status(order: Order) -> str:
    return "CANCELED" if order.attributes.get(CANCELED_ATTRIBUTE) else _STATUS[order.status]


def remaining(line: Line) -> int:
    """Zonos item quantity: the units not removed (shipped ones included)."""
    return line.ledger.alive


SHIPMENT_STATUS = {PackageStatus.SHIPPED: "IN_TRANSIT", PackageStatus.DELIVERED: "DELIVERED"}


def time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def money(value: Decimal) -> float:
    # Zonos amounts are GraphQL Floats; kalem keeps Decimals and converts only at the wire.
    return float(value)


def item_dict(line: Line, currency: str) -> dict[str, Any]:
    return {"id": item_id(line), "productId": line.product_id, "sku": line.sku, "name": line.name,
            "amount": money(line.unit_price), "currencyCode": currency, "quantity": remaining(line),
            "hsCode": line.hs_code}


def order_dict(order: Order, created_by: str | None = None, updated_by: str | None = None) -> dict[str, Any]:
    return {
        "id": order_id(order), "accountOrderNumber": order.account_order_number, "status": status(order),
        "currencyCode": order.currency, "createdAt": time(order.created_at), "createdBy": created_by,
        "updatedAt": time(order.updated_at), "updatedBy": updated_by,
        "items": [item_dict(ln, order.currency) for ln in order.lines],
    }


_HOOKS = {
    "order.placed": "ORDER_CREATED",
    "lines.cancelled": "ORDER_UPDATED", "cancel_request.approved": "ORDER_UPDATED",
    "refund.recorded": "ORDER_UPDATED",
    "order.cancelled": "ORDER_CANCELED",
}


#: The body each event type becomes (the webhook event catalog publishes these).
HOOK_SCHEMAS = {name: {"type": "object", "description": "the order as Zonos shows it now", "properties": {
    "type": {"const": kind}, "body": {"type": "object", "properties": {"data": {"type": "object", "properties": {
        "order": {"type": "object"}}}}}}} for name, kind in _HOOKS.items()}


def hook_payloads(event: dict[str, Any], order: Order | None = None) -> list[dict[str, Any]]:
    """The Zonos webhooks a kalem event becomes: `[{"type": WebhookType, "body": {"data": {"order"}}}]`.

    Billing events (landed_cost.recomputed, invoice.revised, credit_note.issued…) ride on the
    change that caused them, so they add no webhook of their own. With `order` the body is the
    order as it is now (Zonos sends the current order, not a diff); without it, just its id.
    """
    kind = _HOOKS.get(event["type"])
    if kind is None:
        return []
    if order is not None:
        body = order_dict(order, updated_by=event.get("actor"))
    else:
        body = {"id": ORDER_PREFIX + str(event.get("order_id", "")).removeprefix(KALEM_ORDER_PREFIX)}
    return [{"type": kind, "body": {"data": {"order": body}}}]
