"""What the Akinon face needs beyond the native use cases: integer pks for orders and their units.

Akinon (Omnitron) keys an order and each order item by an integer, one order item per unit: the
item pk names kalem's unit number n of its line. kalem mints them on first sight of an order
(idempotent inserts), the order's before its units', and never changes them: an Akinon client may
keep them forever, and a pk always names the same unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from kalem.app.principals import Principal
from kalem.domain.errors import NotFound
from kalem.domain.orders import Order
from kalem.domain.refunds import Refund
from kalem.platforms.akinon.face.errors import OrderPkNotFound
from kalem.platforms.akinon.store import AkinonIdRepository
from kalem.store.uow import UnitOfWork


@dataclass(frozen=True)
class Numbered:
    order: Order
    pk: int
    units: dict[tuple[str, int], int]   # (line id, unit number) → order-item pk
    refunds: tuple[Refund, ...] = ()

    def unit_of(self, item_pk: int) -> tuple[str, int] | None:
        for key, pk in self.units.items():
            if pk == item_pk:
                return key
        return None


def _units(order: Order) -> list[tuple[str, int]]:
    return [(ln.line_id, n) for ln in order.lines for n, _ in ln.units.layout()]


def numbered(uow: UnitOfWork, order: Order) -> Numbered:
    """The order with its pks, minting what is missing (inside the caller's transaction)."""
    ids = uow.repository(AkinonIdRepository)
    pk, units = ids.for_order(order.id)
    if pk is None or any(u not in units for u in _units(order)):
        ids.mint(order.seller_id, order.id, _units(order))
        pk, units = ids.for_order(order.id)
    assert pk is not None, "minting numbers the order"
    return Numbered(order, pk, units, tuple(uow.refunds.for_order(order.id)))


def order_id(uow: UnitOfWork, order_pk: int, principal: Principal) -> str:
    """The kalem id of the order with this pk, if the caller may see it."""
    found = uow.repository(AkinonIdRepository).resolve([order_pk]).get(order_pk)
    if found is None or found.kind != "order" or principal.scope not in (None, found.seller_id):
        raise OrderPkNotFound("Not found.", pk=order_pk)
    return found.order_id


def by_pk(uow: UnitOfWork, order_pk: int, principal: Principal) -> Numbered:
    with uow:
        result = numbered(uow, uow.orders.get_by_id(order_id(uow, order_pk, principal)))
        uow.commit()
        return result


def by_number(uow: UnitOfWork, number: str, principal: Principal) -> list[Numbered]:
    with uow:
        try:
            orders = [uow.orders.get(number, principal.scope)]
        except NotFound:
            orders = []
        result = [numbered(uow, o) for o in orders]
        uow.commit()
        return result


def listed(uow: UnitOfWork, principal: Principal, *, number: int, size: int) -> tuple[int, list[Numbered]]:
    """(count, the orders of page `number`), newest first."""
    with uow:
        orders = uow.orders.list(principal.scope, limit=size, offset=(number - 1) * size)
        result = uow.orders.count(principal.scope), [numbered(uow, o) for o in orders]
        uow.commit()
        return result
