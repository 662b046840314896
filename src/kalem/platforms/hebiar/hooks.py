"""The hooks Hebiar's OMS sends the operator (Hebiar OMS's webhook documentation), from kalem's events.

One POST per package with `{hookName, packageId, packageType, items[], packageStatusId,
packageStatusName, …}`; `packageId` and `orderItemLineId` carry the source ids. A return is its own
package (`packageType: "Return"`), named by the return request's id. A split's new packages are
announced as Picked; the package split is not (its `Unpacked` state has no OMS counterpart). A cancel made through the
Hebiar face itself is never sent back to Hebiar subscribers.
"""

from __future__ import annotations

from typing import Any

from kalem.domain.orders import PackageStatus
from kalem.domain.reasons import StatusType, reason
from kalem.platforms.hebiar.history import numbers
from kalem.platforms.hebiar.units import PACKAGE_STATUS_NAMES, STATUS_IDS, unit_line_id

#: `via` on a kalem event made through this face: its subscribers made the change and do not hear it back.
FACE = "hebiar"
SHIP, RETURN = "ShipToCustomer", "Return"

_ITEM = {"type": "object", "properties": {
    "orderItemLineId": {"type": "string"}, "packageItemStatusId": {"type": "integer"},
    "packageItemStatusName": {"type": "string"}, "packageItemStatusReasonId": {"type": "integer"},
    "packageItemStatusReasonName": {"type": "string"}, "packageItemStatusReasonDesc": {"type": "string"}}}
_NSTR = {"type": ["string", "null"]}
_CARGO = {"cargoCompanyName": _NSTR, "cargoKey": _NSTR, "cargoTrackingUrl": _NSTR, "estimatedDate": _NSTR}
_REASON = {"packageStatusReasonId": {"type": "integer"}, "packageStatusReasonName": {"type": "string"},
           "packageStatusReasonDesc": {"type": "string"}}


def _schema(name: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "description": "one body per package", "properties": {
        "hookName": {"const": name}, "packageId": {"type": "string"}, "packageType": {"type": "string"},
        "items": {"type": "array", "items": _ITEM}, "packageStatusId": {"type": "integer"},
        "packageStatusName": {"type": "string"}, **(extra or {})}}


_CHANGED = _schema("OrderPackageStatusChangedEvent", _CARGO)
#: The body each event type becomes (the webhook event catalog publishes these).
HOOK_SCHEMAS = {"cancel_request.approved": _schema("CancelOrderItemLineConfirmedEvent"),
                "cancel_request.rejected": _schema("CancelOrderItemLineRejectedEvent", _REASON),
                "lines.cancelled": _CHANGED, "package.split": _CHANGED, "package.approved": _CHANGED,
                "package.shipped": _CHANGED,
                "package.delivered": _CHANGED,
                "return.requested": _schema("ReturnOrderPackageStatusChangedEvent", _CARGO),
                "return.approved": _schema("ReturnOrderPackageConfirmedEvent"),
                "return.rejected": _schema("ReturnOrderPackageRejectedEvent", _REASON)}


def hook_payloads(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The Hebiar hooks a kalem event becomes (one per package), or none."""
    kind, data = event["type"], event["data"]
    if kind == "cancel_request.approved":
        return [_hook("CancelOrderItemLineConfirmedEvent", p["package_id"], SHIP, _units(p["items"]), "Cancelled",
                      item_status="Cancelled") for p in data.get("packages", [])]
    if kind == "cancel_request.rejected":
        return _rejected(data)
    if kind == "lines.cancelled" and data.get("via") != FACE:
        return [_hook("OrderPackageStatusChangedEvent", p["package_id"], SHIP, _units(p["items"]),
                      _name(p["status"]), item_status="Cancelled", cargo=True) for p in data.get("packages", [])]
    if kind == "package.split":  # the new packages are Picked; cancelled units come with lines.cancelled
        return [_hook("OrderPackageStatusChangedEvent", child["package_id"], SHIP, _units(child["items"]), "Picked",
                      item_status="Picked", cargo=True, cargo_key=child.get("cargo_tracking_number"))
                for child in data.get("children", []) if child["status"] == PackageStatus.PICKING.value]
    if kind in ("package.approved", "package.shipped", "package.delivered"):
        name = _name(data["status"])
        return [_hook("OrderPackageStatusChangedEvent", data["package_id"], SHIP, _units(data["items"]), name,
                      item_status=name, cargo=True, cargo_key=data.get("cargo_tracking_number"))]
    if kind == "return.requested":
        return [_hook("ReturnOrderPackageStatusChangedEvent", data["return_id"], RETURN, _units(data["items"]),
                      "Created", item_status="Created", cargo=True)]
    if kind == "return.approved":
        return [_hook("ReturnOrderPackageConfirmedEvent", data["return_id"], RETURN, _units(data["items"]),
                      "Returned", item_status="Returned")]
    if kind == "return.rejected":
        denial = reason(data["reason_id"], StatusType.RETURN_REQUEST_DENIED)
        return [_hook("ReturnOrderPackageRejectedEvent", data["return_id"], RETURN, _units(data["items"]),
                      "ReturnedRequestDenied", item_status="ReturnedRequestDenied",
                      why=(denial.id, denial.name_tr, data.get("note") or ""))]
    return []


def _name(status: str) -> str:
    return PACKAGE_STATUS_NAMES[PackageStatus(status)]


def _units(items: list[dict[str, Any]]) -> list[str]:
    return [unit_line_id(item["line_id"], n) for item in items for n in numbers(item)]


def _hook(name: str, package_id: str, package_type: str, units: list[str], status: str, *, item_status: str,
          why: tuple[int, str, str] | None = None, cargo: bool = False,
          cargo_key: str | None = None) -> dict[str, Any]:
    """One hook body; `why` adds the reason fields, `cargo` the cargo fields."""
    reason_of = {} if why is None else dict(zip(("ReasonId", "ReasonName", "ReasonDesc"), why, strict=True))
    hook: dict[str, Any] = {
        "hookName": name, "packageId": package_id, "packageType": package_type,
        "items": [{"orderItemLineId": u, "packageItemStatusId": STATUS_IDS[item_status],
                   "packageItemStatusName": item_status,
                   **{f"packageItemStatus{k}": v for k, v in reason_of.items()}} for u in units],
        "packageStatusId": STATUS_IDS[status], "packageStatusName": status,
        **{f"packageStatus{k}": v for k, v in reason_of.items()},
    }
    if cargo:  # kalem knows a package's tracking number only: it is the cargo key
        hook |= {"cargoCompanyName": None, "cargoKey": cargo_key, "cargoTrackingUrl": None, "estimatedDate": None}
    return hook


def _rejected(data: dict[str, Any]) -> list[dict[str, Any]]:
    denial = reason(data["reason_id"], StatusType.CANCEL_REQUEST_DENIED)
    by_package: dict[str, list[dict[str, Any]]] = {}
    for item in data["items"]:
        by_package.setdefault(item["package_id"], []).append(item)
    return [_hook("CancelOrderItemLineRejectedEvent", package_id, SHIP, _units(items), "CancelRequestDenied",
                  item_status="CancelRequestDenied", why=(denial.id, denial.name_tr, data.get("note") or ""))
            for package_id, items in by_package.items()]
