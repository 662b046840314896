"""Hebiar read models (GetOrderPackages) and webhook payloads, derived from kalem's order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from kalem.dialects.hebiar.units import PACKAGE_STATUS_NAMES, STATUS_IDS, unit_line_id
from kalem.domain.ledger import UnitState
from kalem.domain.orders import Order, Package, PackageStatus
from kalem.domain.reasons import StatusType, reason

def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _units_by_package(order: Order) -> dict[str, dict[str, list[tuple[int, UnitState]]]]:
    """Which units of each line each package shows: a live package its own; a cancelled unit shows in
    the Cancelled package it was cancelled with, else in the first package that held its line."""
    shown: dict[str, dict[str, list[tuple[int, UnitState]]]] = {p.package_id: {} for p in order.packages}
    for line in order.lines:
        homeless = line.units_in(UnitState.CANCELLED)
        for package in order.packages:
            units = package.units_of(line.line_id)
            if package.status is PackageStatus.CANCELLED:
                units &= homeless
                homeless -= units
            elif not package.live:
                continue
            if units:
                shown[package.package_id][line.line_id] = [(n, line.state_of(n)) for n in units]
        home = next((p for p in order.packages if p.quantity_of(line.line_id)), None)
        if homeless and home is not None:
            units = shown[home.package_id].setdefault(line.line_id, [])
            units.extend((n, UnitState.CANCELLED) for n in homeless)
            units.sort()
    return shown


def packages_view(order: Order) -> Iterator[dict[str, Any]]:
    units = _units_by_package(order)
    for index, package in enumerate(order.packages, start=1):
        yield _package_view(order, package, index, units[package.package_id])


def _package_view(order: Order, package: Package, index: int,
                  units: dict[str, list[tuple[int, UnitState]]]) -> dict[str, Any]:
    lines = []
    total = Decimal(0)
    for line in order.lines:
        shown = units.get(line.line_id)
        if not shown:
            continue
        unit_total = line.unit_price - line.discount / line.quantity
        total += unit_total * len(shown)
        lines.append({
            "quantity": len(shown), "productName": line.name, "sku": line.sku, "barcode": line.barcode,
            "productPrice": float(line.unit_price), "listPrice": float(line.unit_price), "currency": order.currency,
            "discountDetails": ([{"discountTypeId": 1, "couponCode": None, "discountId": None,
                                  "amount": float(line.discount), "realAmount": float(line.discount),
                                  "discountName": "line discount", "discountCode": None}] if line.discount else []),
            "itemLines": [_unit_view(order, package, line.line_id, n, state, unit_total) for n, state in shown],
        })
    name = PACKAGE_STATUS_NAMES[package.status]
    return {
        "id": index, "sourcePackageId": package.package_id, "orderNumber": order.order_number,
        "status": name, "statusId": STATUS_IDS.get(name),
        "packageHistories": [{"createdDate": _time(h.at), "status": PACKAGE_STATUS_NAMES[h.status]}
                             for h in package.history],
        "cargoTrackingNumber": package.cargo_tracking_number, "cargoTrackingLink": None, "cargoCode": None,
        "cargoKey": None, "cargoBarcode": None, "cargoName": None, "parcels": [],
        "orderDate": _time(order.created_at), "lastModifiedDate": _time(order.updated_at),
        "totalListPrice": float(total), "totalProductPrice": float(total),
        "vendorCode": order.seller_id, "channelCode": order.channel, "channelName": order.channel,
        "lines": lines,
    }


def _unit_view(order: Order, package: Package, line_id: str, n: int, state: UnitState,
               unit_total: Decimal) -> dict[str, Any]:
    unshipped = package.unshipped
    return {
        "id": None, "sourceOrderItemLineId": unit_line_id(line_id, n), "sourceOrderItemId": line_id,
        "orderItemId": None, "orderId": order.id, "sku": order.line(line_id).sku,
        "barcode": order.line(line_id).barcode, "vendorId": order.seller_id,
        "lastPackageId": package.package_id, "lastPackageItemId": None, "quantity": 1,
        "saleTotal": float(unit_total), "isReturn": state in (UnitState.RETURNED, UnitState.RETURN_PENDING),
        "returnReason": None, "returnReasonDesc": None, "isCancel": state is UnitState.CANCELLED,
        "rejectReason": None, "rejectReasonDesc": None,
        "isAvaibleCancelRequest": unshipped and state is UnitState.OPEN,
        "isAvaibleReturnRequest": state is UnitState.DELIVERED, "returnLineAttachments": [],
    }


# --- webhooks ---------------------------------------------------------------------------------

_HOOK_ITEM = {"type": "object", "properties": {
    "orderItemLineId": {"type": "string"}, "packageItemStatusId": {"type": "integer"},
    "packageItemStatusName": {"type": "string"}, "packageItemStatusReasonId": {"type": "integer"},
    "packageItemStatusReasonName": {"type": "string"}, "packageItemStatusReasonDesc": {"type": "string"}}}


def _hook_schema(name: str) -> dict[str, Any]:
    return {"type": "object", "description": "one body per package", "properties": {
        "hookName": {"const": name}, "packageId": {"type": "string"}, "packageType": {"type": "string"},
        "items": {"type": "array", "items": _HOOK_ITEM}, "packageStatusId": {"type": "integer"},
        "packageStatusName": {"type": "string"}}}


#: The body each event type becomes (the webhook event catalog publishes these).
HOOK_SCHEMAS = {"cancel_request.approved": _hook_schema("CancelOrderItemLineConfirmedEvent"),
                "cancel_request.rejected": _hook_schema("CancelOrderItemLineRejectedEvent")}


def hook_payloads(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The Hebiar hooks a native event becomes (one per package), or none."""
    data = event["data"]
    if event["type"] == "cancel_request.approved":
        return [_confirmed(package) for package in data.get("packages", [])]
    if event["type"] == "cancel_request.rejected":
        return _rejected(data)
    return []


