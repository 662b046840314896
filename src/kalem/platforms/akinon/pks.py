"""What the Akinon face needs beyond the native use cases: integer pks for orders and their units.

Akinon (Omnitron) keys an order and each order item by an integer, one order item per unit: the
item pk names kalem's unit number n of its line, and never changes: an Akinon client may keep it.

The pks are computed, so showing an order never writes: the order's pk is `BASE + serial × BLOCK`
(its serial is numbered when the order is taken in, `order_serials`), and the k-th unit of the order,
counting each line's units in line order, is the order's pk + k. An order numbered before pks were
computed keeps the pks stored for it in `akinon_ids`, which stay below `BASE`; so do the pks of
cancellation requests, stored when a request is made.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kalem.app.principals import Principal
from kalem.domain.errors import NotFound
from kalem.domain.orders import Order
from kalem.domain.refunds import Refund
from kalem.platforms.akinon.channels import channel_id, channel_named
from kalem.platforms.akinon.face.errors import OrderPkNotFound
from kalem.platforms.akinon.store import AkinonIdRepository
from kalem.store.serials import OrderSerialRepository
from kalem.store.uow import UnitOfWork

#: Computed pks start above any pk `akinon_ids` will mint, and stay below 2^53 (exact in JavaScript)
#: for the first 8.5 billion orders. An order has room for BLOCK - 1 units (KALEM_MAX_ORDER_UNITS is
#: at most 1,000,000).
BASE = 2**32
BLOCK = 2**20


def _ordinals(order: Order) -> tuple[list[int], list[str]]:
    """(how many units the lines before each line hold, the line ids), in line order."""
    before, total = [], 0
    for line in order.lines:
        before.append(total)
        total += line.quantity
    return before, [line.line_id for line in order.lines]


def unit_at(order: Order, k: int) -> tuple[str, int] | None:
    """The unit `(line id, number)` that is the k-th of the order (from 1), if there is one."""
    before, line_ids = _ordinals(order)
    index = bisect_right(before, k - 1) - 1
    if k < 1 or index < 0:
        return None
    n = k - before[index]
    return (line_ids[index], n) if n <= order.lines[index].quantity else None


@dataclass(frozen=True)
class Numbered:
    order: Order
    pk: int
    base: int                                        # the pk of the order's block (computed pks)
    stored: Mapping[tuple[str, int], int] = field(default_factory=dict)  # units numbered before
    refunds: tuple[Refund, ...] = ()
    channel_id: int | None = None                    # the order's channel (channels.py)

    def unit_pks(self) -> dict[str, int]:
        """line id → the pk its unit 0 would have (unit n's pk is this + n), for computed pks."""
        before, line_ids = _ordinals(self.order)
        return {line_id: self.base + b for line_id, b in zip(line_ids, before, strict=True)}

    def unit_pk(self, line_id: str, n: int, computed: Mapping[str, int] | None = None) -> int:
        stored = self.stored.get((line_id, n))
        if stored is not None:
            return stored
        return (computed or self.unit_pks())[line_id] + n

    def unit_of(self, item_pk: int) -> tuple[str, int] | None:
        for key, pk in self.stored.items():
            if pk == item_pk:
                return key
        if not 0 < item_pk - self.base < BLOCK:
            return None
        unit = unit_at(self.order, item_pk - self.base)
        return unit if unit is not None and unit not in self.stored else None

    def with_order(self, order: Order, refunds: tuple[Refund, ...]) -> Numbered:
        return Numbered(order, self.pk, self.base, self.stored, refunds, self.channel_id)


def numbered(uow: UnitOfWork, order: Order) -> Numbered:
    """The order with its pks: those stored for it, else computed. Reads only."""
    serial = uow.repository(OrderSerialRepository).of([order.id])[order.id]
    base = BASE + serial * BLOCK
    pk, stored = uow.repository(AkinonIdRepository).for_order(order.id)
    return Numbered(order, base if pk is None else pk, base, stored, tuple(uow.refunds.for_order(order.id)),
                    channel_id(uow, order.channel))


@dataclass(frozen=True)
class Found:
    """What a pk names: the order, a unit (by its line and number when stored, else by its place k in
    the order), or another object of the order (a stored `key`)."""
    seller_id: str
    order_id: str
    kind: Literal["order", "unit", "object"]
    key: str = ""
    unit: tuple[str, int] | None = None
    k: int | None = None

    def unit_in(self, order: Order) -> tuple[str, int] | None:
        return self.unit if self.k is None else unit_at(order, self.k)


def find(uow: UnitOfWork, pk: int) -> Found | None:
    """What a pk names, whoever may see it; None when nothing."""
    if pk >= BASE:
        serial, k = divmod(pk - BASE, BLOCK)
        located = uow.repository(OrderSerialRepository).order(serial)
        if located is None:
            return None
        order_id, seller_id = located
        return Found(seller_id, order_id, "order") if k == 0 else Found(seller_id, order_id, "unit", k=k)
    row = uow.repository(AkinonIdRepository).resolve([pk]).get(pk)
    if row is None:
        return None
    unit = None if row.unit is None else (row.line_id, row.unit)
    return Found(row.seller_id, row.order_id, row.kind, row.line_id if row.kind == "object" else "", unit)


def order_pk(uow: UnitOfWork, order_id: str) -> int:
    """The pk Akinon clients know the order by."""
    stored = uow.repository(AkinonIdRepository).order_pk(order_id)
    if stored is not None:
        return stored
    return BASE + uow.repository(OrderSerialRepository).of([order_id])[order_id] * BLOCK


def order_id(uow: UnitOfWork, order_pk: int, principal: Principal) -> str:
    """The kalem id of the order with this pk, if the caller may see it."""
    found = find(uow, order_pk)
    if found is None or found.kind != "order" or principal.scope not in (None, found.seller_id):
        raise OrderPkNotFound("Not found.", pk=order_pk)
    return found.order_id


def in_channel(uow: UnitOfWork, order: Order, channel: int | None, order_pk: int) -> Order:
    """The order, if it is of the channel a path names by id (None: a path naming none); else not found,
    as if there were no such order: a channel's paths hold only that channel's orders."""
    if channel is not None and order.channel != channel_named(uow, channel):
        raise OrderPkNotFound("Not found.", pk=order_pk)
    return order


def by_pk(uow: UnitOfWork, order_pk: int, principal: Principal, channel: int | None = None) -> Numbered:
    with uow:
        order = uow.orders.get_by_id(order_id(uow, order_pk, principal))
        return numbered(uow, in_channel(uow, order, channel, order_pk))


def by_number(uow: UnitOfWork, number: str, principal: Principal, channel: int | None = None) -> list[Numbered]:
    """The order with this number (none or one), of the channel with id `channel` when given."""
    with uow:
        try:
            orders = [uow.orders.get(number, principal.scope)]
        except NotFound:
            orders = []
        wanted = None if channel is None else channel_named(uow, channel)
        return [numbered(uow, o) for o in orders if wanted in (None, o.channel)]


#: The most order items (units) one page of the order listing shows, unless its first order alone
#: holds more: a page of `limit` orders stops at the order that would take it past this many.
UNITS_PER_PAGE = 10_000


def listed(uow: UnitOfWork, principal: Principal, *, offset: int, size: int,
           channel: int | None = None,
           changed: tuple[datetime | None, datetime | None] = (None, None)) -> tuple[int, list[Numbered]]:
    """(count, up to `size` orders from `offset`, newest first, holding at most UNITS_PER_PAGE units
    unless the first alone holds more); `channel` (an id) narrows them to one channel's, `changed` to
    the orders last changed within [from, to]."""
    with uow:
        name = None if channel is None else channel_named(uow, channel)
        orders = uow.orders.list(principal.scope, limit=size, offset=offset, channel=name, changed=changed)
        kept: list[Order] = []
        units = 0
        for order in orders:
            units += sum(line.quantity for line in order.lines)
            if kept and units > UNITS_PER_PAGE:
                break
            kept.append(order)
        return uow.orders.count(principal.scope, name, changed=changed), [numbered(uow, o) for o in kept]
