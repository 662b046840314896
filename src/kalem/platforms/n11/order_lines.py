"""Use cases the n11 face needs: everything is named by n11 `orderLineId`s.

kalem's truth is the unit: every unit of a line has a number, and packages hold unit numbers. n11
numbers a line *per package* instead (`line_ids`: computed, so reading never writes). A split keeps
the existing number, as n11 does: the new package that holds the first unit of the split part
carries it on (the split package shows it too, as history), and only the other new parts get new
numbers. An id names the one part carrying it that is not Unpacked; when none is left (its units
went elsewhere), a write naming it is refused with `order_line_retired`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kalem.app import packages as app_packages
from kalem.app.principals import Principal
from kalem.app.refund_policy import save_decision
from kalem.app.transaction import OrderTransaction
from kalem.domain import orders as domain
from kalem.domain.errors import Conflict, DuplicateLine, InvalidInput, NotFound
from kalem.domain.orders import CancelRequiresSplit, EmptySplit, Order, Package, PackageStatus, SplitCancel, SplitResult
from kalem.domain.refunds import RefundCause
from kalem.platforms.n11.line_ids import Numbers, numbers_of, orders_of, parts_named
from kalem.platforms.n11.store import LinePart
from kalem.store.uow import UnitOfWork


class OrderLineNotFound(NotFound):
    code = "order_line_not_found"


class OrderLineRetired(Conflict):
    code = "order_line_retired"


class LinesOfSeveralOrders(InvalidInput):
    code = "lines_of_several_orders"


class LinesOfSeveralPackages(InvalidInput):
    code = "lines_of_several_packages"


class NothingToSplit(InvalidInput):
    code = "nothing_to_split"


@dataclass(frozen=True, slots=True)
class SplitByOrderLines:
    groups: tuple[tuple[tuple[int, int | None], ...], ...]  # per new package: (orderLineId, units or None: all)
    cancelled: tuple[tuple[int, int, int], ...]      # (orderLineId, units, cancelReasonId)
    principal: Principal


@dataclass(frozen=True, slots=True)
class N11Split:
    order: Order
    result: SplitResult
    numbers: Numbers


def split_by_order_lines(uow: UnitOfWork, cmd: SplitByOrderLines) -> N11Split:
    """splitPackageByQuantity / splitCombinePackage: one package of one order, all or nothing."""
    if not cmd.groups:
        if cmd.cancelled:
            raise CancelRequiresSplit("cancelling is only possible together with a split (splitPackages)")
        raise EmptySplit("splitPackages names no package")
    with OrderTransaction(uow) as tx:
        wanted = [i for group in cmd.groups for i, _ in group] + [i for i, _, _ in cmd.cancelled]
        located = orders_of(uow, wanted, cmd.principal.scope, cmd.principal.channel)
        missing = [i for i in wanted if i not in located]
        if missing:
            raise OrderLineNotFound(f"orderLineId {missing[0]} not found", order_line_id=missing[0])
        order_ids = {found.order_id for found in located.values()}
        if len(order_ids) > 1:
            raise LinesOfSeveralOrders("all lines of one request must belong to one order; send one request "
                                       "per order", orders=len(order_ids))
        order = tx.lock_id(order_ids.pop())
        named = _resolve(uow, order, wanted)  # under the lock: a split just made may carry an id on
        parts = {i: _current(order, i, candidates) for i, candidates in named.items()}
        package_ids = {p.package_id for p in parts.values()}
        if len(package_ids) > 1:
            raise LinesOfSeveralPackages("all lines of one request must belong to one package",
                                         package_ids=sorted(package_ids))
        package = order.package(package_ids.pop())
        groups = [_group(group, parts, package) for group in cmd.groups]
        domain.next_status(package, domain.Action.SPLIT)  # only Picking splits: said before anything else
        if not cmd.cancelled and len(groups) == 1 and groups[0] == {i.line_id: i.quantity for i in package.items}:
            raise NothingToSplit(f"package {package.package_id} would stay one package: name fewer units, or "
                                 "more packages (only a package of more than one unit splits)",
                                 package_id=package.package_id)
        cancelled = [SplitCancel(parts[i].line_id, qty, reason_id) for i, qty, reason_id in cmd.cancelled]
        changed, result, events = app_packages.split(order, package.package_id, groups, cancelled, cmd.principal,
                                                     uow, "n11", unsupplied_in_place=True)
        changed = save_decision(tx, order, changed, events, RefundCause.CANCELLATION, cmd.principal.actor)
        numbers = numbers_of(uow, [changed])
        return tx.commit(N11Split(changed, result, numbers))


def _current(order: Order, order_line_id: int, candidates: Sequence[LinePart]) -> LinePart:
    """The part an id names now: the one carrying it whose package was not split since."""
    for part in candidates:
        if order.package(part.package_id).status is not PackageStatus.UNPACKED:
            return part
    split = candidates[0].package_id
    raise OrderLineRetired(
        f"orderLineId {order_line_id} names no package any more: the units of package {split} it named "
        "went to new packages; fetch shipmentPackages for their ids", order_line_id=order_line_id,
        package_id=split, children=domain.lineage(order)[split]["children"])


def _group(group: Sequence[tuple[int, int | None]], parts: dict[int, LinePart], package: Package) -> dict[str, int]:
    units: dict[str, int] = {}
    for order_line_id, qty in group:
        line_id = parts[order_line_id].line_id
        if line_id in units:
            raise DuplicateLine(f"orderLineId {order_line_id} appears twice in one package",
                                order_line_id=order_line_id)
        units[line_id] = package.quantity_of(line_id) if qty is None else qty
    return units


def _resolve(uow: UnitOfWork, order: Order, ids: Sequence[int]) -> dict[int, list[LinePart]]:
    """The parts of the order each id names; an id naming none of them is not found."""
    parts = parts_named(order, numbers_of(uow, [order]), ids)
    missing = [i for i in ids if i not in parts]
    if missing:
        raise OrderLineNotFound(f"orderLineId {missing[0]} not found", order_line_id=missing[0])
    return parts


def approve_lines(uow: UnitOfWork, order_line_ids: Sequence[int], principal: Principal) -> list[dict[str, Any]]:
    """UpdateOrder (status Picking): approve the packages these lines sit in; the answer is per line."""
    with OrderTransaction(uow) as tx:
        located = orders_of(uow, order_line_ids, principal.scope, principal.channel)
        outcome: dict[int, dict[str, Any]] = {}
        for order_id in sorted({found.order_id for found in located.values()}):
            order = tx.lock_id(order_id)
            named = parts_named(order, numbers_of(uow, [order]), order_line_ids)
            current = order
            all_events = []
            for i in order_line_ids:
                if i not in named or named[i][0].order_id != order_id:
                    continue
                live = [c for c in named[i] if order.package(c.package_id).status is not PackageStatus.UNPACKED]
                package = current.package((live or named[i])[0].package_id)
                if package.status is PackageStatus.CREATED:
                    current, events = domain.set_status(current, package.package_id, PackageStatus.PICKING,
                                                        actor=principal.actor, now=uow.now())
                    all_events.extend(events)
                    outcome[i] = {"lineId": i, "status": "Picking", "reasons": []}
                elif package.status is PackageStatus.PICKING:
                    outcome[i] = {"lineId": i, "status": "Picking", "reasons": []}
                else:
                    outcome[i] = {"lineId": i, "status": package.status.value,
                                  "reasons": [f"package {package.package_id} is {package.status.value}; "
                                              "only Created lines can be approved"]}
            if current is not order:
                tx.save(current, all_events)
        tx.commit(outcome)
    return [outcome.get(i, {"lineId": i, "status": None, "reasons": [f"orderLineId {i} not found"]})
            for i in order_line_ids]
