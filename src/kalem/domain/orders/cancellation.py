"""Cancelling units: directly, or by a request that the seller approves or rejects.

Pending requests reserve their units (`open → pending_cancel`), so two requests can never ask for
the same unit and a direct cancel never takes a unit someone else is waiting on. A cancel names
units by number or asks for any N of them (the lowest-numbered open units).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from kalem.domain.events.event import Actor, Event
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
    recorder.record("lines.cancelled", items=[_item_data(i, lines[i.line_id], taken[i.line_id]) for i in items],
                    packages=touched, **({"via": via} if via else {}))
    return order.evolve(recorder, lines=requests.ordered(order, lines), packages=packages)


def request_cancel(order: Order, items: Sequence[CancelItem], *, request_id: str, actor: Actor,
                   now: datetime) -> tuple[Order, CancelRequest, list[Event]]:
    """Reserve the units and put a request on the seller's queue."""
    lines, request = requests.open_request(order, CANCEL, items, request_id=request_id, actor=actor, now=now)
    recorder = order.recorder(actor, now)
    recorder.record("cancel_request.created", cancel_request_id=request_id,
                    items=[{**_item_data(i, lines[i.line_id], r.units),
                            "package_id": _holding_package(order, i.line_id, r.units)}
                           for i, r in zip(items, request.items, strict=True)])
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
    recorder.record("cancel_request.approved", cancel_request_id=request.id,
                    items=[{"line_id": i.line_id, "requested": i.quantity, "approved": i.approved_quantity,
                            "reason_id": i.reason_id, "note": i.note,
                            "cancelled_total": lines[i.line_id].ledger.cancelled,
                            "units": granted[i.line_id].as_list()} for i in decided.items],
                    packages=touched, note=note)
    new_order, events = order.evolve(recorder, lines=requests.ordered(order, lines), packages=packages)
    return new_order, decided, events


def reject_cancel_request(order: Order, request: CancelRequest, *, reason_id: int, note: str | None,
                          actor: Actor, now: datetime) -> tuple[Order, CancelRequest, list[Event]]:
    """Give the reserved units back; the decision carries a denial reason."""
    lines, decided, _ = requests.decide(order, request, Decision.REJECT, actor=actor, now=now)
    denial = reason(reason_id, StatusType.CANCEL_REQUEST_DENIED)
    new_order, events = _released(order, decided, lines, actor, now, "cancel_request.rejected",
                                  reason_id=denial.id, note=note)
    return new_order, replace(decided, decision_reason_id=denial.id, decision_note=note), events


def withdraw_cancel_request(order: Order, request: CancelRequest, *, actor: Actor,
                            now: datetime) -> tuple[Order, CancelRequest, list[Event]]:
    lines, decided, _ = requests.decide(order, request, Decision.WITHDRAW, actor=actor, now=now)
    new_order, events = _released(order, decided, lines, actor, now, "cancel_request.withdrawn")
    return new_order, decided, events


def _released(order: Order, decided: CancelRequest, lines: Mapping[str, Line], actor: Actor, now: datetime,
              event: str, **data: object) -> tuple[Order, list[Event]]:
    recorder = order.recorder(actor, now)
    recorder.record(event, cancel_request_id=decided.id,
                    items=[{"line_id": i.line_id, "quantity": i.quantity, "reason_id": i.reason_id,
                            "package_id": _holding_package(order, i.line_id, i.units), "units": i.units.as_list(),
                            "ledger": lines[i.line_id].ledger.as_dict()} for i in decided.items], **data)
    return order.evolve(recorder, lines=requests.ordered(order, lines))


def _item_data(item: CancelItem, line_after: Line, units: UnitSet) -> dict[str, object]:
    return {"line_id": item.line_id, "quantity": item.quantity, "reason_id": item.reason_id, "note": item.note,
            "cancelled_total": line_after.ledger.cancelled, "units": units.as_list()}


def unpack_cancelled(packages: tuple[Package, ...], cancelled: Mapping[str, UnitSet],
                     now: datetime) -> tuple[tuple[Package, ...], list[dict[str, object]]]:
    """Take cancelled units out of the unshipped packages holding them; an emptied package is Cancelled
    (and keeps its items as they were: a cancelled package shows what it held).

    Returns the packages and, for the events, which units left which package.
    """
    result = list(packages)
    touched: list[dict[str, object]] = []
    for index, package in enumerate(packages):
        if not package.unshipped:
            continue
        items, taken = package.items, []
        for line_id, units in cancelled.items():
            leaving = package.units_of(line_id) & units
            if leaving:
                items = replace(package, items=items).without(line_id, leaving)
                taken.append({"line_id": line_id, "quantity": len(leaving), "units": leaving.as_list()})
        if not taken:
            continue
        result[index] = replace(package, items=items) if items else transition(package, Action.CANCEL, now)
        touched.append({"package_id": package.package_id, "status": result[index].status.value, "items": taken})
    return tuple(result), touched


def _holding_package(order: Order, line_id: str, units: UnitSet) -> str | None:
    """The package the reserved units sit in (for events about them)."""
    package = order.live_package_of(line_id, next(iter(units))) if units else None
    return package.package_id if package else None
