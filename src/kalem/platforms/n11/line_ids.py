"""The n11 face's `orderLineId`s, computed: showing an order never writes.

n11 numbers a line per package: one `orderLineId` per (package, line). kalem computes them from the
order's serial (numbered when the order is taken in, `order_serials`): the order has a block of ids
from `BASE + serial × BLOCK`, and the part of line i (in line order) in the order's p-th package (in
the order the packages were made) is `1 + p × lines + i` in it. A split keeps the existing number,
as n11 does: the new package holding the first unit its parent held of the line carries the
parent's number on (a package that stayed UnSupplied in place keeps it when it holds that unit
itself); only the other new parts have numbers of their own. An order shown before ids were computed
keeps the numbers stored for it (`n11_line_ids`, `n11_carried_line_ids`, all below `BASE`): clients
keep them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kalem.domain.errors import Conflict
from kalem.domain.orders import Order, Package
from kalem.platforms.n11.store import LinePart, N11LineIdRepository
from kalem.store.serials import OrderSerialRepository
from kalem.store.uow import UnitOfWork

Numbers = dict[tuple[str, str, str], int]  # (order id, package id, line id) → orderLineId

#: Computed ids start above any id `n11_line_ids` holds and stay below 2^53 (exact in JavaScript) for
#: the first 536 million orders. An order's block has room for 16,777,215 (package, line) places,
#: e.g. 33,554 packages of a 500-line order.
BASE = 2**32
BLOCK = 2**24


class TooManyPackageLines(Conflict):
    """An order whose packages outgrow its block of orderLineIds (far beyond the intake limits)."""
    code = "too_many_package_lines"


@dataclass(frozen=True, slots=True)
class Located:
    order_id: str
    seller_id: str


def numbering(order: Order, serial: int, stored: Mapping[tuple[str, str, str], int]) -> Numbers:
    """Every (package, line) of the order with its orderLineId: stored, carried over a split, or its own."""
    base = BASE + serial * BLOCK
    lines = {line.line_id: index for index, line in enumerate(order.lines)}
    numbers: Numbers = {key: n for key, n in stored.items() if key[0] == order.id}
    by_id = {p.package_id: p for p in order.packages}
    kids: dict[str, list[Package]] = {}
    for p in order.packages:
        if p.parent_id is not None:
            kids.setdefault(p.parent_id, []).append(p)
    for index, package in enumerate(order.packages):  # creation order: a parent comes before its children
        parent = by_id.get(package.parent_id or "")
        for item in package.items:
            key = (order.id, package.package_id, item.line_id)
            if key in numbers:
                continue
            carried = None if parent is None else numbers.get((order.id, parent.package_id, item.line_id))
            if parent is not None and carried is not None:
                held = parent.units_of(item.line_id)  # what the parent held: itself and its children
                for child in kids[parent.package_id]:
                    held |= child.units_of(item.line_id)
                if next(iter(held)) in item.units:
                    numbers[key] = carried
                    continue
            local = 1 + index * len(lines) + lines[item.line_id]
            if local >= BLOCK:
                raise TooManyPackageLines(f"order {order.order_number} has more package lines than n11 "
                                          "orderLineIds can name", order_id=order.id)
            numbers[key] = base + local
    return numbers


def numbers_of(uow: UnitOfWork, orders: Iterable[Order]) -> Numbers:
    """The orderLineIds of every (package, line) of these orders. Reads only."""
    orders = list(orders)
    if not orders:
        return {}
    stored = uow.repository(N11LineIdRepository).for_orders(o.id for o in orders)
    serials = uow.repository(OrderSerialRepository).of(o.id for o in orders)
    numbers: Numbers = {}
    for order in orders:
        numbers.update(numbering(order, serials[order.id], stored))
    return numbers


def orders_of(uow: UnitOfWork, ids: Iterable[int], seller_id: str | None,
              channel: str | None = None) -> dict[int, Located]:
    """The order each id names (a seller's `seller_id` sees only its own; `channel` given, only that
    channel's orders); ids naming nothing are absent, like another seller's or channel's."""
    found: dict[int, Located] = {}
    stored = [i for i in ids if i < BASE]
    for i, parts in uow.repository(N11LineIdRepository).resolve(stored, seller_id).items():
        found[i] = Located(parts[0].order_id, parts[0].seller_id)
    serials = uow.repository(OrderSerialRepository)
    for i in ids:
        if i < BASE or i in found:
            continue
        serial, local = divmod(i - BASE, BLOCK)
        located = serials.order(serial) if local else None
        if located is not None and seller_id in (None, located[1]):
            found[i] = Located(*located)
    if channel is not None and found:
        kept = uow.repository(N11LineIdRepository).in_channel((f.order_id for f in found.values()), channel)
        found = {i: f for i, f in found.items() if f.order_id in kept}
    return found


def parts_named(order: Order, numbers: Numbers, ids: Iterable[int]) -> dict[int, list[LinePart]]:
    """id → the parts of the order carrying it, the one it was first given to first (creation order)."""
    wanted = set(ids)
    named: dict[int, list[LinePart]] = {}
    for package in order.packages:
        for item in package.items:
            n = numbers.get((order.id, package.package_id, item.line_id))
            if n in wanted:
                named.setdefault(n, []).append(
                    LinePart(n, order.seller_id, order.id, package.package_id, item.line_id))
    return named
