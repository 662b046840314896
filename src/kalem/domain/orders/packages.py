"""The package life cycle: a state machine kept as data, and the split (with an optional partial cancel).

    Created ──approve──▶ Picking ──ship──▶ Shipped ──deliver──▶ Delivered
                            │
                            ├──split──▶ Unpacked   (its units move to new Picking children,
                            │                       cancelled units to one UnSupplied child)
                            └──unsupply──▶ UnSupplied   (a split's cancel kept in place, below)
    Created / Picking ──(every unit cancelled)──▶ Cancelled

n11 lays a split with a cancel out the other way round (`unsupplied_in_place`): the package itself
becomes UnSupplied holding the cancelled units, the rest go to one new package that the split turns
Unpacked, and the requested Picking packages are its children.

Packages are born `Created`/`Picking`/`Shipped`/`Delivered` at intake, `Picking` or `UnSupplied` by
a split. `Unpacked`, `UnSupplied`, `Cancelled` and `Delivered` are terminal. Line ids are stable: a
line may sit in several packages, and every package but an intake one knows its `parent_id`.

A package holds numbered units, and its actions move exactly those: approve moves nothing (both
states hold `open` units), ship moves them `open → shipped`, deliver `shipped → delivered`. A split
hands the parent's units to its children, lowest-numbered first in request order: cancelled units
first (the lowest-numbered open ones, or the ones named), then each group, then the remainder.
Units reserved by a pending cancel request (`pending_cancel`) still sit in an unshipped package; a
package holding one cannot ship — decide the request first (`UnitsPendingCancel`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kalem.domain.errors import (
    Conflict,
    DuplicateLine,
    IllegalTransition,
    InvalidInput,
    QuantityExceedsCancellable,
    QuantityNotPositive,
)
from kalem.domain.events.cancels import CancelledLine, LinesCancelled
from kalem.domain.events.event import Actor, Event
from kalem.domain.events.packages import (
    PackageApproved,
    PackageDelivered,
    PackageShipped,
    PackageSplit,
    SplitCancelled,
    SplitChild,
)
from kalem.domain.events.parts import LeftPackage, PackageUnits
from kalem.domain.orders.order import Line, Order, Package, PackageStatus, PackedUnits, StatusChange
from kalem.domain.orders.requests import AskedUnits
from kalem.domain.orders.units import UnitAction, UnitSet, UnitState
from kalem.domain.reasons import StatusType, reason
from kalem.domain.states import Machine

if TYPE_CHECKING:  # refunds read orders; orders reach refunds only when a split previews one
    from kalem.domain.refunds.account import RefundAccount
    from kalem.domain.refunds.breakdown import RefundBreakdown

S = PackageStatus


class Action(StrEnum):
    APPROVE = "approve"
    SHIP = "ship"
    DELIVER = "deliver"
    SPLIT = "split"
    CANCEL = "cancel"
    UNSUPPLY = "unsupply"   # a split keeps its cancelled units in place (n11's layout); never asked for alone


#: The whole state machine: (from, action) → to. Anything not here is a PackageActionNotAllowed.
TRANSITIONS: Mapping[tuple[PackageStatus, Action], PackageStatus] = {
    (S.CREATED, Action.APPROVE): S.PICKING,
    (S.PICKING, Action.SHIP): S.SHIPPED,
    (S.SHIPPED, Action.DELIVER): S.DELIVERED,
    (S.PICKING, Action.SPLIT): S.UNPACKED,
    (S.CREATED, Action.CANCEL): S.CANCELLED,
    (S.PICKING, Action.CANCEL): S.CANCELLED,
    (S.PICKING, Action.UNSUPPLY): S.UNSUPPLIED,
}


class PackageActionNotAllowed(IllegalTransition):
    """A package asked to take an action its status does not allow (the table's refusal)."""
    code = "package_action_not_allowed"
    face_code = IllegalTransition.code


MACHINE = Machine("package", TRANSITIONS, PackageActionNotAllowed)
#: What the units a package holds do when it takes an action (approve moves none).
UNIT_ACTION: Mapping[Action, UnitAction] = {Action.SHIP: UnitAction.SHIP, Action.DELIVER: UnitAction.DELIVER}
#: Actions a package takes only as part of another operation: not offered as a next action.
_INTERNAL = frozenset({Action.UNSUPPLY})
#: The action that reaches each target status (what `set_status` asks for), and the event it records.
ACTION_TO = {S.PICKING: Action.APPROVE, S.SHIPPED: Action.SHIP, S.DELIVERED: Action.DELIVER}
_EVENT_OF = {Action.APPROVE: PackageApproved, Action.SHIP: PackageShipped, Action.DELIVER: PackageDelivered}


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


class PackageStatusNotSettable(InvalidInput):
    """A status no package is moved to by asking (only Picking, Shipped and Delivered are)."""
    code = "package_status_not_settable"
    face_code = InvalidInput.code


class CargoTrackingNumberUnexpected(InvalidInput):
    """A cargo tracking number with a step other than shipping."""
    code = "cargo_tracking_number_unexpected"
    face_code = InvalidInput.code


def allowed_actions(status: PackageStatus) -> list[str]:
    return [a for a in MACHINE.allowed(status) if a not in _INTERNAL]


def next_status(package: Package, action: Action) -> PackageStatus:
    hint = " (only Picking packages split; approve a Created one first)" if action is Action.SPLIT else ""
    return MACHINE.next(package.status, action, error=PackageNotSplittable if action is Action.SPLIT else None,
                        message=f"package {package.package_id} is {package.status}: cannot {action}{hint}",
                        package_id=package.package_id, status=package.status.value, action=action.value,
                        allowed=allowed_actions(package.status))


def transition(package: Package, action: Action, now: datetime, **changes: Any) -> Package:
    """The package after `action`, its history extended; only what TRANSITIONS allows."""
    status = next_status(package, action)
    return replace(package, status=status, history=package.history + (StatusChange(status, now),), **changes)


# --- status transitions (approve, ship, deliver) ---------------------------------------------

def set_status(order: Order, package_id: str, status: PackageStatus, *, actor: Actor, now: datetime,
               cargo_tracking_number: str | None = None) -> tuple[Order, list[Event]]:
    """Move a package one step: `Picking` approves, `Shipped` ships, `Delivered` delivers."""
    action = ACTION_TO.get(status)
    if action is None:
        raise PackageStatusNotSettable(f"status must be one of {', '.join(s.value for s in ACTION_TO)}",
                                       field="status")
    package = order.package(package_id)
    next_status(package, action)
    if cargo_tracking_number is not None and action is not Action.SHIP:
        raise CargoTrackingNumberUnexpected("a cargo tracking number is given when shipping",
                                            field="cargo_tracking_number")
    lines = {ln.line_id: ln for ln in order.lines}
    unit_action = UNIT_ACTION.get(action)
    if unit_action is not None:
        for item in package.items:
            line = lines[item.line_id]
            waiting = item.units & line.units_in(UnitState.PENDING_CANCEL)
            if waiting:
                raise UnitsPendingCancel(
                    f"package {package_id} holds {item.quantity} of line {item.line_id}, but "
                    f"{len(waiting)} wait on a cancel request; decide it first", package_id=package_id,
                    line_id=item.line_id, pending_cancel=len(waiting), units=list(waiting))
            lines[item.line_id] = line.step(item.units, unit_action)
    changes: dict[str, object] = {}
    if cargo_tracking_number is not None:
        changes["cargo_tracking_number"] = cargo_tracking_number
    moved = transition(package, action, now, **changes)
    target = moved.status
    recorder = order.recorder(actor, now)
    recorder.record(_EVENT_OF[action](package_id=package_id, status=target.value, previous=package.status.value,
                                      cargo_tracking_number=moved.cargo_tracking_number,
                                      items=_package_units(package)))
    return order.evolve(recorder, lines=tuple(lines[ln.line_id] for ln in order.lines),
                        packages=_replace_package(order.packages, moved))


def _replace_package(packages: tuple[Package, ...], changed: Package) -> tuple[Package, ...]:
    return tuple(changed if p.package_id == changed.package_id else p for p in packages)


# --- split --------------------------------------------------------------------------------------

#: Units a split cancels: the `numbers` named, else the lowest-numbered open ones the package holds.
SplitCancel = AskedUnits


@dataclass(frozen=True, slots=True)
class SplitResult:
    parent: Package                 # now Unpacked (UnSupplied when the cancel stays in place)
    groups: tuple[Package, ...]     # one Picking package per requested group, in request order
    remainder: Package | None       # the units nobody mentioned, Picking
    unsupplied: Package | None      # the cancelled units: a new child, or the parent itself
    refund: RefundBreakdown | None  # what the cancelled units give back (None without a cancel)
    via: Package | None = None      # in place: the new Unpacked package the groups were split from

    @property
    def children(self) -> tuple[Package, ...]:
        """Every package the split made, in the order it made them."""
        made = ((self.via,) if self.via else ()) + self.groups + ((self.remainder,) if self.remainder else ())
        if self.unsupplied is not None and self.unsupplied.package_id != self.parent.package_id:
            made += (self.unsupplied,)
        return made

    @property
    def picking(self) -> tuple[Package, ...]:
        return self.groups + ((self.remainder,) if self.remainder else ())


def split_package(order: Order, package_id: str, groups: Sequence[Mapping[str, int]],
                  cancelled: Sequence[SplitCancel] = (), *, new_package_id: Callable[[], str],
                  new_tracking_number: Callable[[], str], actor: Actor, now: datetime,
                  platform: str = "kalem", refunds: RefundAccount | None = None,
                  unsupplied_in_place: bool = False) -> tuple[Order, SplitResult, list[Event]]:
    """Split a Picking package into the requested groups, cancelling some units on the way; all or nothing.

    `groups` map line ids to units; each becomes a Picking package with a new id and tracking number.
    Units no group or cancel mentions go to one more Picking package; cancelled units to one
    UnSupplied package (their ledger units become cancelled). The parent becomes Unpacked. With
    `unsupplied_in_place` and a cancel, the parent itself becomes that UnSupplied package and the
    other units go first to one new Unpacked package, the parent of the groups (n11's layout). The
    result's refund is what refunding the cancelled units would pay, previewed by `refunds`.
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
    left = {i.line_id: i.units for i in parent.items}   # the parent's units not handed out yet
    gone: dict[str, UnitSet] = {}
    for item in cancelled:
        line = lines[item.line_id]
        free = left[item.line_id] & line.cancellable_units()
        if item.numbers:
            units = line.pick(UnitAction.CANCEL, item.quantity, item.numbers)
            if units - left[item.line_id]:
                raise SplitExceedsPackage(f"package {package_id} does not hold unit {next(iter(units - free))} "
                                          f"of line {item.line_id}", package_id=package_id, line_id=item.line_id)
        elif item.quantity > len(free):
            raise QuantityExceedsCancellable(
                f"line {item.line_id}: {item.quantity} to cancel, {len(free)} cancellable "
                f"({line.ledger.pending_cancel} wait on a cancel request)",
                line_id=item.line_id, requested=item.quantity, cancellable=len(free))
        else:
            units = free.lowest(item.quantity)
        gone[item.line_id] = units
        left[item.line_id] -= units
        lines[item.line_id] = line.step(units, UnitAction.CANCEL)

    taken = {p.package_id for p in order.packages}

    def handed(group: Mapping[str, int]) -> dict[str, UnitSet]:
        units = {line_id: left[line_id].lowest(qty) for line_id, qty in group.items()}
        for line_id, taken in units.items():
            left[line_id] -= taken
        return units

    def child(status: PackageStatus, items: Mapping[str, UnitSet], tracking: str | None,
              parent_id: str = parent.package_id) -> Package:
        for _ in range(20):
            pid = new_package_id()
            if pid not in taken:
                taken.add(pid)
                break
        else:  # pragma: no cover - an id source that keeps repeating itself is a bug
            raise AssertionError("the package id source keeps returning ids already in use")
        return Package(pid, status, tuple(PackedUnits(k, v) for k, v in items.items() if v),
                       (StatusChange(status, now),), tracking, parent_id)

    via: Package | None = None
    if cancelled and unsupplied_in_place:
        # The rest of the parent is packed anew (Picking) and split at once (Unpacked).
        via = child(S.PICKING, dict(left), new_tracking_number())
        via = transition(via, Action.SPLIT, now)
    made = tuple(child(S.PICKING, handed(group), new_tracking_number(), *_under(via)) for group in groups)
    remainder = child(S.PICKING, left, new_tracking_number(), *_under(via)) if any(left.values()) else None
    unsupplied: Package | None
    if via is not None:
        unsupplied = unpacked = transition(parent, Action.UNSUPPLY, now,
                                           items=tuple(PackedUnits(k, v) for k, v in gone.items() if v))
    else:
        unsupplied = child(S.UNSUPPLIED, gone, None) if cancelled else None
        unpacked = transition(parent, Action.SPLIT, now)
    result = SplitResult(unpacked, made, remainder, unsupplied, _refund(order, gone, refunds), via)
    packages = _replace_package(order.packages, unpacked) + result.children

    recorder = order.recorder(actor, now)
    recorder.record(PackageSplit(
        package_id=package_id,
        children=tuple(SplitChild(p.package_id, p.status.value, p.cargo_tracking_number, p.parent_id,
                                  _package_units(p)) for p in result.children),
        cancelled=tuple(SplitCancelled(c.line_id, c.quantity, c.reason_id) for c in cancelled)))
    if cancelled and unsupplied is not None:
        # The same event a direct cancel records, so whoever follows cancellations sees these too.
        recorder.record(LinesCancelled(
            via="split", platform=platform,
            items=tuple(CancelledLine(c.line_id, c.quantity, c.reason_id, c.note, lines[c.line_id].ledger.cancelled,
                                      gone[c.line_id].spans) for c in cancelled),
            packages=(LeftPackage(unsupplied.package_id, unsupplied.status.value, _package_units(unsupplied)),),
            refund=result.refund.to_dict() if result.refund else None))
    changed, events = order.evolve(recorder, lines=tuple(lines[ln.line_id] for ln in order.lines),
                                   packages=packages)
    return changed, result, events


def _under(via: Package | None) -> tuple[str, ...]:
    return (via.package_id,) if via is not None else ()


def _positive(order: Order, line_id: str, qty: int) -> Line:
    line = order.line(line_id)
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise QuantityNotPositive(f"line {line_id}: quantity must be at least 1", line_id=line_id, quantity=qty)
    return line


def _package_units(package: Package) -> tuple[PackageUnits, ...]:
    return tuple(PackageUnits(i.line_id, i.quantity, i.units.spans) for i in package.items)


def _refund(order: Order, gone: Mapping[str, UnitSet], refunds: RefundAccount | None) -> RefundBreakdown | None:
    """What refunding the cancelled units would pay: the order's refund account previews them (the
    default strategy and no earlier refund when the caller has no account at hand)."""
    if not gone:
        return None
    from kalem.domain.refunds.account import RefundAccount  # noqa: PLC0415 (see TYPE_CHECKING above)
    from kalem.domain.refunds.book import InvalidBillableOrder  # noqa: PLC0415
    try:
        account = refunds or RefundAccount.of(order, ())
        return account.preview(gone)
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
    units out of the children, while the parent keeps what was split); only split parents have children,
    and a package that stayed UnSupplied in place (n11) has one Unpacked child, the rest it held."""
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
        elif children and not (p.status is S.UNSUPPLIED and all(c.status is S.UNPACKED for c in children)):
            raise AssertionError(f"package {p.package_id} is {p.status} yet has children")
