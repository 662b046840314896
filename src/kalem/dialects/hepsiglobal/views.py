"""HepsiGlobal views: order intake answers and the webhook bodies (HG → marketplace).

`hook_payloads(event)` renders kalem events for a subscription with dialect `hepsiglobal`:
- `lines.cancelled` made by a seller → one `order-cancel` body per item (`PUT /webhooks/order-cancel`):
  `{cancel_id, order_number, cancel_quantity, order_item_number, reason}`. HG's `cancel_id` is a
  number; kalem derives it from the event id and the item's position, so a redelivery carries the
  same id (the marketplace's idempotency key).
- `refund.settled` → the "Refund create result" body (shape NOT DOCUMENTED by HG; kalem's choice):
  `{request_id, refund_number, order_number, status: success|failed, amount, currency}`.
Everything else renders to nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kalem.dialects.hepsiglobal.wire import REASON_NAMES
from kalem.domain.orders import Order


def cancel_id(event_id: str, index: int) -> int:
    return int(hashlib.sha256(f"{event_id}:{index}".encode()).hexdigest()[:12], 16)


_S, _I = {"type": "string"}, {"type": "integer"}
#: The body each event type becomes (the webhook event catalog publishes these).
HOOK_SCHEMAS = {
    "lines.cancelled": {"type": "object", "description": "one body per item; only cancellations made by a seller",
                        "properties": {"cancel_id": _I, "order_number": _S, "cancel_quantity": _I,
                                       "order_item_number": _S, "reason": _S}},
    "refund.settled": {"type": "object", "properties": {
        "request_id": _S, "refund_number": {"type": ["string", "null"]}, "order_number": _S,
        "status": {"enum": ["success", "failed"]}, "amount": _S, "currency": _S}},
}


def hook_payloads(event: dict[str, Any]) -> list[dict[str, Any]]:
    data = event.get("data") or {}
    if event.get("type") == "lines.cancelled" and str(event.get("actor", "")).startswith("seller:"):
        return [{"cancel_id": cancel_id(event["id"], index), "order_number": event["order_number"],
                 "cancel_quantity": item["quantity"], "order_item_number": item["line_id"],
                 "reason": REASON_NAMES.get(item.get("reason_id"), "other")}
                for index, item in enumerate(data.get("items", []))]
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
