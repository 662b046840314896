"""HepsiGlobal views: order intake answers and the webhook bodies (HG → marketplace).

`hook_payloads(event)` renders kalem events for a subscription with dialect `hepsiglobal`:
- a seller's cancel → one `order-cancel` hook per item, sent as `PUT` (`PUT /webhooks/order-cancel`):
  `{cancel_id, order_number, cancel_quantity, order_item_number, reason}`. A seller's cancel is
  `lines.cancelled` made by a seller — except one made through this face, which is the marketplace's
  own and never sent back — or `cancel_request.approved` (for the units approved). HG's `cancel_id`
  is a number; kalem derives it from the event id and the item's position, so a redelivery carries
  the same id (the marketplace's idempotency key).
- `package.shipped` → "Create shipment" (`POST /webhooks/create-shipment`): `{order_number, tracking:
  [{is_default, tracking_number, is_first_mile, carrier}]}`; kalem knows no carrier, so `carrier` is null.
- `refund.settled` → the "Refund create result" body (shape NOT DOCUMENTED by HG; kalem's choice):
  `{request_id, refund_number, order_number, status: success|failed, amount, currency}`.
Everything else renders to nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kalem.domain.orders import Order
from kalem.domain.reasons import shared_code
from kalem.domain.webhooks import Hook
from kalem.platforms.hepsiglobal.reasons import CODE_NAMES, REASON_NAMES

#: What a cancel made through this face records as `via` on its `lines.cancelled` event.
FACE = "hepsiglobal"
#: HG documents `PUT /webhooks/order-cancel`.
ORDER_CANCEL_METHOD = "PUT"


def cancel_id(event_id: str, index: int) -> int:
    return int(hashlib.sha256(f"{event_id}:{index}".encode()).hexdigest()[:12], 16)


_S, _I = {"type": "string"}, {"type": "integer"}


def _order_cancel_schema(which: str) -> dict[str, Any]:
    return {"type": "object", "description": f"`order-cancel`, sent as {ORDER_CANCEL_METHOD}, {which}",
            "x-http-method": ORDER_CANCEL_METHOD,  # the webhook catalog publishes it under this method
            "properties": {"cancel_id": _I, "order_number": _S, "cancel_quantity": _I, "order_item_number": _S,
                           "reason": _S}}


#: The body each event type becomes (the webhook event catalog publishes these).
HOOK_SCHEMAS = {
    "lines.cancelled": _order_cancel_schema("one per item; only cancellations made by a seller, never one made "
                                            "through the HepsiGlobal face"),
    "cancel_request.approved": _order_cancel_schema("one per item with approved units (`cancel_quantity` = the "
                                                    "units approved)"),
    "package.shipped": {"type": "object", "description": "`create-shipment`, sent as POST", "properties": {
        "order_number": _S, "tracking": {"type": "array", "items": {"type": "object", "properties": {
            "is_default": {"type": "boolean"}, "tracking_number": {"type": ["string", "null"]},
            "is_first_mile": {"type": "boolean"}, "carrier": {"type": ["string", "null"]}}}}}},
    "refund.settled": {"type": "object", "properties": {
        "request_id": _S, "refund_number": {"type": ["string", "null"]}, "order_number": _S,
        "status": {"enum": ["success", "failed"]}, "amount": _S, "currency": _S}},
}


def _order_cancel(event: dict[str, Any], index: int, item: dict[str, Any], quantity: int) -> Hook:
    return Hook({"cancel_id": cancel_id(event["id"], index), "order_number": event["order_number"],
                 "cancel_quantity": quantity, "order_item_number": item["line_id"],
                 "reason": _reason(item.get("reason_id"))}, method=ORDER_CANCEL_METHOD)


def _reason(reason_id: int | None) -> str:
    """HG's word for a reason of any channel's catalog, through the shared vocabulary; else `other`."""
    if reason_id in REASON_NAMES:
        return REASON_NAMES[reason_id]
    return CODE_NAMES.get(shared_code(reason_id) or "", "other")


def hook_payloads(event: dict[str, Any]) -> list[dict[str, Any] | Hook]:
    data = event.get("data") or {}
    items = list(enumerate(data.get("items", [])))
    if (event.get("type") == "lines.cancelled" and str(event.get("actor", "")).startswith("seller:")
            and data.get("via") != FACE):
        return [_order_cancel(event, index, item, item["quantity"]) for index, item in items]
    if event.get("type") == "cancel_request.approved":
        return [_order_cancel(event, index, item, item["approved"]) for index, item in items if item["approved"]]
    if event.get("type") == "package.shipped":
        return [{"order_number": event["order_number"],
                 "tracking": [{"is_default": True, "tracking_number": data.get("cargo_tracking_number"),
                               "is_first_mile": False, "carrier": None}]}]
    if event.get("type") == "refund.settled":
        return [{"request_id": data.get("refund_id"), "refund_number": data.get("reference"),
                 "order_number": event["order_number"],
                 "status": "success" if data.get("status") == "succeeded" else "failed",
                 "amount": data.get("amount"), "currency": data.get("currency")}]
    return []


def order_data(order: Order) -> dict[str, Any]:
    return {"order_number": order.order_number, "currency": order.currency, "status": order.status.value,
            "items": [{"order_item_number": ln.line_id, "sku": ln.sku, "quantity": ln.quantity,
                       "cancelled_quantity": ln.ledger.cancelled, "unit_product_price": format(ln.unit_price, "f")}
                      for ln in order.lines]}
