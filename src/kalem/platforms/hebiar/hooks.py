"""The hooks Hebiar's OMS sends the operator (Hebiar OMS's webhook documentation), from kalem's events.

One POST per package with `{hookName, packageId, packageType, items[], packageStatusId,
packageStatusName, …}`; `packageId` and `orderItemLineId` carry the source ids. A return is its own
package (`packageType: "Return"`), named by the return request's id. A split's new packages are
announced as Picked; the package split is not (its `Unpacked` state has no OMS counterpart). A cancel made through the
Hebiar face itself is never sent back to Hebiar subscribers.

A seller's decision on a cancel request is a `CancelOrderItemLineConfirmedEvent` for the units it
approved, its package status the package's own (Cancelled once emptied, else what it was), and — when
the seller approved only part of the request — a `CancelOrderItemLineRejectedEvent` for the units it
refused, named in the package that held them when the seller decided.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kalem.domain.orders import PackageStatus
from kalem.domain.reasons import StatusType, reason
from kalem.platforms.hebiar.history import numbers
from kalem.platforms.hebiar.units import PACKAGE_STATUS_NAMES, STATUS_IDS, unit_line_id

if TYPE_CHECKING:
    from kalem.store.uow import UnitOfWork

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
_DECIDED = _schema("CancelOrderItemLineConfirmedEvent", _REASON)
_DECIDED["description"] = ("one body per package: CancelOrderItemLineConfirmedEvent for the units approved, and for "
                           "a partial approval CancelOrderItemLineRejectedEvent for the units refused")
_DECIDED["properties"]["hookName"] = {"enum": ["CancelOrderItemLineConfirmedEvent", "CancelOrderItemLineRejectedEvent"]}
HOOK_SCHEMAS = {"cancel_request.approved": _DECIDED,
                "cancel_request.rejected": _schema("CancelOrderItemLineRejectedEvent", _REASON),
                "lines.cancelled": _CHANGED, "package.split": _CHANGED, "package.approved": _CHANGED,
                "package.shipped": _CHANGED,
                "package.delivered": _CHANGED,
                "return.requested": _schema("ReturnOrderPackageStatusChangedEvent", _CARGO),
                "return.approved": _schema("ReturnOrderPackageConfirmedEvent"),
                "return.rejected": _schema("ReturnOrderPackageRejectedEvent", _REASON)}


def renderer(uow: Callable[[], UnitOfWork]) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """The payload renderer the composition root hands to the webhook worker for dialect `hebiar`: a
    partial approval reads the order's history up to the decision, to name the units it refused."""
    def render(event: dict[str, Any]) -> list[dict[str, Any]]:
        if not partly_refused(event):
            return hook_payloads(event)
        work = uow()
        with work:
            history = work.events.for_order(event["order_id"], limit=event["sequence"])
        return hook_payloads(event, history)
    return render


def partly_refused(event: dict[str, Any]) -> bool:
    """A cancel request approved for fewer units than it asked."""
    return event["type"] == "cancel_request.approved" and any(
        item["approved"] < item["requested"] for item in event["data"]["items"])


def hook_payloads(event: dict[str, Any], history: Iterable[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The Hebiar hooks a kalem event becomes (one per package), or none. `history` is the order's
    events up to this one, needed only when `partly_refused(event)`."""
    kind, data = event["type"], event["data"]
    if kind == "cancel_request.approved":
        confirmed = [_hook("CancelOrderItemLineConfirmedEvent", p["package_id"], SHIP, _units(p["items"]),
                           _name(p["status"]), item_status="Cancelled") for p in data.get("packages", [])]
        refused = [_hook("CancelOrderItemLineRejectedEvent", package_id, SHIP, units, "CancelRequestDenied",
                         item_status="CancelRequestDenied")
                   for package_id, units in refused_units(event, list(history)).items()]
        return confirmed + refused
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


def refused_units(approved: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The unit lines a partial approval refused, by the package holding them at the decision: the
    request's units (its `cancel_request.created`) less the approved ones, followed through the package
    splits made while the request waited."""
    data = approved["data"]
    created = next((e for e in history if e["type"] == "cancel_request.created"
                    and e["data"]["cancel_request_id"] == data["cancel_request_id"]), None)
    if created is None:
        return {}
    granted = {(item["line_id"], n) for item in data["items"] for n in numbers(item)}
    where = {(item["line_id"], n): item["package_id"] for item in created["data"]["items"]
             for n in numbers(item) if (item["line_id"], n) not in granted}
    for event in history:
        if event["type"] == "package.split" and created["sequence"] < event["sequence"] < approved["sequence"]:
            parent = event["data"]["package_id"]
            for child in event["data"]["children"]:
                for item in child["items"]:
                    for n in numbers(item):
                        if where.get((item["line_id"], n)) == parent:
                            where[(item["line_id"], n)] = child["package_id"]
    by_package: dict[str, list[str]] = {}
    for (line_id, n), package_id in sorted(where.items()):
        if package_id is not None:  # a unit in no package has no hook to ride on
            by_package.setdefault(package_id, []).append(unit_line_id(line_id, n))
    return by_package


def _rejected(data: dict[str, Any]) -> list[dict[str, Any]]:
    denial = reason(data["reason_id"], StatusType.CANCEL_REQUEST_DENIED)
    by_package: dict[str, list[dict[str, Any]]] = {}
    for item in data["items"]:
        by_package.setdefault(item["package_id"], []).append(item)
    return [_hook("CancelOrderItemLineRejectedEvent", package_id, SHIP, _units(items), "CancelRequestDenied",
                  item_status="CancelRequestDenied", why=(denial.id, denial.name_tr, data.get("note") or ""))
            for package_id, items in by_package.items()]
