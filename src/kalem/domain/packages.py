"""The package life cycle: a state machine kept as data, and the split (with an optional partial cancel).

    Created ──approve──▶ Picking ──ship──▶ Shipped ──deliver──▶ Delivered
                            │
                            └──split──▶ Unpacked   (its units move to new Picking children,
                                                    cancelled units to one UnSupplied child)
    Created / Picking ──(every unit cancelled)──▶ Cancelled

Packages are born `Created`/`Picking`/`Shipped`/`Delivered` at intake, `Picking` or `UnSupplied` by
a split. `Unpacked`, `UnSupplied`, `Cancelled` and `Delivered` are terminal. Line ids are stable: a
line may sit in several packages, and every package but an intake one knows its `parent_id`.

The ledger follows the packages: approve moves nothing (both states hold `open` units), ship moves
the package's units `open → shipped`, deliver `shipped → delivered`, a split's cancel
`open → cancelled`. Units reserved by a pending cancel request (`pending_cancel`) still sit in an
unshipped package; a package cannot ship while its line has fewer open units than it holds — decide
the request first (`UnitsPendingCancel`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from kalem.domain.errors import (
    Conflict,
    DuplicateLine,
    IllegalTransition,
    InvalidInput,
    QuantityExceedsCancellable,
    QuantityNotPositive,
)
from kalem.domain.events import Actor, Event
from kalem.domain.ledger import UnitState
from kalem.domain.orders import Line, Order, Package, PackageItem, PackageStatus, StatusChange
from kalem.domain.reasons import StatusType, reason
from kalem.domain.refunds import BillableLine, BillableOrder, InvalidBillableOrder, RefundBreakdown, compute_refund

S = PackageStatus


class Action(StrEnum):
    APPROVE = "approve"
    SHIP = "ship"
    DELIVER = "deliver"
    SPLIT = "split"
    CANCEL = "cancel"


#: The whole state machine: (from, action) → to. Anything not here is an IllegalTransition.
TRANSITIONS: Mapping[tuple[PackageStatus, Action], PackageStatus] = {
    (S.CREATED, Action.APPROVE): S.PICKING,
    (S.PICKING, Action.SHIP): S.SHIPPED,
    (S.SHIPPED, Action.DELIVER): S.DELIVERED,
    (S.PICKING, Action.SPLIT): S.UNPACKED,
    (S.CREATED, Action.CANCEL): S.CANCELLED,
    (S.PICKING, Action.CANCEL): S.CANCELLED,
}
#: Where a package may begin: at intake, or as a child of a split.
BORN_AT_INTAKE = frozenset({S.CREATED, S.PICKING, S.SHIPPED, S.DELIVERED})
BORN_BY_SPLIT = frozenset({S.PICKING, S.UNSUPPLIED})
#: How the ledger moves for the units a package holds when it takes an action.
UNIT_MOVES: Mapping[Action, tuple[UnitState, UnitState]] = {
    Action.SHIP: (UnitState.OPEN, UnitState.SHIPPED),
    Action.DELIVER: (UnitState.SHIPPED, UnitState.DELIVERED),
}
#: The action that reaches each target status (what `set_status` asks for), and the event it records.
ACTION_TO = {S.PICKING: Action.APPROVE, S.SHIPPED: Action.SHIP, S.DELIVERED: Action.DELIVER}
_EVENT_OF = {Action.APPROVE: "package.approved", Action.SHIP: "package.shipped",
             Action.DELIVER: "package.delivered"}


# --- errors -----------------------------------------------------------------------------------

class PackageNotSplittable(IllegalTransition):
    code = "package_not_splittable"


class SplitExceedsPackage(Conflict):
    code = "split_exceeds_package"


class CancelRequiresSplit(InvalidInput):
    code = "cancel_requires_split"


class EmptySplit(InvalidInput):
    code = "empty_split"


class UnitsPendingCancel(Conflict):
    code = "units_pending_cancel"


def allowed_actions(status: PackageStatus) -> list[str]:
    return [a.value for (s, a) in TRANSITIONS if s is status]


def next_status(package: Package, action: Action) -> PackageStatus:
    target = TRANSITIONS.get((package.status, action))
    if target is None:
        error = PackageNotSplittable if action is Action.SPLIT else IllegalTransition
        hint = " (only Picking packages split; approve a Created one first)" if action is Action.SPLIT else ""
        raise error(f"package {package.package_id} is {package.status}: cannot {action}{hint}",
                    package_id=package.package_id, status=package.status.value, action=action.value,
                    allowed=allowed_actions(package.status))
    return target


def _moved(package: Package, status: PackageStatus, now: datetime, **changes: object) -> Package:
    return replace(package, status=status, history=package.history + (StatusChange(status, now),), **changes)


# --- status transitions (approve, ship, deliver) ---------------------------------------------

def set_status(order: Order, package_id: str, status: PackageStatus, *, actor: Actor, now: datetime,
               cargo_tracking_number: str | None = None) -> tuple[Order, list[Event]]:
    """Move a package one step: `Picking` approves, `Shipped` ships, `Delivered` delivers."""
    action = ACTION_TO.get(status)
    if action is None:
        raise InvalidInput(f"status must be one of {', '.join(s.value for s in ACTION_TO)}", field="status")
    package = order.package(package_id)
    target = next_status(package, action)
    if cargo_tracking_number is not None and action is not Action.SHIP:
        raise InvalidInput("a cargo tracking number is given when shipping", field="cargo_tracking_number")
    lines = {ln.line_id: ln for ln in order.lines}
    move = UNIT_MOVES.get(action)
    if move is not None:
        for item in package.items:
            line = lines[item.line_id]
            if move[0] is UnitState.OPEN and line.ledger.open < item.quantity:
                raise UnitsPendingCancel(
                    f"package {package_id} holds {item.quantity} of line {item.line_id}, but only "
                    f"{line.ledger.open} are free: {line.ledger.pending_cancel} wait on a cancel request; "
                    "decide it first", package_id=package_id, line_id=item.line_id,
                    pending_cancel=line.ledger.pending_cancel)
            lines[item.line_id] = replace(line, ledger=line.ledger.move(*move, item.quantity))
    changes: dict[str, object] = {}
    if cargo_tracking_number is not None:
        changes["cargo_tracking_number"] = cargo_tracking_number
    moved = _moved(package, target, now, **changes)
    recorder = order.recorder(actor, now)
    recorder.record(_EVENT_OF[action],
                    package_id=package_id, status=target.value, previous=package.status.value,
                    cargo_tracking_number=moved.cargo_tracking_number,
                    items=[{"line_id": i.line_id, "quantity": i.quantity} for i in package.items])
    return order.evolve(recorder, lines=tuple(lines[ln.line_id] for ln in order.lines),
                        packages=_replace_package(order.packages, moved))


def _replace_package(packages: tuple[Package, ...], changed: Package) -> tuple[Package, ...]:
    return tuple(changed if p.package_id == changed.package_id else p for p in packages)


# --- split --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SplitCancel:
    line_id: str
    quantity: int
    reason_id: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SplitResult:
    parent: Package                 # now Unpacked
    groups: tuple[Package, ...]     # one Picking package per requested group, in request order
    remainder: Package | None       # the units nobody mentioned, Picking
    unsupplied: Package | None      # the cancelled units
    refund: RefundBreakdown | None  # what the cancelled units give back (None without a cancel)

    @property
    def children(self) -> tuple[Package, ...]:
        return self.groups + tuple(p for p in (self.remainder, self.unsupplied) if p is not None)

    @property
    def picking(self) -> tuple[Package, ...]:
        return self.groups + ((self.remainder,) if self.remainder else ())


def split_package(order: Order, package_id: str, groups: Sequence[Mapping[str, int]],
                  cancelled: Sequence[SplitCancel] = (), *, new_package_id: Callable[[], str],
                  new_tracking_number: Callable[[], str], actor: Actor, now: datetime,
                  platform: str = "kalem") -> tuple[Order, SplitResult, list[Event]]:
    """Split a Picking package into the requested groups, cancelling some units on the way; all or nothing.

    `groups` map line ids to units; each becomes a Picking package with a new id and tracking number.
    Units no group or cancel mentions go to one more Picking package; cancelled units to one
    UnSupplied package (their ledger units become cancelled). The parent becomes Unpacked.
    """
    parent = order.package(package_id)
    if not groups:
        if cancelled:
            raise CancelRequiresSplit("a cancel is only accepted together with a split; name the packages to make",
                                      package_id=package_id)
        raise EmptySplit("name at least one package to split into", package_id=package_id)
    next_status(parent, Action.SPLIT)
    wanted: dict[str, int] = {}
    for index, group in enumerate(groups):
        if not group:
            raise EmptySplit(f"package {index + 1} of the split names no units", group=index)
        for line_id, qty in group.items():
            _positive(order, line_id, qty)
            wanted[line_id] = wanted.get(line_id, 0) + qty
    seen: set[str] = set()
    for item in cancelled:
        if item.line_id in seen:
            raise DuplicateLine(f"line {item.line_id} is cancelled twice; send it once with the total",
                                line_id=item.line_id)
        seen.add(item.line_id)
        _positive(order, item.line_id, item.quantity)
        reason(item.reason_id, StatusType.CANCELLED, platform)
        wanted[item.line_id] = wanted.get(item.line_id, 0) + item.quantity
    for line_id, qty in wanted.items():
        holds = parent.quantity_of(line_id)
        if qty > holds:
            raise SplitExceedsPackage(
                f"package {package_id} holds {holds} of line {line_id}; the split names {qty}",
                package_id=package_id, line_id=line_id, requested=qty, holds=holds)
    lines = {ln.line_id: ln for ln in order.lines}
    for item in cancelled:
        line = lines[item.line_id]
        if item.quantity > line.ledger.open:
            raise QuantityExceedsCancellable(
                f"line {item.line_id}: {item.quantity} to cancel, {line.ledger.open} cancellable "
                f"({line.ledger.pending_cancel} wait on a cancel request)",
                line_id=item.line_id, requested=item.quantity, cancellable=line.ledger.open)
        lines[item.line_id] = replace(line, ledger=line.ledger.move(UnitState.OPEN, UnitState.CANCELLED,
                                                                    item.quantity))

    taken = {p.package_id for p in order.packages}

    def child(status: PackageStatus, items: Mapping[str, int], tracking: str | None) -> Package:
        for _ in range(20):
            pid = new_package_id()
            if pid not in taken:
                taken.add(pid)
                break
        else:  # pragma: no cover - an id source that keeps repeating itself is a bug
            raise AssertionError("the package id source keeps returning ids already in use")
        return Package(pid, status, tuple(PackageItem(k, v) for k, v in items.items() if v > 0),
                       (StatusChange(status, now),), tracking, parent.package_id)

    made = tuple(child(S.PICKING, group, new_tracking_number()) for group in groups)
    rest = {i.line_id: i.quantity - wanted.get(i.line_id, 0) for i in parent.items}
    remainder = child(S.PICKING, rest, new_tracking_number()) if any(rest.values()) else None
    unsupplied = child(S.UNSUPPLIED, {c.line_id: c.quantity for c in cancelled}, None) if cancelled else None
    unpacked = _moved(parent, S.UNPACKED, now)
    result = SplitResult(unpacked, made, remainder, unsupplied, _refund(order, cancelled))
    packages = _replace_package(order.packages, unpacked) + result.children

    recorder = order.recorder(actor, now)
    recorder.record("package.split", package_id=package_id,
                    children=[_package_data(p) for p in result.children],
                    cancelled=[{"line_id": c.line_id, "quantity": c.quantity, "reason_id": c.reason_id}
                               for c in cancelled])
    if cancelled and unsupplied is not None:
        # The same event a direct cancel records, so whoever follows cancellations sees these too.
        recorder.record("lines.cancelled", via="split", platform=platform,
                        items=[{"line_id": c.line_id, "quantity": c.quantity, "reason_id": c.reason_id,
                                "note": c.note, "cancelled_total": lines[c.line_id].ledger.cancelled}
                               for c in cancelled],
                        packages=[{"package_id": unsupplied.package_id, "status": unsupplied.status.value,
                                   "items": [{"line_id": i.line_id, "quantity": i.quantity}
                                             for i in unsupplied.items]}],
                        refund=result.refund.to_dict() if result.refund else None)
    changed, events = order.evolve(recorder, lines=tuple(lines[ln.line_id] for ln in order.lines),
                                   packages=packages)
    return changed, result, events


def _positive(order: Order, line_id: str, qty: int) -> Line:
    line = order.line(line_id)
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise QuantityNotPositive(f"line {line_id}: quantity must be at least 1", line_id=line_id, quantity=qty)
    return line


def _package_data(package: Package) -> dict[str, object]:
    return {"package_id": package.package_id, "status": package.status.value,
            "cargo_tracking_number": package.cargo_tracking_number, "parent_id": package.parent_id,
            "items": [{"line_id": i.line_id, "quantity": i.quantity} for i in package.items]}


def _refund(order: Order, cancelled: Sequence[SplitCancel]) -> RefundBreakdown | None:
    """What the buyer gets back for the cancelled units (default strategy), given earlier cancels."""
    if not cancelled:
        return None
    try:
        billable = BillableOrder(order.currency, tuple(
            BillableLine(ln.line_id, ln.quantity, ln.unit_price, ln.discount, ln.tax_rate, ln.name)
            for ln in order.lines), order.shipping_amount)
        return compute_refund(billable, {c.line_id: c.quantity for c in cancelled},
                              {ln.line_id: ln.ledger.cancelled for ln in order.lines if ln.ledger.cancelled})
    except InvalidBillableOrder:  # amounts finer than the currency allows: the split stands, no estimate
        return None


# --- lineage -------------------------------------------------------------------------------------

def lineage(order: Order) -> dict[str, dict[str, object]]:
    """For each package: its ancestors (root first) and its children, in the order they were made."""
    by_id = {p.package_id: p for p in order.packages}
    children: dict[str, list[str]] = {p.package_id: [] for p in order.packages}
    for p in order.packages:
        if p.parent_id in children:
            children[p.parent_id].append(p.package_id)
    result: dict[str, dict[str, object]] = {}
    for p in order.packages:
        ancestors: list[str] = []
        cursor = p.parent_id
        while cursor is not None and cursor in by_id and len(ancestors) < len(by_id):
            ancestors.insert(0, cursor)
            cursor = by_id[cursor].parent_id
        result[p.package_id] = {"ancestors": ancestors, "children": children[p.package_id]}
    return result


def check_lineage(order: Order) -> None:
    """A split parent's children hold at most what it held (exactly, at the split; a later cancel takes
    units out of the children, while the parent keeps what was split); only split parents have children."""
    kids: dict[str, list[Package]] = {}
    for p in order.packages:
        if p.parent_id is not None:
            kids.setdefault(p.parent_id, []).append(p)
    for p in order.packages:
        children = kids.get(p.package_id, [])
        if p.status is S.UNPACKED:
            for item in p.items:
                held = sum(c.quantity_of(item.line_id) for c in children)
                if held > item.quantity:
                    raise AssertionError(f"package {p.package_id}: children hold {held} of {item.line_id}, "
                                         f"it held {item.quantity}")
            if {i.line_id for c in children for i in c.items} - {i.line_id for i in p.items}:
                raise AssertionError(f"package {p.package_id}: children hold lines it never held")
        elif children:
            raise AssertionError(f"package {p.package_id} is {p.status} yet has children")
