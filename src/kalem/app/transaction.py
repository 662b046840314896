"""The one way a use case changes orders: lock → domain call → save at the version read → events → commit.

    with OrderTransaction(uow) as tx:
        order = tx.lock(cmd.order_number, cmd.principal, expected_version=cmd.expected_version)
        changed, events = domain.cancel_lines(order, ...)
        tx.save(changed, events)
        return tx.commit(changed)

An order is read under its lock (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's writer holds
`BEGIN IMMEDIATE`), so nothing the domain decides from can change before the commit. `save` writes
an order only at the version `lock` read — the transaction remembers it, a caller cannot pass
another — and appends the domain's events, whose webhook outbox rows are written in the same
transaction. A request that names lines of several orders locks them in id order (`lock_lines`),
so two such requests cannot deadlock. Leaving the block without `commit` rolls everything back.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self, TypeVar

from kalem.app.principals import Principal
from kalem.domain.billing import OrderBilling
from kalem.domain.errors import LineNotFound, OrderNotFound, VersionMismatch
from kalem.domain.events import Event
from kalem.domain.orders import Order
from kalem.store.uow import UnitOfWork

T = TypeVar("T")


class LineItem(Protocol):
    @property
    def line_id(self) -> str: ...


Item = TypeVar("Item", bound=LineItem)


class OrderTransaction:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._versions: dict[str, int] = {}   # order id → the version read under its lock (or last saved)

    def __enter__(self) -> Self:
        self.uow.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.uow.__exit__(exc_type, exc, tb)

    def lock(self, order_number: str, principal: Principal, seller_id: str | None = None, *,
             expected_version: int | None = None) -> Order:
        """The order with this number, locked; a seller only finds its own (an operator names `seller_id`)."""
        order = self.uow.orders.get(order_number, principal.scope or seller_id, for_update=True)
        if principal.channel not in (None, order.channel):
            raise OrderNotFound(f"order {order_number} not found", order_number=order_number)
        if expected_version is not None and order.version != expected_version:
            raise VersionMismatch(f"order {order_number} is at version {order.version}, not {expected_version}",
                                  order_number=order_number, version=order.version)
        return self._held(order)

    def lock_id(self, order_id: str, principal: Principal | None = None, *, billing: bool = False) -> Order:
        """The order with this id, locked; with a `principal`, only the orders it sees are found. `billing`:
        its bill is read with it (a billing command's, app/billing.py)."""
        order = self.uow.orders.get_by_id(order_id, for_update=True, billing=billing)
        if principal is not None and not principal.sees(order.seller_id, order.channel):
            raise OrderNotFound(f"order {order_id} not found", order_id=order_id)
        return self._held(order)

    def lock_lines(self, items: Sequence[Item], principal: Principal) -> list[tuple[Order, tuple[Item, ...]]]:
        """Items that name lines by id alone, grouped by the order holding each line; orders locked in id order."""
        by_order: dict[str, list[Item]] = {}
        for item in items:
            order_id = self.uow.orders.locate_line(item.line_id, principal.scope)
            if order_id is None:
                raise LineNotFound(f"line {item.line_id} not found", line_id=item.line_id)
            by_order.setdefault(order_id, []).append(item)
        locked = []
        for order_id in sorted(by_order):
            order = self.lock_id(order_id)
            if not principal.sees(order.seller_id, order.channel):  # another channel's line: not there
                line_id = by_order[order_id][0].line_id
                raise LineNotFound(f"line {line_id} not found", line_id=line_id)
            locked.append((order, tuple(by_order[order_id])))
        return locked

    def add(self, order: Order, intake_hash: str, events: Sequence[Event], *, new_seller: bool = False) -> Order:
        """A new order and the events of its intake (and its seller, if `new_seller` and not there yet)."""
        self.uow.add_order(order, intake_hash, list(events), new_seller=new_seller)
        self._versions[order.id] = order.version
        return order

    def save(self, changed: Order, events: Sequence[Event], billing: OrderBilling | None = None) -> Order:
        """Write a locked order's next version and its events (with their outbox rows), and its changed
        bill (`billing`, as read in this transaction) at the bill's next version."""
        version = self._versions.get(changed.id)
        if version is None:
            raise RuntimeError(f"order {changed.id} is saved without being locked in this transaction")
        self.uow.save_order(changed, expected_version=version, events=list(events), billing=billing)
        self._versions[changed.id] = changed.version
        return changed

    def commit(self, result: T) -> T:
        """Commit; the unit of work's hooks (a stored idempotent response) see `result` first."""
        self.uow.commit(result)
        return result

    def _held(self, order: Order) -> Order:
        self._versions.setdefault(order.id, order.version)
        return order
