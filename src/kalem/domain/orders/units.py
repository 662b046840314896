"""Units with identity: every unit of a line has a number, 1..quantity, for its whole life, and a state.

A line keeps its units as runs of consecutive numbers in one state, so a change costs the same on a
1,000-unit line as on a 3-unit one. Packages hold unit numbers (`UnitSet`), and every face maps its
own ids onto these numbers (Hebiar `<line_id>-<n>`, Akinon per-unit item pks, n11 order-line parts).

"Any N units" — a cancel, request, split or return that gives a count and names no unit — always
takes **the lowest-numbered units in the state it needs** (open to cancel, delivered to return).

A request that names units is checked unit by unit: a unit outside the line, or in a state the
operation cannot take, is refused with its own code and nothing changes.

A unit's life is one table (`TRANSITIONS`): every change of a unit's state is an action the table
allows from the state it is in, taken by `Units.step`; anything else is refused
(`UnitActionNotAllowed`, an `IllegalTransition`).

    open ──request_cancel──▶ pending_cancel ──approve_cancel──▶ cancelled
    open ◀──release_cancel── pending_cancel
    open ──cancel──▶ cancelled
    open ──ship──▶ shipped ──deliver──▶ delivered
    delivered ──request_return──▶ return_pending ──approve_return──▶ returned
    delivered ◀──release_return── return_pending
    delivered ──return──▶ returned
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kalem.domain.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from kalem.domain.states import Machine


class UnitState(StrEnum):
    OPEN = "open"
    PENDING_CANCEL = "pending_cancel"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURN_PENDING = "return_pending"
    RETURNED = "returned"


class UnitAction(StrEnum):
    CANCEL = "cancel"                    # a direct cancel (or a split's)
    REQUEST_CANCEL = "request_cancel"    # a cancel request reserves the unit
    APPROVE_CANCEL = "approve_cancel"
    RELEASE_CANCEL = "release_cancel"    # the request is rejected, withdrawn, or approved without it
    SHIP = "ship"                        # its package ships
    DELIVER = "deliver"                  # its package is delivered
    REQUEST_RETURN = "request_return"    # a return request reserves the unit
    APPROVE_RETURN = "approve_return"
    RELEASE_RETURN = "release_return"    # the return is rejected
    RETURN = "return"                    # an operator's return, without a request


_U, _A = UnitState, UnitAction
#: A unit's whole life: (state, action) → next state. Each action leaves from one state only.
TRANSITIONS: Mapping[tuple[UnitState, UnitAction], UnitState] = {
    (_U.OPEN, _A.CANCEL): _U.CANCELLED,
    (_U.OPEN, _A.REQUEST_CANCEL): _U.PENDING_CANCEL,
    (_U.PENDING_CANCEL, _A.APPROVE_CANCEL): _U.CANCELLED,
    (_U.PENDING_CANCEL, _A.RELEASE_CANCEL): _U.OPEN,
    (_U.OPEN, _A.SHIP): _U.SHIPPED,
    (_U.SHIPPED, _A.DELIVER): _U.DELIVERED,
    (_U.DELIVERED, _A.REQUEST_RETURN): _U.RETURN_PENDING,
    (_U.RETURN_PENDING, _A.APPROVE_RETURN): _U.RETURNED,
    (_U.RETURN_PENDING, _A.RELEASE_RETURN): _U.DELIVERED,
    (_U.DELIVERED, _A.RETURN): _U.RETURNED,
}


class UnitActionNotAllowed(IllegalTransition):
    """A unit asked to take an action its state does not allow (the table's refusal)."""
    code = "unit_action_not_allowed"
    face_code = IllegalTransition.code


class UnitNotOnLine(IllegalTransition):
    """A unit number beyond the line's quantity, asked to take an action."""
    code = "unit_not_on_line"
    face_code = IllegalTransition.code


MACHINE: Machine[UnitState, UnitAction] = Machine("unit", TRANSITIONS, UnitActionNotAllowed)
_SOURCE = {action: state for (state, action) in TRANSITIONS}


def source_of(action: UnitAction) -> UnitState:
    """The one state a unit takes `action` from."""
    return _SOURCE[action]


#: Units still in the warehouse: open, or reserved by a cancel request.
UNSHIPPED_STATES = frozenset({UnitState.OPEN, UnitState.PENDING_CANCEL})


# --- errors: a named unit the operation cannot take ----------------------------------------------
class UnitNotFound(NotFound):
    code = "unit_not_found"


class DuplicateUnit(InvalidInput):
    code = "duplicate_unit"


class UnitsNotReturnable(Conflict):
    code = "units_not_returnable"


class UnitAlreadyCancelled(Conflict):
    code = "unit_already_cancelled"


class UnitPendingDecision(Conflict):
    code = "unit_pending_decision"


class UnitInTransit(Conflict):
    code = "unit_in_transit"


class UnitAlreadyDelivered(Conflict):
    code = "unit_already_delivered"


class UnitAlreadyReturned(Conflict):
    code = "unit_already_returned"


class UnitNotDelivered(Conflict):
    code = "unit_not_delivered"


#: Why a unit in each state cannot be taken; OPEN units refused only by a return.
REFUSED: dict[UnitState, tuple[type[Conflict], str]] = {
    UnitState.CANCELLED: (UnitAlreadyCancelled, "is already cancelled"),
    UnitState.PENDING_CANCEL: (UnitPendingDecision, "waits for a decision on a cancel request"),
    UnitState.RETURN_PENDING: (UnitPendingDecision, "waits for a decision on a return"),
    UnitState.RETURNED: (UnitAlreadyReturned, "is already returned"),
    UnitState.SHIPPED: (UnitInTransit, "is in transit: it can be returned once delivered"),
    UnitState.DELIVERED: (UnitAlreadyDelivered, "is delivered: it can be returned, not cancelled"),
    UnitState.OPEN: (UnitNotDelivered, "is not delivered yet: it can be cancelled, not returned"),
}


def refuse(state: UnitState, label: str) -> Conflict:
    error, why = REFUSED[state]
    return error(f"unit {label} {why}", unit=label, state=state.value)


# --- sets of unit numbers -------------------------------------------------------------------------
Span = tuple[int, int]   # first..last, inclusive


@dataclass(frozen=True, slots=True)
class UnitSet:
    """Unit numbers as sorted, disjoint, non-touching spans."""

    spans: tuple[Span, ...] = ()

    @classmethod
    def of(cls, numbers: Iterable[int]) -> UnitSet:
        return cls.join((n, n) for n in sorted(set(numbers)))

    @classmethod
    def span(cls, first: int, last: int) -> UnitSet:
        return cls(((first, last),)) if first <= last else cls()

    @classmethod
    def join(cls, spans: Iterable[Span]) -> UnitSet:
        merged: list[list[int]] = []
        for first, last in sorted(spans):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        return cls(tuple((a, b) for a, b in merged))

    def __len__(self) -> int:
        return sum(b - a + 1 for a, b in self.spans)

    def __bool__(self) -> bool:
        return bool(self.spans)

    def __iter__(self) -> Iterator[int]:
        for a, b in self.spans:
            yield from range(a, b + 1)

    def __contains__(self, n: object) -> bool:
        return any(a <= n <= b for a, b in self.spans)  # type: ignore[operator]

    def __or__(self, other: UnitSet) -> UnitSet:
        if not self.spans or not other.spans:  # spans are kept joined: nothing to merge
            return other if not self.spans else self
        return UnitSet.join(self.spans + other.spans)

    def __and__(self, other: UnitSet) -> UnitSet:
        out = []
        for a, b in self.spans:
            for c, d in other.spans:
                if max(a, c) <= min(b, d):
                    out.append((max(a, c), min(b, d)))
        return UnitSet.join(out)

    def __sub__(self, other: UnitSet) -> UnitSet:
        out: list[Span] = []
        for a, b in self.spans:
            pieces = [(a, b)]
            for c, d in other.spans:
                pieces = [p for x, y in pieces for p in ((x, min(y, c - 1)), (max(x, d + 1), y)) if p[0] <= p[1]]
            out.extend(pieces)
        return UnitSet(tuple(out))

    def lowest(self, count: int) -> UnitSet:
        """The `count` lowest numbers (the rule for "any N units")."""
        out: list[Span] = []
        for a, b in self.spans:
            if count <= 0:
                break
            out.append((a, min(b, a + count - 1)))
            count -= out[-1][1] - a + 1
        return UnitSet(tuple(out))

    def as_list(self) -> list[list[int]]:
        return [[a, b] for a, b in self.spans]


# --- a line's units -------------------------------------------------------------------------------
Run = tuple[int, int, UnitState]   # first..last in one state


@dataclass(frozen=True, slots=True)
class Units:
    """The state of every unit 1..quantity of one line, as runs; neighbouring runs never share a state."""

    runs: tuple[Run, ...]

    @classmethod
    def of(cls, quantity: int, state: UnitState = UnitState.OPEN) -> Units:
        return cls(((1, quantity, state),))

    @classmethod
    def laid_out(cls, counts: Iterable[tuple[UnitState, int]]) -> Units:
        """Units numbered in the order the counts come: the first count takes 1.., the next follows."""
        runs, start = [], 1
        for state, count in counts:
            if count:
                runs.append((start, start + count - 1, state))
                start += count
        return cls(_merged(runs))

    @property
    def quantity(self) -> int:
        return self.runs[-1][1] if self.runs else 0

    def state_of(self, n: int) -> UnitState:
        for a, b, state in self.runs:
            if a <= n <= b:
                return state
        raise UnitNotFound(f"no unit {n}", unit=n)

    def in_state(self, state: UnitState) -> UnitSet:
        return UnitSet(tuple((a, b) for a, b, s in self.runs if s is state))

    def count(self, state: UnitState) -> int:
        return sum(b - a + 1 for a, b, s in self.runs if s is state)

    def layout(self) -> Iterator[tuple[int, UnitState]]:
        """(number, state) for every unit, in number order."""
        for a, b, state in self.runs:
            for n in range(a, b + 1):
                yield n, state

    def able(self, action: UnitAction) -> UnitSet:
        """The units that may take `action` now."""
        return self.in_state(source_of(action))

    def step(self, units: UnitSet, action: UnitAction) -> Units:
        """These units take `action`, each going where the table says; if one may not (or is not on the
        line), nothing changes and the step is refused (`UnitActionNotAllowed`, `UnitNotOnLine`)."""
        if not units:
            return self
        outside = units - UnitSet.span(1, self.quantity)
        if outside:
            n = next(iter(outside))
            raise UnitNotOnLine(f"unit {n} is not on the line: cannot {action}", unit=n, action=action.value)
        runs: list[Run] = []
        for a, b, state in self.runs:
            taking = UnitSet.span(a, b) & units
            if not taking:
                runs.append((a, b, state))
                continue
            n = taking.spans[0][0]
            target = MACHINE.next(state, action, message=f"unit {n} is {state}: cannot {action}", unit=n,
                                  status=state.value, action=action.value, allowed=MACHINE.allowed(state))
            cursor = a
            for c, d in taking.spans:
                if cursor < c:
                    runs.append((cursor, c - 1, state))
                runs.append((c, d, target))
                cursor = d + 1
            if cursor <= b:
                runs.append((cursor, b, state))
        return Units(_merged(runs))

    def as_list(self) -> list[list[object]]:
        return [[a, b, s.value] for a, b, s in self.runs]

    @classmethod
    def from_list(cls, runs: Iterable[Iterable[Any]]) -> Units:
        return cls(tuple((int(a), int(b), UnitState(s)) for a, b, s in runs))


def _merged(runs: list[Run]) -> tuple[Run, ...]:
    out: list[Run] = []
    for a, b, state in runs:
        if out and out[-1][2] is state and out[-1][1] + 1 == a:
            out[-1] = (out[-1][0], b, state)
        else:
            out.append((a, b, state))
    return tuple(out)
