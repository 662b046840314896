"""Returns of delivered units, and the rule that one operation is a cancellation or a return.

    delivered ──request──▶ return_pending ──approve──▶ returned
                                 └────────reject─────▶ delivered
    delivered ──return_directly (an operator's return, Akinon's cancel after delivery)──▶ returned

Returned units stay in their (Delivered) package: the package records what was shipped, the
ledger what became of it. A unit in transit (`shipped`, not yet delivered) can be neither
cancelled nor returned.

Units of a line are interchangeable and counted, not tracked one by one. Faces that name single
units (Akinon's per-unit order-item pks) see them in one canonical layout, `UNIT_LAYOUT`: a line's
units sorted by state along the life cycle. Every ledger move kalem makes goes between neighbours
of that layout (open→pending_cancel→cancelled, open→shipped→delivered→return_pending→returned), so a
unit keeps its place — and its state as a face shows it — when others change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from kalem.domain.errors import Conflict, DuplicateLine, InvalidInput, NotFound, QuantityNotPositive
from kalem.domain.events import Actor, Event
from kalem.domain.ledger import UnitState
from kalem.domain.orders import Line, Order
from kalem.domain.reasons import StatusType, reason


# --- errors -------------------------------------------------------------------------------------
class UnitsNotReturnable(Conflict):
    code = "units_not_returnable"


class MixedCancelAndReturn(InvalidInput):
    code = "mixed_cancel_and_return"


class UnitAlreadyCancelled(Conflict):
    code = "unit_already_cancelled"


class UnitAlreadyReturned(Conflict):
    code = "unit_already_returned"


class UnitPendingDecision(Conflict):
    code = "unit_pending_decision"


class UnitInTransit(Conflict):
    code = "unit_in_transit"


class ReturnNotFound(NotFound):
    code = "return_not_found"


class ReturnAlreadyDecided(Conflict):
    code = "return_already_decided"


# --- model --------------------------------------------------------------------------------------
class ReturnStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Operation(StrEnum):
    CANCEL = "cancel"
    RETURN = "return"


@dataclass(frozen=True, slots=True)
class ReturnItem:
    line_id: str
    quantity: int
    reason_id: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    id: str
    order_id: str
    seller_id: str
    order_number: str
    status: ReturnStatus
    items: tuple[ReturnItem, ...]
    requested_by: str
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason_id: int | None = None
    decision_note: str | None = None


# --- returns ------------------------------------------------------------------------------------
def request_return(order: Order, items: Sequence[ReturnItem], *, return_id: str, actor: Actor,
                   now: datetime) -> tuple[Order, ReturnRequest, list[Event]]:
    """Reserve delivered units for a return the seller decides: `delivered → return_pending`."""
    lines = _moved(order, items, UnitState.DELIVERED, UnitState.RETURN_PENDING)
    request = ReturnRequest(return_id, order.id, order.seller_id, order.order_number, ReturnStatus.PENDING,
                            tuple(items), actor.label, now)
    recorder = order.recorder(actor, now)
    recorder.record("return.requested", return_id=return_id, items=_items_data(items, lines))
    changed, events = order.evolve(recorder, lines=_ordered(order, lines))
    return changed, request, events


def approve_return(order: Order, request: ReturnRequest, *, actor: Actor,
                   now: datetime) -> tuple[Order, ReturnRequest, list[Event]]:
    _ensure_pending(request)
    lines = _moved(order, request.items, UnitState.RETURN_PENDING, UnitState.RETURNED, check_reasons=False)
    decided = replace(request, status=ReturnStatus.APPROVED, decided_by=actor.label, decided_at=now)
    recorder = order.recorder(actor, now)
    recorder.record("return.approved", return_id=request.id, items=_items_data(request.items, lines))
    changed, events = order.evolve(recorder, lines=_ordered(order, lines))
    return changed, decided, events


def reject_return(order: Order, request: ReturnRequest, *, reason_id: int, note: str | None, actor: Actor,
                  now: datetime) -> tuple[Order, ReturnRequest, list[Event]]:
    """The units go back to `delivered`; the decision carries a return-denied reason."""
    _ensure_pending(request)
    denial = reason(reason_id, StatusType.RETURN_REQUEST_DENIED)
    lines = _moved(order, request.items, UnitState.RETURN_PENDING, UnitState.DELIVERED, check_reasons=False)
    decided = replace(request, status=ReturnStatus.REJECTED, decided_by=actor.label, decided_at=now,
                      decision_reason_id=denial.id, decision_note=note)
    recorder = order.recorder(actor, now)
    recorder.record("return.rejected", return_id=request.id, reason_id=denial.id, note=note,
                    items=_items_data(request.items, lines))
    changed, events = order.evolve(recorder, lines=_ordered(order, lines))
    return changed, decided, events


def return_directly(order: Order, items: Sequence[ReturnItem], *, actor: Actor,
                    now: datetime) -> tuple[Order, list[Event]]:
    """An operator's return without a seller decision: `delivered → returned` at once."""
    lines = _moved(order, items, UnitState.DELIVERED, UnitState.RETURNED)
    recorder = order.recorder(actor, now)
    recorder.record("lines.returned", items=_items_data(items, lines))
    return order.evolve(recorder, lines=_ordered(order, lines))


