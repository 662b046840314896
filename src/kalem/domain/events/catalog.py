"""Every event type kalem records, what it means and the keys of its `data`.

Subscriptions are checked against this list, `GET /v1/webhook-event-types` and the OpenAPI
`webhooks` section publish it, and a test holds it equal to what the domain records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_DEC = {"type": "string", "description": "decimal amount, e.g. \"12.50\""}
_ARR = {"type": "array", "items": {"type": "object"}}
_LEDGER = {"type": "object", "description": "units by state: open, pending_cancel, cancelled, shipped, …"}
_UNITS = {"type": "array", "items": {"type": "array", "items": _INT, "minItems": 2, "maxItems": 2},
          "description": "the unit numbers concerned, as [first, last] spans"}
_ITEM = {"type": "object", "properties": {"line_id": _STR, "quantity": _INT, "reason_id": _INT, "note": _NSTR,
                                          "units": _UNITS}}


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    description: str
    data: dict[str, dict[str, Any]]

    def data_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": self.data, "additionalProperties": True}


_TYPES = (
    EventType("order.placed", "An order was ingested.",
              {"lines": {"type": "array", "items": {"type": "object",
                                                     "properties": {"line_id": _STR, "quantity": _INT}}}}),
    EventType("order.cancelled", "The whole order was cancelled (Zonos `orderCancel`).", {}),
    EventType("lines.cancelled", "Units of one or more lines were cancelled directly (or by a package split).",
              {"items": {"type": "array", "items": _ITEM}, "packages": _ARR, "via": _STR, "platform": _STR}),
    EventType("cancel_request.created", "A cancel request reserves units until the seller decides.",
              {"cancel_request_id": _STR, "items": {"type": "array", "items": _ITEM}}),
    EventType("cancel_request.approved", "The seller approved a cancel request, in full or in part.",
              {"cancel_request_id": _STR, "note": _NSTR, "packages": _ARR,
               "items": {"type": "array", "items": {"type": "object", "properties": {
                   "line_id": _STR, "requested": _INT, "approved": _INT, "reason_id": _INT,
                   "cancelled_total": _INT, "units": _UNITS}}}}),
    EventType("cancel_request.rejected", "The seller rejected a cancel request; the units are open again.",
              {"cancel_request_id": _STR, "reason_id": _INT, "note": _NSTR, "items": _ARR}),
    EventType("cancel_request.withdrawn", "The requester withdrew a pending cancel request.",
              {"cancel_request_id": _STR, "items": _ARR}),
    EventType("package.split", "A package was split by quantity into new packages.",
              {"package_id": _STR, "children": _ARR, "cancelled": _ARR}),
    EventType("package.approved", "A package moved to picking.",
              {"package_id": _STR, "status": _STR, "previous": _STR, "items": _ARR}),
    EventType("package.shipped", "A package left the warehouse.",
              {"package_id": _STR, "status": _STR, "previous": _STR, "cargo_tracking_number": _NSTR,
               "items": _ARR}),
    EventType("package.delivered", "A package reached the customer.",
              {"package_id": _STR, "status": _STR, "previous": _STR, "items": _ARR}),
    EventType("return.requested", "The customer asked to return delivered units.",
              {"return_id": _STR, "items": _ARR}),
    EventType("return.approved", "A return was approved; the units count as returned.",
              {"return_id": _STR, "items": _ARR}),
    EventType("return.rejected", "A return was rejected with a denial reason.",
              {"return_id": _STR, "reason_id": _INT, "note": _NSTR, "items": _ARR}),
    EventType("lines.returned", "An operator returned delivered units directly, without a return request.",
              {"items": _ARR}),
    EventType("refund.created", "A refund was opened; it awaits settlement by the payment provider.",
              {"refund_id": _STR, "status": _STR, "cause": _STR, "amount": _DEC, "currency": _STR,
               "lines": _ARR, "method": _STR, "iban_masked": _NSTR, "reference": _NSTR, "return_id": _NSTR}),
    EventType("refund.settled", "A refund succeeded or failed at the payment provider.",
              {"refund_id": _STR, "status": _STR, "amount": _DEC, "currency": _STR, "reference": _NSTR}),
    EventType("refund.recorded", "A refund of billed amounts was recorded (Zonos `orderRefundCreate`).",
              {"refund_id": _STR, "amount": _DEC, "note": _NSTR, "subtotals": _ARR}),
    EventType("landed_cost.recomputed", "The order's landed cost changed (items, shipping, duties, taxes, fees).",
              {"landed_cost_id": _STR, "total": _DEC, "items": _DEC, "shipping": _DEC, "duties": _DEC,
               "taxes": _DEC, "fees": _DEC}),
    EventType("invoice.issued", "The order's invoice was issued.",
              {"invoice_number": _STR, "total": _DEC, "amount_due": _DEC}),
    EventType("invoice.revised", "An unpaid invoice was revised to a new total.",
              {"invoice_number": _STR, "revision": _INT, "previous_total": _DEC, "total": _DEC,
               "amount_due": _DEC, "reason": _STR}),
    EventType("invoice.charged", "An invoice was charged.",
              {"invoice_number": _STR, "revision": _INT, "amount": _DEC}),
    EventType("credit_note.issued", "A paid invoice's total went down: a credit note was issued.",
              {"credit_note_number": _STR, "invoice_number": _STR, "amount": _DEC, "reason": _STR}),
    EventType("credit_note.applied", "A credit note was applied to an invoice.",
              {"credit_note_number": _STR, "invoice_number": _STR, "amount": _DEC}),
    EventType("credit_note.released", "An applied credit note was released again.",
              {"credit_note_number": _STR, "invoice_number": _STR, "amount": _DEC}),
)

EVENT_TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}
