"""Cancelling units: directly, or by a request that the seller approves or rejects.

Pending requests reserve their units (`open → pending_cancel`), so two requests can never ask for
the same unit and a direct cancel never takes a unit someone else is waiting on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from kalem.domain.errors import (
    ApprovalExceedsRequested,
    CancelRequestAlreadyDecided,
    DuplicateLine,
    InvalidInput,
    LineNotFound,
    QuantityExceedsCancellable,
    QuantityNotPositive,
)
from kalem.domain.events import Actor, Event
from kalem.domain.ledger import UnitState
from kalem.domain.orders import Line, Order, Package, PackageItem, PackageStatus, StatusChange
from kalem.domain.reasons import StatusType, reason


@dataclass(frozen=True, slots=True)
class CancelItem:
    line_id: str
    quantity: int
    reason_id: int
    note: str | None = None


class CancelRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class CancelRequestItem:
    line_id: str
    quantity: int
    reason_id: int
    note: str | None = None
    approved_quantity: int | None = None


@dataclass(frozen=True, slots=True)
class CancelRequest:
    id: str
    order_id: str
    seller_id: str
    order_number: str
    status: CancelRequestStatus
    items: tuple[CancelRequestItem, ...]
    requested_by: str
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason_id: int | None = None
    decision_note: str | None = None


def cancel_lines(order: Order, items: Sequence[CancelItem], *, actor: Actor, now: datetime,
                 platform: str = "kalem") -> tuple[Order, list[Event]]:
    """Cancel open units at once; all lines or none."""
    lines = _checked(order, items, platform)
    for item in items:
        _ensure_cancellable(lines[item.line_id], item.quantity)
        lines[item.line_id] = _move(lines[item.line_id], UnitState.OPEN, UnitState.CANCELLED, item.quantity)
    packages, touched = _unpack_cancelled(order.packages, {i.line_id: i.quantity for i in items}, now)
    recorder = order.recorder(actor, now)
    recorder.record("lines.cancelled", items=[_item_data(i, lines[i.line_id]) for i in items], packages=touched)
    return order.evolve(recorder, lines=_ordered(order, lines), packages=packages)


def request_cancel(order: Order, items: Sequence[CancelItem], *, request_id: str, actor: Actor,
                   now: datetime) -> tuple[Order, CancelRequest, list[Event]]:
    """Reserve the units and put a request on the seller's queue."""
    lines = _checked(order, items, "kalem")
    for item in items:
        _ensure_cancellable(lines[item.line_id], item.quantity)
        lines[item.line_id] = _move(lines[item.line_id], UnitState.OPEN, UnitState.PENDING_CANCEL, item.quantity)
    request = CancelRequest(
        id=request_id, order_id=order.id, seller_id=order.seller_id, order_number=order.order_number,
        status=CancelRequestStatus.PENDING,
        items=tuple(CancelRequestItem(i.line_id, i.quantity, i.reason_id, i.note) for i in items),
        requested_by=actor.label, created_at=now,
    )
    recorder = order.recorder(actor, now)
    recorder.record("cancel_request.created", cancel_request_id=request_id,
                    items=[{**_item_data(i, lines[i.line_id]), "package_id": _holding_package(order, i.line_id)}
                           for i in items])
    new_order, events = order.evolve(recorder, lines=_ordered(order, lines))
    return new_order, request, events


def approve_cancel_request(order: Order, request: CancelRequest, quantities: Mapping[str, int] | None,
                           *, actor: Actor, now: datetime,
                           note: str | None = None) -> tuple[Order, CancelRequest, list[Event]]:
    """Cancel what the seller approves; units not approved go back to open.

    `quantities` maps line ids to the units approved; lines it leaves out are approved in full,
    and `None` approves the whole request.
    """
    _ensure_pending(request)
    quantities = dict(quantities or {})
    requested = {i.line_id: i.quantity for i in request.items}
    for line_id, qty in quantities.items():
        if line_id not in requested:
            raise LineNotFound(f"cancel request {request.id} has no line {line_id}", line_id=line_id)
        if qty < 0 or qty > requested[line_id]:
            raise ApprovalExceedsRequested(
                f"line {line_id}: {qty} approved, {requested[line_id]} requested",
                line_id=line_id, approved=qty, requested=requested[line_id])
    lines = {ln.line_id: ln for ln in order.lines}
    approved: dict[str, int] = {}
    decided_items = []
    for item in request.items:
        n = quantities.get(item.line_id, item.quantity)
        approved[item.line_id] = n
        line = _move(lines[item.line_id], UnitState.PENDING_CANCEL, UnitState.CANCELLED, n)
        lines[item.line_id] = _move(line, UnitState.PENDING_CANCEL, UnitState.OPEN, item.quantity - n)
        decided_items.append(replace(item, approved_quantity=n))
    decided = replace(request, status=CancelRequestStatus.APPROVED, items=tuple(decided_items),
                      decided_by=actor.label, decided_at=now, decision_note=note)
    packages, touched = _unpack_cancelled(order.packages, approved, now)
    recorder = order.recorder(actor, now)
    recorder.record("cancel_request.approved", cancel_request_id=request.id,
                    items=[{"line_id": i.line_id, "requested": i.quantity, "approved": i.approved_quantity,
                            "reason_id": i.reason_id, "note": i.note,
                            "cancelled_total": lines[i.line_id].ledger.cancelled} for i in decided_items],
                    packages=touched, note=note)
    new_order, events = order.evolve(recorder, lines=_ordered(order, lines), packages=packages)
    return new_order, decided, events