def _moved(order: Order, items: Sequence[ReturnItem], source: UnitState, target: UnitState, *,
           check_reasons: bool = True) -> dict[str, Line]:
    if not items:
        raise InvalidInput("name at least one line to return")
    lines = {ln.line_id: ln for ln in order.lines}
    seen: set[str] = set()
    for item in items:
        if item.line_id in seen:
            raise DuplicateLine(f"line {item.line_id} appears twice; send it once with the total",
                                line_id=item.line_id)
        seen.add(item.line_id)
        if item.quantity <= 0:
            raise QuantityNotPositive(f"line {item.line_id}: quantity must be at least 1", line_id=item.line_id)
        line = order.line(item.line_id)
        if check_reasons:
            reason(item.reason_id, StatusType.RETURNED)
        have = line.ledger.count(source)
        if item.quantity > have:
            raise UnitsNotReturnable(
                f"line {item.line_id}: {item.quantity} units asked, {have} {source.value}",
                line_id=item.line_id, requested=item.quantity, available=have, state=source.value)
        lines[item.line_id] = replace(line, ledger=line.ledger.move(source, target, item.quantity))
    return lines


def _ensure_pending(request: ReturnRequest) -> None:
    if request.status is not ReturnStatus.PENDING:
        raise ReturnAlreadyDecided(f"return {request.id} is already {request.status}",
                                   return_id=request.id, status=request.status.value)


def _ordered(order: Order, lines: Mapping[str, Line]) -> tuple[Line, ...]:
    return tuple(lines[ln.line_id] for ln in order.lines)


def _items_data(items: Sequence[ReturnItem], lines: Mapping[str, Line]) -> list[dict[str, object]]:
    return [{"line_id": i.line_id, "quantity": i.quantity, "reason_id": i.reason_id, "note": i.note,
             "ledger": lines[i.line_id].ledger.as_dict()} for i in items]


# --- units one by one ---------------------------------------------------------------------------
UNIT_LAYOUT = (UnitState.CANCELLED, UnitState.PENDING_CANCEL, UnitState.OPEN, UnitState.SHIPPED,
               UnitState.DELIVERED, UnitState.RETURN_PENDING, UnitState.RETURNED)


def unit_states(line: Line) -> list[UnitState]:
    """The state of unit 0 .. quantity-1 of a line in the canonical layout."""
    return [state for state in UNIT_LAYOUT for _ in range(line.ledger.count(state))]


_REFUSED = {
    UnitState.CANCELLED: (UnitAlreadyCancelled, "is already cancelled"),
    UnitState.PENDING_CANCEL: (UnitPendingDecision, "waits for a decision on a cancel request"),
    UnitState.RETURN_PENDING: (UnitPendingDecision, "waits for a decision on a return"),
    UnitState.RETURNED: (UnitAlreadyReturned, "is already returned"),
    UnitState.SHIPPED: (UnitInTransit, "is in transit: it can be returned once delivered"),
}


def classify_units(order: Order, units: Sequence[tuple[str, int]],
                   labels: Sequence[str] | None = None) -> tuple[Operation, dict[str, int]]:
    """(line id, unit index) pairs → one operation and the units per line it takes.

    Open units are cancelled, delivered units returned; naming both in one call is refused
    (Akinon: "either the cancellation or return process for the entire order"), as is naming a
    unit that can be neither. `labels` name the units in errors (a face's own ids).
    """
    if not units:
        raise InvalidInput("name at least one unit")
    states = {ln.line_id: unit_states(ln) for ln in order.lines}
    kinds: dict[Operation, list[str]] = {}
    counts: dict[str, int] = {}
    for index, (line_id, unit) in enumerate(units):
        label = labels[index] if labels else f"{line_id}#{unit + 1}"
        state = states[order.line(line_id).line_id][unit]
        if state in _REFUSED:
            error, why = _REFUSED[state]
            raise error(f"unit {label} {why}", unit=label, state=state.value)
        kinds.setdefault(Operation.CANCEL if state is UnitState.OPEN else Operation.RETURN, []).append(label)
        counts[line_id] = counts.get(line_id, 0) + 1
    if len(kinds) > 1:
        raise MixedCancelAndReturn(
            "one operation either cancels unshipped units or returns delivered ones, never both",
            cancel=kinds[Operation.CANCEL], ret=kinds[Operation.RETURN])
    return next(iter(kinds)), counts


def live_units(order: Order) -> list[tuple[str, int]]:
    """Every unit that could still be cancelled or returned (open or delivered), for "all of it"."""
    return [(ln.line_id, i) for ln in order.lines for i, s in enumerate(unit_states(ln))
            if s in (UnitState.OPEN, UnitState.DELIVERED)]
