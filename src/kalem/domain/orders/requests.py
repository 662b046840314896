"""Cancel and return requests: one request type, parameterised by the unit states it moves.

    pending ──approve──▶ approved    granted units: reserved → granted, the others back to where they were
       ├──────reject──▶ rejected    every reserved unit back
       └────withdraw──▶ withdrawn   (cancel requests only)

A request reserves specific units, by number, when it is made (`open → pending_cancel` for a cancel,
`delivered → return_pending` for a return); deciding it moves exactly those units. A partial
approval grants the lowest-numbered of them. Each of these moves is an action of the unit table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from kalem.domain.errors import (
    ApprovalExceedsRequested,
    CancelRequestAlreadyDecided,
    Conflict,
    DuplicateLine,
    InvalidInput,
    LineNotFound,
    NotFound,
    QuantityNotPositive,
)
from kalem.domain.events.event import Actor
from kalem.domain.orders.order import Line, Order
from kalem.domain.orders.units import UnitAction, UnitSet, UnitState, source_of
from kalem.domain.reasons import StatusType, reason
from kalem.domain.states import Machine


class ReturnAlreadyDecided(Conflict):
    code = "return_already_decided"


class LinesRequired(InvalidInput):
    """A request that names no line."""
    code = "lines_required"
    face_code = InvalidInput.code


class RequestLineNotFound(NotFound):
    """A decision that names a line the request does not hold."""
    code = "request_line_not_found"
    face_code = LineNotFound.code


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class RequestKind:
    name: str
    reserve: UnitAction    # what asking does to the units
    grant: UnitAction      # what approving does to the reserved units
    release: UnitAction    # what rejecting (or not approving) does to them
    reason_type: StatusType
    machine: Machine[RequestStatus, Decision]
    id_field: str          # how errors and events name the request

    @property
    def reserved(self) -> UnitState:
        """The state the request's units wait in for the decision."""
        return source_of(self.grant)


_P = RequestStatus.PENDING
CANCEL = RequestKind("cancel request", UnitAction.REQUEST_CANCEL, UnitAction.APPROVE_CANCEL,
                     UnitAction.RELEASE_CANCEL, StatusType.CANCELLED, Machine("cancel request", {
                         (_P, Decision.APPROVE): RequestStatus.APPROVED, (_P, Decision.REJECT): RequestStatus.REJECTED,
                         (_P, Decision.WITHDRAW): RequestStatus.WITHDRAWN}, CancelRequestAlreadyDecided),
                     "cancel_request_id")
RETURN = RequestKind("return", UnitAction.REQUEST_RETURN, UnitAction.APPROVE_RETURN, UnitAction.RELEASE_RETURN,
                     StatusType.RETURNED, Machine("return", {
                         (_P, Decision.APPROVE): RequestStatus.APPROVED,
                         (_P, Decision.REJECT): RequestStatus.REJECTED}, ReturnAlreadyDecided),
                     "return_id")


@dataclass(frozen=True, slots=True)
class AskedUnits:
    """`quantity` units of one line an operation asks for: the ones `numbers` names, and as many more
    as the quantity leaves, the lowest-numbered (so without `numbers`: any `quantity` of them)."""
    line_id: str
    quantity: int
    reason_id: int
    note: str | None = None
    numbers: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()   # how the caller's face names each numbered unit, for errors


@dataclass(frozen=True, slots=True)
class RequestItem:
    line_id: str
    quantity: int
    reason_id: int
    note: str | None = None
    approved_quantity: int | None = None
    units: UnitSet = UnitSet()


@dataclass(frozen=True, slots=True)
class Request:
    kind: RequestKind
    id: str
    order_id: str
    seller_id: str
    order_number: str
    status: RequestStatus
    items: tuple[RequestItem, ...]
    requested_by: str
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason_id: int | None = None
    decision_note: str | None = None


