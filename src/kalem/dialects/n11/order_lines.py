"""Use cases the n11 face needs: everything is named by n11 `orderLineId`s.

kalem keeps stable line ids; n11 numbers a line *per package* and re-numbers on every split. The
face therefore keeps one number per (package, line) it has shown (`n11_line_ids`), minted in the
transaction that creates the package (a split) or, for packages taken in natively, on the first
read. A number whose package was split is retired: it still reads (the Unpacked package shows it)
but naming it in a write is refused with `order_line_retired`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kalem.app import packages as app_packages
from kalem.app.principals import Principal
from kalem.app.transaction import OrderTransaction
from kalem.domain import packages as domain
from kalem.domain.errors import Conflict, DuplicateLine, InvalidInput, LineNotFound
from kalem.domain.orders import Order, Package, PackageStatus
from kalem.domain.packages import CancelRequiresSplit, EmptySplit, SplitCancel, SplitResult
from kalem.store.n11 import LinePart
from kalem.store.uow import UnitOfWork

Numbers = dict[tuple[str, str, str], int]  # (order id, package id, line id) → orderLineId


class OrderLineNotFound(LineNotFound):
    code = "order_line_not_found"


class OrderLineRetired(Conflict):
    code = "order_line_retired"


class LinesOfSeveralOrders(InvalidInput):
    code = "lines_of_several_orders"


class LinesOfSeveralPackages(InvalidInput):
    code = "lines_of_several_packages"


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
        parts = _resolve(uow, wanted, cmd.principal)
        order_ids = {p.order_id for p in parts.values()}
        if len(order_ids) > 1:
            raise LinesOfSeveralOrders("all lines of one request must belong to one order; send one request "
                                       "per order", orders=len(order_ids))
        package_ids = {p.package_id for p in parts.values()}
        if len(package_ids) > 1:
            raise LinesOfSeveralPackages("all lines of one request must belong to one package",
                                         package_ids=sorted(package_ids))
        order = tx.lock_id(order_ids.pop())
        package = order.package(package_ids.pop())
        if package.status is PackageStatus.UNPACKED:
            retired = sorted(i for i, p in parts.items() if p.package_id == package.package_id)
            raise OrderLineRetired(
                f"orderLineId {retired[0]} was retired when package {package.package_id} was split; "
                "fetch shipmentPackages for the new ids", order_line_ids=retired, package_id=package.package_id,
                children=domain.lineage(order)[package.package_id]["children"])
        groups = [_group(group, parts, package) for group in cmd.groups]
        cancelled = [SplitCancel(parts[i].line_id, qty, reason_id) for i, qty, reason_id in cmd.cancelled]
        changed, result, events = app_packages.split(order, package.package_id, groups, cancelled, cmd.principal,
                                                     uow, "n11")
        tx.save(changed, events)
        uow.n11_lines.mint(changed.seller_id, changed.id, _parts_of(result.children), uow.now())
        return tx.commit(N11Split(changed, result, uow.n11_lines.for_orders([changed.id])))


def _group(group: Sequence[tuple[int, int | None]], parts: dict[int, LinePart], package: Package) -> dict[str, int]:
    units: dict[str, int] = {}
    for order_line_id, qty in group:
        line_id = parts[order_line_id].line_id
        if line_id in units:
            raise DuplicateLine(f"orderLineId {order_line_id} appears twice in one package",
                                order_line_id=order_line_id)
        units[line_id] = package.quantity_of(line_id) if qty is None else qty
    return units


def _resolve(uow: UnitOfWork, ids: Iterable[int], principal: Principal) -> dict[int, LinePart]:
    ids = list(ids)
    parts = uow.n11_lines.resolve(ids, principal.scope)
    missing = [i for i in ids if i not in parts]
    if missing:
        raise OrderLineNotFound(f"orderLineId {missing[0]} not found", order_line_id=missing[0])
    return parts


def _parts_of(packages: Iterable[Any]) -> list[tuple[str, str]]:
    return [(p.package_id, i.line_id) for p in packages for i in p.items]


def numbers_for(uow_factory: Any, orders: Sequence[Order]) -> Numbers:
    """The orderLineIds of every (package, line) of these orders, minting the missing ones."""
    if not orders:
        return {}
    with uow_factory(write=False) as uow:
        numbers = uow.n11_lines.for_orders([o.id for o in orders])
    missing = {o.id: [(p, ln) for p, ln in _parts_of(o.packages) if (o.id, p, ln) not in numbers] for o in orders}
    if not any(missing.values()):
        return numbers
    uow = uow_factory()
    with uow:
        for order in orders:
            uow.n11_lines.mint(order.seller_id, order.id, missing[order.id], uow.now())
        numbers = uow.n11_lines.for_orders([o.id for o in orders])
        uow.commit()
    return numbers


def approve_lines(uow: UnitOfWork, order_line_ids: Sequence[int], principal: Principal) -> list[dict[str, Any]]:
    """UpdateOrder (status Picking): approve the packages these lines sit in; the answer is per line."""
    with OrderTransaction(uow) as tx:
        parts = uow.n11_lines.resolve(order_line_ids, principal.scope)
        outcome: dict[int, dict[str, Any]] = {}
        for order_id in sorted({p.order_id for p in parts.values()}):
            order = tx.lock_id(order_id)
            current = order
            all_events = []
            for i in order_line_ids:
                part = parts.get(i)
                if part is None or part.order_id != order_id:
                    continue
                package = current.package(part.package_id)
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
