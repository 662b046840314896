"""Zonos names for kalem things: ids, statuses, the order as Zonos shows it, webhook payloads.

Ids: a Zonos order id is `order_` + the kalem order id without its `ord_` prefix; an item id is
`item_` + the kalem line id (the line id the channel sent, so `item_8659ec0e-…` round-trips). The
ids Zonos gives as `<prefix>_<uuid>` (users, landed costs) are name-based UUIDs of what kalem
knows: the same thing always has the same id, and no two things share one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, overload
from uuid import NAMESPACE_URL, uuid5

from kalem.domain.errors import InvalidInput
from kalem.domain.orders import Line, Order, OrderStatus, PackageStatus, Standing

ORDER_PREFIX, ITEM_PREFIX, KALEM_ORDER_PREFIX = "order_", "item_", "ord_"


class InvalidZonosId(InvalidInput):
    code = "invalid_id"


def order_id(order: Order) -> str:
    return ORDER_PREFIX + order.id.removeprefix(KALEM_ORDER_PREFIX)


def kalem_order_id(value: str) -> str:
    if not value.startswith(ORDER_PREFIX) or len(value) == len(ORDER_PREFIX):
        raise InvalidZonosId(f"{value!r} is not an order id (order_…)", id=value)
    return KALEM_ORDER_PREFIX + value.removeprefix(ORDER_PREFIX)


@overload
def user_id(actor: str) -> str: ...
@overload
def user_id(actor: None) -> None: ...
def user_id(actor: str | None) -> str | None:
    """`createdBy`/`updatedBy` in Zonos's form (`user_<uuid>`): one id per kalem actor
    (`operator:admin`, `seller:tok_…`), the same in every answer and webhook."""
    return None if actor is None else f"user_{uuid5(NAMESPACE_URL, f'kalem:actor:{actor}')}"


def landed_cost_id(order: Order, record_id: str) -> str:
    """A landed cost's id in Zonos's form (`landed_cost_<uuid>`), unique across orders: kalem numbers
    an order's landed costs from 1 (`landed_cost_1`, native `/landed-costs`), so the order is part of it."""
    return f"landed_cost_{uuid5(NAMESPACE_URL, f'kalem:{order.id}:{record_id}')}"


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
    # Removing units never closes a Zonos order (Zonos' Update orders example: the last unit removed, still OPEN);
    # only `orderCancel` does, and that cancels the order as a whole (its standing).
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
    return "CANCELED" if order.standing is Standing.CANCELED else _STATUS[order.status]


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
        "currencyCode": order.currency, "createdAt": time(order.created_at), "createdBy": user_id(created_by),
        "updatedAt": time(order.updated_at), "updatedBy": user_id(updated_by),
        "items": [item_dict(ln, order.currency) for ln in order.lines],
    }


#: The Zonos webhook types kalem sends, and the kalem events each is sent for (a subscription made
#: with `webhookCreate` subscribes to exactly these, so its type is known again from its events).
#: SHIPMENT_CANCELED, INCLUSIVE_PRICE_SYNC_READY and IP_SETTING_STATUS_CHANGED have no kalem event.
WEBHOOK_EVENTS = {
    "ORDER_CREATED": ("order.placed",),
    "ORDER_UPDATED": ("cancel_request.approved", "lines.cancelled", "refund.recorded"),
    "ORDER_CANCELED": ("order.cancelled",),
    "ORDER_STATUS_CHANGED": ("order.cancelled", "package.delivered", "package.shipped"),
    "SHIPMENT_CREATED": ("package.shipped",),
}
WEBHOOK_TYPES = ("ORDER_CREATED", "ORDER_CANCELED", "ORDER_STATUS_CHANGED", "ORDER_UPDATED", "SHIPMENT_CREATED",
                 "SHIPMENT_CANCELED", "INCLUSIVE_PRICE_SYNC_READY", "IP_SETTING_STATUS_CHANGED")
_HOOK_EVENTS = frozenset(name for names in WEBHOOK_EVENTS.values() for name in names)
#: The face's name: its webhook dialect, and `via` on the events of changes made through it.
FACE = "zonos"


def webhook_type(event_types: list[str]) -> str | None:
    """The Zonos type of a subscription, from the kalem events it wants (None: not made by `webhookCreate`)."""
    return next((kind for kind, names in WEBHOOK_EVENTS.items() if sorted(names) == sorted(event_types)), None)


#: The GraphQL selection each delivery's `data.order` holds (`Webhook.query`): the face's Order type.
WEBHOOK_QUERY = ("query ($orderId: ID!) { order(orderId: $orderId) { id accountOrderNumber status currencyCode "
                 "createdAt createdBy updatedAt updatedBy items { id productId sku name amount currencyCode quantity "
                 "hsCode } } }")
_NSTR, _STR = {"type": ["string", "null"]}, {"type": "string"}
_ITEM_SCHEMA = {"type": "object", "properties": {
    "id": _STR, "productId": _NSTR, "sku": _NSTR, "name": _STR, "amount": {"type": "number"},
    "currencyCode": _STR, "quantity": {"type": "integer"}, "hsCode": _NSTR}}
#: The body of every Zonos delivery (the webhook event catalog publishes it per event type).
_BODY_SCHEMA = {"type": "object", "required": ["data"], "description": "the order as Zonos shows it when sent",
                "properties": {"data": {"type": "object", "required": ["order"], "properties": {"order": {
                    "type": "object", "properties": {
                        "id": _STR, "accountOrderNumber": _NSTR, "status": {"enum": list(STATUSES)},
                        "currencyCode": _STR, "createdAt": {"type": "string", "format": "date-time"},
                        "createdBy": _NSTR, "updatedAt": {"type": "string", "format": "date-time"},
                        "updatedBy": _NSTR, "items": {"type": "array", "items": _ITEM_SCHEMA}}}}}}}
HOOK_SCHEMAS = {name: _BODY_SCHEMA for name in sorted(_HOOK_EVENTS)}


def sends(event: dict[str, Any]) -> bool:
    """Does Zonos have a webhook for this event? For every change of an order, whoever made it — the
    merchant's own `orderItemUpdate` included, as Zonos sends `ORDER_UPDATED` for any update of the
    order — but not for billing events, which ride on the change that caused them."""
    return event["type"] in _HOOK_EVENTS


def hook_payloads(event: dict[str, Any], order: Order,
                  actors: tuple[str | None, str | None] = (None, None)) -> list[dict[str, Any]]:
    """The Zonos webhook an event becomes: `{"data": {"order": {…}}}`, the order as the face's Order
    type shows it (`WEBHOOK_QUERY`) — or nothing (see `sends`)."""
    return [{"data": {"order": order_dict(order, *actors)}}] if sends(event) else []