def take(order: Order, asked: Sequence[AskedUnits], action: UnitAction, *,
         reason_type: StatusType, platform: str = "kalem",
         ) -> tuple[dict[str, Line], dict[str, UnitSet]]:
    """Check what is asked (all of it, before anything moves), then the units take `action`.

    Returns the lines after the move and the units taken per line.
    """
    if not asked:
        raise LinesRequired("name at least one line")
    seen: set[str] = set()
    lines = {ln.line_id: ln for ln in order.lines}
    taken: dict[str, UnitSet] = {}
    for item in asked:
        if item.line_id in seen:
            raise DuplicateLine(f"line {item.line_id} appears twice; send it once with the total",
                                line_id=item.line_id)
        seen.add(item.line_id)
        if item.quantity <= 0:
            raise QuantityNotPositive(f"line {item.line_id}: quantity must be at least 1",
                                      line_id=item.line_id, quantity=item.quantity)
        line = order.line(item.line_id)
        reason(item.reason_id, reason_type, platform)
        taken[item.line_id] = line.pick(action, item.quantity, item.numbers, item.labels)
    for line_id, units in taken.items():
        lines[line_id] = lines[line_id].step(units, action)
    return lines, taken


def open_request(order: Order, kind: RequestKind, asked: Sequence[AskedUnits], *, request_id: str,
                 actor: Actor, now: datetime) -> tuple[dict[str, Line], Request]:
    """Reserve the asked units; the request holds their numbers."""
    lines, taken = take(order, asked, kind.reserve, reason_type=kind.reason_type)
    items = tuple(RequestItem(a.line_id, a.quantity, a.reason_id, a.note, units=taken[a.line_id]) for a in asked)
    return lines, Request(kind, request_id, order.id, order.seller_id, order.order_number, RequestStatus.PENDING,
                          items, actor.label, now)


def decide(order: Order, request: Request, decision: Decision, approved: Mapping[str, int] | None = None, *,
           actor: Actor, now: datetime) -> tuple[dict[str, Line], Request, dict[str, UnitSet]]:
    """Take the decision: the request's own units move, nothing else.

    `approved` maps line ids to units granted (lines left out: all of them; only with APPROVE).
    Returns the lines, the decided request and the units granted per line.
    """
    status = _next(request, decision)
    approved = dict(approved or {}) if decision is Decision.APPROVE else {i.line_id: 0 for i in request.items}
    requested = {i.line_id: i.quantity for i in request.items}
    for line_id, n in approved.items():
        if line_id not in requested:
            raise RequestLineNotFound(f"{request.kind.name} {request.id} has no line {line_id}", line_id=line_id)
        if n < 0 or n > requested[line_id]:
            raise ApprovalExceedsRequested(f"line {line_id}: {n} approved, {requested[line_id]} requested",
                                           line_id=line_id, approved=n, requested=requested[line_id])
    kind = request.kind
    lines = {ln.line_id: ln for ln in order.lines}
    granted: dict[str, UnitSet] = {}
    items = []
    for item in request.items:
        line = lines[item.line_id]
        # A request stored before units had numbers holds counts: its units are the lowest reserved.
        held = item.units or line.units_in(kind.reserved).lowest(item.quantity)
        n = approved.get(item.line_id, item.quantity)
        granted[item.line_id] = held.lowest(n)
        line = line.step(granted[item.line_id], kind.grant)
        lines[item.line_id] = line.step(held - granted[item.line_id], kind.release)
        items.append(replace(item, units=held, approved_quantity=n))
    decided = replace(request, status=status, items=tuple(items), decided_by=actor.label, decided_at=now)
    return lines, decided, granted


def ensure_pending(request: Request) -> None:
    """Refuse a decided request with its kind's code (before any other check on a decision)."""
    _next(request, Decision.REJECT)


def _next(request: Request, decision: Decision) -> RequestStatus:
    details: dict[str, Any] = {request.kind.id_field: request.id, "status": request.status.value}
    return request.kind.machine.next(
        request.status, decision, message=f"{request.kind.name} {request.id} is already {request.status}", **details)


def ordered(order: Order, lines: Mapping[str, Line]) -> tuple[Line, ...]:
    return tuple(lines[ln.line_id] for ln in order.lines)
