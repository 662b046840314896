"""Cancelling units: directly, or by a request that the seller approves or rejects.

Pending requests reserve their units (`open → pending_cancel`), so two requests can never ask for
the same unit and a direct cancel never takes a unit someone else is waiting on. A cancel names
units by number or asks for any N of them (the lowest-numbered open units).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from kalem.domain.events.cancels import (
    ApprovedCancel,
    CancelledLine,
    CancelRequestApproved,
    CancelRequestCreated,
    CancelRequestRejected,
    CancelRequestWithdrawn,
    LinesCancelled,
    ReleasedUnits,
    RequestedCancel,
)
from kalem.domain.events.event import Actor, Event
from kalem.domain.events.parts import LeftPackage, PackageUnits
from kalem.domain.orders import requests
from kalem.domain.orders.order import Line, Order, Package
from kalem.domain.orders.packages import Action, transition
from kalem.domain.orders.requests import CANCEL, AskedUnits, Decision, Request
from kalem.domain.orders.units import UnitAction, UnitSet
from kalem.domain.reasons import StatusType, reason

#: What a cancel asks for (`numbers` names units; else any `quantity` open ones).
CancelItem = AskedUnits
#: A request of kind CANCEL.
CancelRequest = Request


def cancel_lines(order: Order, items: Sequence[CancelItem], *, actor: Actor, now: datetime,
                 platform: str = "kalem", via: str | None = None) -> tuple[Order, list[Event]]:
    """Cancel open units at once; all lines or none. `via` names the face the cancel came through when
    that face's subscribers must not hear it back (it is recorded on the event)."""
    lines, taken = requests.take(order, items, UnitAction.CANCEL, reason_type=StatusType.CANCELLED,
                                 platform=platform)
    packages, touched = unpack_cancelled(order.packages, taken, now)
    recorder = order.recorder(actor, now)
    recorder.record(LinesCancelled(
        items=tuple([_cancelled(i, lines[i.line_id], taken[i.line_id]) for i in items]), packages=touched,
        via=via or None))
    return order.evolve(recorder, lines=requests.ordered(order, lines), packages=packages)


def request_cancel(order: Order, items: Sequence[CancelItem], *, request_id: str, actor: Actor,
                   now: datetime) -> tuple[Order, CancelRequest, list[Event]]:
    """Reserve the units and put a request on the seller's queue."""
    lines, request = requests.open_request(order, CANCEL, items, request_id=request_id, actor=actor, now=now)
    recorder = order.recorder(actor, now)
    recorder.record(CancelRequestCreated(cancel_request_id=request_id, items=tuple(
        RequestedCancel(i.line_id, i.quantity, i.reason_id, i.note, lines[i.line_id].ledger.cancelled, r.units.spans,
                        _holding_package(order, i.line_id, r.units))
        for i, r in zip(items, request.items, strict=True))))
    new_order, events = order.evolve(recorder, lines=requests.ordered(order, lines))
    return new_order, request, events


def approve_cancel_request(order: Order, request: CancelRequest, quantities: Mapping[str, int] | None,
                           *, actor: Actor, now: datetime,
                           note: str | None = None) -> tuple[Order, CancelRequest, list[Event]]:
    """Cancel what the seller approves (the lowest-numbered units of the request for a partial
    approval); units not approved go back to open. `note` is the seller's word on the decision.

    `quantities` maps line ids to the units approved; lines it leaves out are approved in full,
    and `None` approves the whole request.
    """
    lines, decided, granted = requests.decide(order, request, Decision.APPROVE, quantities, actor=actor, now=now)
    decided = replace(decided, decision_note=note)
    packages, touched = unpack_cancelled(order.packages, granted, now)
    recorder = order.recorder(actor, now)
    recorder.record(CancelRequestApproved(cancel_request_id=request.id, items=tuple(
        ApprovedCancel(i.line_id, i.quantity, i.approved_quantity, i.reason_id, i.note,  # type: ignore[arg-type]
                       lines[i.line_id].ledger.cancelled, granted[i.line_id].spans) for i in decided.items),
        packages=touched, note=note))
    new_order, events = order.evolve(recorder, lines=requests.ordered(order, lines), packages=packages)
    return new_order, decided, events


def reject_cancel_request(order: Order, request: CancelRequest, *, reason_id: int, note: str | None,
                          actor: Actor, now: datetime) -> tuple[Order, CancelRequest, list[Event]]:
    """Give the reserved units back; the decision carries a denial reason."""
    lines, decided, _ = requests.decide(order, request, Decision.REJECT, actor=actor, now=now)
    denial = reason(reason_id, StatusType.CANCEL_REQUEST_DENIED)
    new_order, events = _released(order, lines, actor, now, CancelRequestRejected(
        cancel_request_id=decided.id, items=_released_units(order, decided, lines), reason_id=denial.id, note=note))
    return new_order, replace(decided, decision_reason_id=denial.id, decision_note=note), events


def withdraw_cancel_request(order: Order, request: CancelRequest, *, actor: Actor,
                            now: datetime) -> tuple[Order, CancelRequest, list[Event]]:
    lines, decided, _ = requests.decide(order, request, Decision.WITHDRAW, actor=actor, now=now)
    new_order, events = _released(order, lines, actor, now, CancelRequestWithdrawn(
        cancel_request_id=decided.id, items=_released_units(order, decided, lines)))
    return new_order, decided, events


def _released(order: Order, lines: Mapping[str, Line], actor: Actor, now: datetime,
              event: CancelRequestRejected | CancelRequestWithdrawn) -> tuple[Order, list[Event]]:
    recorder = order.recorder(actor, now)
    recorder.record(event)
    return order.evolve(recorder, lines=requests.ordered(order, lines))


def _released_units(order: Order, decided: CancelRequest, lines: Mapping[str, Line]) -> tuple[ReleasedUnits, ...]:
    return tuple(ReleasedUnits(i.line_id, i.quantity, i.reason_id, _holding_package(order, i.line_id, i.units),
                               i.units.spans, lines[i.line_id].ledger.as_dict()) for i in decided.items)


def _cancelled(item: CancelItem, line_after: Line, units: UnitSet) -> CancelledLine:
    return CancelledLine(item.line_id, item.quantity, item.reason_id, item.note, line_after.ledger.cancelled,
                         units.spans)


def unpack_cancelled(packages: tuple[Package, ...], cancelled: Mapping[str, UnitSet],
                     now: datetime) -> tuple[tuple[Package, ...], tuple[LeftPackage, ...]]:
    """Take cancelled units out of the unshipped packages holding them; an emptied package is Cancelled
    (and keeps its items as they were: a cancelled package shows what it held).

    Returns the packages and, for the events, which units left which package.
    """
    result = list(packages)
    touched: list[LeftPackage] = []
    for index, package in enumerate(packages):
        if not package.unshipped:
            continue
        items, taken = package.items, []
        for line_id, units in cancelled.items():
            leaving = package.units_of(line_id) & units
            if leaving:
                items = replace(package, items=items).without(line_id, leaving)
                taken.append(PackageUnits(line_id, len(leaving), leaving.spans))
        if not taken:
            continue
        result[index] = replace(package, items=items) if items else transition(package, Action.CANCEL, now)
        touched.append(LeftPackage(package.package_id, result[index].status.value, tuple(taken)))
    return tuple(result), tuple(touched)


def _holding_package(order: Order, line_id: str, units: UnitSet) -> str | None:
    """The package the reserved units sit in (for events about them)."""
    package = order.live_package_of(line_id, next(iter(units))) if units else None
    return package.package_id if package else None