def _confirmed(package: dict[str, Any]) -> dict[str, Any]:
    units = [unit_line_id(taken["line_id"], n) for taken in package["items"] for n in _numbers(taken)]
    status = "Cancelled" if package["status"] == PackageStatus.CANCELLED.value else \
        PACKAGE_STATUS_NAMES[PackageStatus(package["status"])]
    return {
        "hookName": "CancelOrderItemLineConfirmedEvent", "packageId": package["package_id"],
        "packageType": "ShipToCustomer",
        "items": [{"orderItemLineId": u, "packageItemStatusId": STATUS_IDS["Cancelled"],
                   "packageItemStatusName": "Cancelled"} for u in units],
        "packageStatusId": STATUS_IDS[status], "packageStatusName": status,
    }


def _numbers(item: dict[str, Any]) -> list[int]:
    """The unit numbers an event item names (its `units` spans)."""
    return [n for first, last in item.get("units", ()) for n in range(first, last + 1)]


def _rejected(data: dict[str, Any]) -> list[dict[str, Any]]:
    denial = reason(data["reason_id"], StatusType.CANCEL_REQUEST_DENIED)
    why = {"packageItemStatusReasonId": denial.id, "packageItemStatusReasonName": denial.name_tr,
           "packageItemStatusReasonDesc": data.get("note") or ""}
    by_package: dict[str, list[dict[str, Any]]] = {}
    for item in data["items"]:
        by_package.setdefault(item["package_id"], []).append(item)
    hooks = []
    for package_id, items in by_package.items():
        hooks.append({
            "hookName": "CancelOrderItemLineRejectedEvent", "packageId": package_id, "packageType": "ShipToCustomer",
            "items": [{"orderItemLineId": unit, "packageItemStatusId": STATUS_IDS["CancelRequestDenied"],
                       "packageItemStatusName": "CancelRequestDenied", **why}
                      for item in items for unit in (unit_line_id(item["line_id"], n) for n in _numbers(item))],
            "packageStatusId": STATUS_IDS["CancelRequestDenied"], "packageStatusName": "CancelRequestDenied",
            "packageStatusReasonId": denial.id, "packageStatusReasonName": denial.name_tr,
            "packageStatusReasonDesc": data.get("note") or "",
        })
    return hooks
