"""Returns of delivered units, and the rule that one operation is a cancellation or a return.

    delivered ──request──▶ return_pending ──approve──▶ returned
                                 └────────reject─────▶ delivered
    delivered ──return_directly (an operator's return, Akinon's cancel after delivery)──▶ returned

Returned units stay in their (Delivered) package: the package records what was shipped, the
units what became of it. A unit in transit (`shipped`, not yet delivered) can be neither
cancelled nor returned. A return names units by number or takes any N delivered ones (the
lowest-numbered).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from kalem.domain.errors import InvalidInput, NotFound
from kalem.domain.events.event import Actor, Event
from kalem.domain.events.returns import LinesReturned, ReturnApproved, ReturnedUnits, ReturnRejected, ReturnRequested
from kalem.domain.orders import requests
from kalem.domain.orders.order import Line, Order
from kalem.domain.orders.requests import RETURN, AskedUnits, Decision, Request
from kalem.domain.orders.units import UnitAction, refuse, source_of
from kalem.domain.reasons import StatusType, reason


class MixedCancelAndReturn(InvalidInput):
    code = "mixed_cancel_and_return"


class ReturnNotFound(NotFound):
    code = "return_not_found"


class UnitsRequired(InvalidInput):
    """An operation on units that names none."""
    code = "units_required"
    face_code = InvalidInput.code


class Operation(StrEnum):
    CANCEL = "cancel"
    RETURN = "return"

    @property
    def action(self) -> UnitAction:
        """What the operation does to each unit it takes."""
        return _ACTION_OF[self]


_ACTION_OF = {Operation.CANCEL: UnitAction.CANCEL, Operation.RETURN: UnitAction.RETURN}


#: What a return asks for (`numbers` names units; else any `quantity` delivered ones).
ReturnItem = AskedUnits
#: A request of kind RETURN.
ReturnRequest = Request


def request_return(order: Order, items: Sequence[ReturnItem], *, return_id: str, actor: Actor,
                   now: datetime) -> tuple[Order, ReturnRequest, list[Event]]:
    """Reserve delivered units for a return the seller decides: `delivered → return_pending`."""
    lines, request = requests.open_request(order, RETURN, items, request_id=return_id, actor=actor, now=now)
    recorder = order.recorder(actor, now)
    recorder.record(ReturnRequested(return_id=return_id, items=_returned(request, lines)))
    changed, events = order.evolve(recorder, lines=requests.ordered(order, lines))
    return changed, request, events


def approve_return(order: Order, request: ReturnRequest, *, actor: Actor,
                   now: datetime) -> tuple[Order, ReturnRequest, list[Event]]:
    lines, decided, _ = requests.decide(order, request, Decision.APPROVE, actor=actor, now=now)
    recorder = order.recorder(actor, now)
    recorder.record(ReturnApproved(return_id=request.id, items=_returned(decided, lines)))
    changed, events = order.evolve(recorder, lines=requests.ordered(order, lines))
    return changed, decided, events


def reject_return(order: Order, request: ReturnRequest, *, reason_id: int, note: str | None, actor: Actor,
                  now: datetime) -> tuple[Order, ReturnRequest, list[Event]]:
    """The units go back to `delivered`; the decision carries a return-denied reason."""
    lines, decided, _ = requests.decide(order, request, Decision.REJECT, actor=actor, now=now)
    denial = reason(reason_id, StatusType.RETURN_REQUEST_DENIED)
    decided = replace(decided, decision_reason_id=denial.id, decision_note=note)
    recorder = order.recorder(actor, now)
    recorder.record(ReturnRejected(return_id=request.id, reason_id=denial.id, note=note,
                                   items=_returned(decided, lines)))
    changed, events = order.evolve(recorder, lines=requests.ordered(order, lines))
    return changed, decided, events


def return_directly(order: Order, items: Sequence[ReturnItem], *, actor: Actor,
                    now: datetime) -> tuple[Order, list[Event]]:
    """An operator's return without a seller decision: `delivered → returned` at once."""
    lines, taken = requests.take(order, items, UnitAction.RETURN, reason_type=StatusType.RETURNED)
    recorder = order.recorder(actor, now)
    recorder.record(LinesReturned(items=tuple(
        ReturnedUnits(i.line_id, i.quantity, i.reason_id, i.note, taken[i.line_id].spans,
                      lines[i.line_id].ledger.as_dict()) for i in items)))
    return order.evolve(recorder, lines=requests.ordered(order, lines))


def _returned(request: ReturnRequest, lines: Mapping[str, Line]) -> tuple[ReturnedUnits, ...]:
    return tuple(ReturnedUnits(i.line_id, i.quantity, i.reason_id, i.note, i.units.spans,
                               lines[i.line_id].ledger.as_dict()) for i in request.items)


# --- units named one by one ---------------------------------------------------------------------
_OPERATION_OF = {source_of(operation.action): operation for operation in Operation}


def classify_units(order: Order, units: Sequence[tuple[str, int]],
                   labels: Sequence[str] | None = None) -> tuple[Operation, dict[str, tuple[int, ...]]]:
    """(line id, unit number) pairs → one operation and the unit numbers per line it takes.

    Open units are cancelled, delivered units returned; naming both in one call is refused
    (Akinon: "either the cancellation or return process for the entire order"), as is naming a
    unit that can be neither. `labels` name the units in errors (a face's own ids).
    """
    if not units:
        raise UnitsRequired("name at least one unit")
    kinds: dict[Operation, list[str]] = {}
    numbers: dict[str, list[int]] = {}
    for index, (line_id, n) in enumerate(units):
        label = labels[index] if labels else f"{line_id}-{n}"
        state = order.line(line_id).state_of(n)
        if state not in _OPERATION_OF:
            raise refuse(state, label)
        kinds.setdefault(_OPERATION_OF[state], []).append(label)
        numbers.setdefault(line_id, []).append(n)
    if len(kinds) > 1:
        raise MixedCancelAndReturn(
            "one operation either cancels unshipped units or returns delivered ones, never both",
            cancel=kinds[Operation.CANCEL], ret=kinds[Operation.RETURN])
    return next(iter(kinds)), {line_id: tuple(ns) for line_id, ns in numbers.items()}


def live_units(order: Order) -> list[tuple[str, int]]:
    """Every unit that could still be cancelled or returned (open or delivered), for "all of it"."""
    return [(ln.line_id, n) for ln in order.lines for n in ln.cancellable_units() | ln.returnable_units()]
