"""Aggregates to JSON and back. Money travels as strings, times as ISO-8601."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from kalem.domain.events import current_data
from kalem.domain.orders import (
    CANCEL,
    NO_DETAILS,
    Address,
    Customer,
    Line,
    Order,
    OrderDetails,
    Package,
    PackageStatus,
    PackedUnits,
    Payment,
    Request,
    RequestItem,
    RequestKind,
    RequestStatus,
    StatusChange,
    Units,
    UnitSet,
)
from kalem.store.unnumbered_orders import is_unnumbered, numbered


def dumps(value: Any) -> str:
    """Compact JSON, as kalem has always written it (fingerprints and intake hashes are of this text)."""
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)


# Datetimes and dataclasses go to `_default` as `json` sends them, not orjson's own encodings.
_BODY_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def stored_json(value: Any) -> str:
    """A stored body (an order, its events' data, a request, billing, a refund): the very text `dumps`
    writes, by orjson, several times faster. kalem's bodies hold strings, integers, Decimals,
    datetimes, lists, dicts, None and booleans, never floats (money is Decimal): for those the two
    encoders agree byte for byte (tests/test_stored_json.py holds them to it). What orjson refuses
    (an integer beyond 64 bits, a key that is not a string) is written by `dumps`."""
    try:
        return orjson.dumps(value, default=_default, option=_BODY_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return dumps(value)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def load_event_data(event_type: str, stored: str) -> dict[str, Any]:
    """An event row's `data` as the current version writes it (an older row is upcast)."""
    return current_data(event_type, json.loads(stored))


def order_body(order: Order) -> str:
    return stored_json(order_fields(order))


def order_fields(order: Order) -> dict[str, Any]:
    """What an order's stored body holds, before encoding."""
    return ({
        **({} if order.details.empty else {"details": asdict(order.details)}),
        "currency": order.currency,
        "shipping_amount": order.shipping_amount,
        "attributes": order.attributes,
        "lines": [
            [ln.line_id, ln.sku, ln.name, ln.quantity, ln.unit_price, ln.discount, ln.tax_rate,
             ln.units.as_list(), ln.product_id, ln.barcode, ln.hs_code]
            for ln in order.lines
        ],
        # The n11 package index's triggers read this layout in SQL (id, status, the last history entry's
        # time): change it only with a migration that rewrites them (0016_n11_packages).
        "packages": [
            [p.package_id, p.status.value, [[i.line_id, i.units.as_list()] for i in p.items],
             [[h.status.value, h.at] for h in p.history], p.cargo_tracking_number, p.parent_id]
            for p in order.packages
        ],
    })


def load_order(row: Any) -> Order:
    """An order as stored; one stored before units had numbers (counts only) is numbered on load."""
    body = json.loads(row.body)
    if is_unnumbered(body):
        body = numbered(body)
    return Order(
        id=row.id, seller_id=row.seller_id, order_number=row.order_number,
        currency=body["currency"],
        lines=tuple(
            Line(lid, sku, name, qty, Decimal(price), Decimal(disc), Decimal(tax), Units.from_list(runs), pid, bc, hs)
            for lid, sku, name, qty, price, disc, tax, runs, pid, bc, hs in body["lines"]
        ),
        packages=tuple(
            Package(pid, PackageStatus(status), tuple(PackedUnits(a, UnitSet.join(map(tuple, b))) for a, b in items),
                    tuple(StatusChange(PackageStatus(s), datetime.fromisoformat(at)) for s, at in history),
                    ctn, parent)
            for pid, status, items, history, ctn, parent in body["packages"]
        ),
        created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at),
        shipping_amount=Decimal(body["shipping_amount"]),
        account_order_number=row.account_order_number, channel=row.channel,
        version=row.version, last_sequence=row.last_sequence, attributes=body.get("attributes") or {},
        details=_details(body.get("details")),
    )


def _details(raw: dict[str, Any] | None) -> OrderDetails:
    if not raw:
        return NO_DETAILS
    payment = raw.get("payment")
    if payment is not None:
        payment = Payment(**{**payment, "total": None if payment["total"] is None else Decimal(payment["total"]),
                             "paid_at": _time(payment["paid_at"])})
    return OrderDetails(
        customer=Customer(**raw["customer"]) if raw.get("customer") else None,
        shipment_address=Address(**raw["shipment_address"]) if raw.get("shipment_address") else None,
        invoice_address=Address(**raw["invoice_address"]) if raw.get("invoice_address") else None,
        payment=payment, due_date=_time(raw.get("due_date")), seller_name=raw.get("seller_name"))


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def request_body(request: Request) -> str:
    return stored_json(request_fields(request))


def request_fields(request: Request) -> dict[str, Any]:
    """What a request's stored body holds, before encoding."""
    return ({
        "items": [[i.line_id, i.quantity, i.reason_id, i.note, i.approved_quantity, i.units.as_list()]
                  for i in request.items],
        "requested_by": request.requested_by,
        "decided_by": request.decided_by,
        "decided_at": request.decided_at,
        "decision_reason_id": request.decision_reason_id,
        "decision_note": request.decision_note,
    })


def load_request(row: Any, kind: RequestKind = CANCEL) -> Request:
    """A cancel or return request; one stored before units had numbers holds counts only."""
    body = json.loads(row.body)
    return Request(
        kind=kind, id=row.id, order_id=row.order_id, seller_id=row.seller_id, order_number=row.order_number,
        status=RequestStatus(row.status),
        items=tuple(RequestItem(line_id, quantity, reason_id, note, approved,
                                UnitSet.join(map(tuple, units[0])) if units else UnitSet())
                    for line_id, quantity, reason_id, note, approved, *units in body["items"]),
        requested_by=body["requested_by"], created_at=as_utc(row.created_at),
        decided_by=body["decided_by"],
        decided_at=datetime.fromisoformat(body["decided_at"]) if body["decided_at"] else None,
        decision_reason_id=body["decision_reason_id"], decision_note=body["decision_note"],
    )


def as_utc(value: datetime | str) -> datetime:
    """SQLite hands times back naive (or as text); everything kalem stores is UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
