"""Native JSON views of domain objects. Money as strings (exact), times as ISO-8601 UTC."""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from kalem.domain.errors import CursorInvalid
from kalem.domain.orders import CancelRequest, Line, Order, OrderDetails, Package
from kalem.domain.reasons import Reason, StatusType, shared_code


def _money(value: Decimal) -> str:
    return format(value, "f")


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def line_view(line: Line) -> dict[str, Any]:
    return {
        "line_id": line.line_id, "sku": line.sku, "product_id": line.product_id, "barcode": line.barcode,
        "name": line.name, "quantity": line.quantity, "unit_price": _money(line.unit_price),
        "discount": _money(line.discount), "tax_rate": _money(line.tax_rate), "hs_code": line.hs_code,
        "cancelled_quantity": line.ledger.cancelled, "cancellable_quantity": line.cancellable,
        "pending_cancel_quantity": line.ledger.pending_cancel,
        "shipped_quantity": line.ledger.dispatched,
        "ledger": line.ledger.as_dict(),
        "units": [{"first": a, "last": b, "state": s.value} for a, b, s in line.units.runs],
    }


def package_view(package: Package) -> dict[str, Any]:
    return {
        "package_id": package.package_id, "status": package.status.value,
        "cargo_tracking_number": package.cargo_tracking_number, "parent_id": package.parent_id,
        "items": [{"line_id": i.line_id, "quantity": i.quantity, "units": list(i.units.spans)} for i in package.items],
        "history": [{"status": h.status.value, "at": _time(h.at)} for h in package.history],
    }


def order_view(order: Order) -> dict[str, Any]:
    return {
        "id": order.id, "order_number": order.order_number, "seller_id": order.seller_id,
        "account_order_number": order.account_order_number, "channel": order.channel,
        "currency": order.currency, "status": order.status.value, "version": order.version,
        "shipping_amount": _money(order.shipping_amount),
        "created_at": _time(order.created_at), "updated_at": _time(order.updated_at),
        "lines": [line_view(ln) for ln in order.lines],
        "packages": [package_view(p) for p in order.packages],
        **details_view(order.details),
    }


def details_view(details: OrderDetails) -> dict[str, Any]:
    payment = details.payment
    return {
        "customer": asdict(details.customer) if details.customer else None,
        "shipment_address": asdict(details.shipment_address) if details.shipment_address else None,
        "invoice_address": asdict(details.invoice_address) if details.invoice_address else None,
        "payment": None if payment is None else {
            **asdict(payment), "total": None if payment.total is None else _money(payment.total),
            "paid_at": _time(payment.paid_at)},
        "due_date": _time(details.due_date), "seller_name": details.seller_name,
    }


def cancel_request_view(request: CancelRequest) -> dict[str, Any]:
    return {
        "id": request.id, "order_number": request.order_number, "seller_id": request.seller_id,
        "status": request.status.value, "requested_by": request.requested_by,
        "created_at": _time(request.created_at),
        "lines": [{"line_id": i.line_id, "quantity": i.quantity, "reason_id": i.reason_id,
                   "reason_code": shared_code(i.reason_id), "note": i.note,
                   "approved_quantity": i.approved_quantity} for i in request.items],
        "decided_by": request.decided_by, "decided_at": _time(request.decided_at),
        "decision_reason_id": request.decision_reason_id,
        "decision_reason_code": shared_code(request.decision_reason_id, StatusType.CANCEL_REQUEST_DENIED),
        "decision_note": request.decision_note,
    }


def event_view(event: dict[str, Any], order: Order) -> dict[str, Any]:
    return {"id": event["id"], "order_number": order.order_number, "sequence": event["sequence"],
            "type": event["type"], "occurred_at": _time(event["occurred_at"]), "actor": event["actor"],
            "data": event["data"]}


def reason_view(reason: Reason) -> dict[str, Any]:
    return {"id": reason.id, "platform": reason.platform, "status_type": reason.status_type.value,
            "code": reason.code, "name": {"tr": reason.name_tr, "en": reason.name_en}}


def encode_cursor(created_at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if "\x00" in raw:  # no id holds one, and PostgreSQL could not compare it
            raise ValueError("NUL in a cursor")
        created, row_id = raw.split("|", 1)
        datetime.fromisoformat(created)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CursorInvalid("the cursor is not valid", field="cursor") from exc
    return created, row_id