def reject_cancel_request(order: Order, request: CancelRequest, *, reason_id: int, note: str | None,
                          actor: Actor, now: datetime) -> tuple[Order, CancelRequest, list[Event]]:
    """Give the reserved units back; the decision carries a denial reason."""
    _ensure_pending(request)
    denial = reason(reason_id, StatusType.CANCEL_REQUEST_DENIED)
    new_order, decided, events = _release(order, request, CancelRequestStatus.REJECTED, actor, now,
                                          "cancel_request.rejected", reason_id=denial.id, note=note)
    return new_order, replace(decided, decision_reason_id=denial.id, decision_note=note), events


def withdraw_cancel_request(order: Order, request: CancelRequest, *, actor: Actor,
                            now: datetime) -> tuple[Order, CancelRequest, list[Event]]:
    _ensure_pending(request)
    return _release(order, request, CancelRequestStatus.WITHDRAWN, actor, now, "cancel_request.withdrawn")


def _release(order: Order, request: CancelRequest, status: CancelRequestStatus, actor: Actor,
             now: datetime, event: str, **data: object) -> tuple[Order, CancelRequest, list[Event]]:
    lines = {ln.line_id: ln for ln in order.lines}
    for item in request.items:
        lines[item.line_id] = _move(lines[item.line_id], UnitState.PENDING_CANCEL, UnitState.OPEN, item.quantity)
    decided = replace(request, status=status, decided_by=actor.label, decided_at=now,
                      items=tuple(replace(i, approved_quantity=0) for i in request.items))
    recorder = order.recorder(actor, now)
    recorder.record(event, cancel_request_id=request.id,
                    items=[{"line_id": i.line_id, "quantity": i.quantity, "reason_id": i.reason_id,
                            "package_id": _holding_package(order, i.line_id),
                            "ledger": lines[i.line_id].ledger.as_dict()} for i in request.items], **data)
    new_order, events = order.evolve(recorder, lines=_ordered(order, lines))
    return new_order, decided, events


def _checked(order: Order, items: Sequence[CancelItem], platform: str) -> dict[str, Line]:
    if not items:
        raise InvalidInput("name at least one line to cancel")
    seen: set[str] = set()
    for item in items:
        if item.line_id in seen:
            raise DuplicateLine(f"line {item.line_id} appears twice; send it once with the total",
                                line_id=item.line_id)
        seen.add(item.line_id)
        if item.quantity <= 0:
            raise QuantityNotPositive(f"line {item.line_id}: quantity must be at least 1",
                                      line_id=item.line_id, quantity=item.quantity)
        order.line(item.line_id)
        reason(item.reason_id, StatusType.CANCELLED, platform)
    return {ln.line_id: ln for ln in order.lines}


def _ensure_cancellable(line: Line, quantity: int) -> None:
    if quantity > line.cancellable:
        raise QuantityExceedsCancellable(
            f"line {line.line_id}: {quantity} requested, {line.cancellable} cancellable",
            line_id=line.line_id, requested=quantity, cancellable=line.cancellable,
        )


def _ensure_pending(request: CancelRequest) -> None:
    if request.status is not CancelRequestStatus.PENDING:
        raise CancelRequestAlreadyDecided(f"cancel request {request.id} is already {request.status}",
                                          cancel_request_id=request.id, status=request.status.value)


def _move(line: Line, source: UnitState, target: UnitState, units: int) -> Line:
    return replace(line, ledger=line.ledger.move(source, target, units)) if units else line


def _ordered(order: Order, lines: Mapping[str, Line]) -> tuple[Line, ...]:
    return tuple(lines[ln.line_id] for ln in order.lines)


def _item_data(item: CancelItem, line_after: Line) -> dict[str, object]:
    return {"line_id": item.line_id, "quantity": item.quantity, "reason_id": item.reason_id, "note": item.note,
            "cancelled_total": line_after.ledger.cancelled}


_UNPACK_ORDER = (PackageStatus.CREATED, PackageStatus.PICKING)


def _unpack_cancelled(packages: tuple[Package, ...], cancelled: Mapping[str, int],
                      now: datetime) -> tuple[tuple[Package, ...], list[dict[str, object]]]:
    """Take cancelled units out of unshipped packages, newest first; an emptied package is Cancelled.

    Returns the packages and, for the events, which units left which package.
    """
    remaining = {k: v for k, v in cancelled.items() if v}
    result = list(packages)
    touched: list[dict[str, object]] = []
    for index in reversed(range(len(result))):
        package = result[index]
        if package.status not in _UNPACK_ORDER or not remaining:
            continue
        items, taken = [], []
        for item in package.items:
            take = min(item.quantity, remaining.get(item.line_id, 0))
            if take:
                remaining[item.line_id] -= take
                taken.append({"line_id": item.line_id, "quantity": take})
            if item.quantity - take:
                items.append(PackageItem(item.line_id, item.quantity - take))
        if not taken:
            continue
        if items:
            result[index] = replace(package, items=tuple(items))
        else:  # keep the items as they were: a cancelled package shows what it held
            result[index] = replace(package, status=PackageStatus.CANCELLED,
                                    history=package.history + (StatusChange(PackageStatus.CANCELLED, now),))
        touched.append({"package_id": package.package_id, "status": result[index].status.value, "items": taken})
    # Open units always sit in unshipped packages, so every cancelled unit was found above.
    assert not any(remaining.values()), remaining
    return tuple(result), touched


def _holding_package(order: Order, line_id: str) -> str | None:
    """The unshipped package a line's open or reserved units sit in (for events about them)."""
    for package in order.packages:
        if package.status in _UNPACK_ORDER and package.quantity_of(line_id):
            return package.package_id
    return None
