"""Zonos's billing commands and reads, as its GraphQL API names things: an order by its id and/or its
account order number, an item by its id, SKU and/or product id. Each command is one order
transaction that locks the order and changes it and its billing together (`app.billing.change_billing`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from kalem.app.billing import Billed, BillingChange, billing_of, change_billing, default_rate_table
from kalem.app.ids import new_id
from kalem.app.principals import Principal
from kalem.app.refund_account import account_of
from kalem.app.refund_policy import refund_decision
from kalem.app.transaction import OrderTransaction
from kalem.domain import billing as domain
from kalem.domain.billing import OrderBilling, RateTable
from kalem.domain.errors import AmbiguousOrderNumber, InvalidInput, LineNotFound, NotFound, OrderNotFound
from kalem.domain.events import Actor, Event
from kalem.domain.orders import Line, Order
from kalem.domain.refunds import Refund, RefundCause
from kalem.store.uow import UnitOfWork


class AccountOrderNumberMismatch(InvalidInput):
    code = "account_order_number_mismatch"


class MissingOrderIdentifier(InvalidInput):
    code = "missing_order_identifier"


class MissingItemIdentifier(InvalidInput):
    code = "missing_item_identifier"


class ItemIdentifierMismatch(InvalidInput):
    code = "item_identifier_mismatch"


class AmbiguousSku(InvalidInput):
    code = "ambiguous_sku"


class ItemNotFound(NotFound):
    """No item of the order has the SKU or product id given."""
    code = "item_not_found"
    face_code = LineNotFound.code


@dataclass(frozen=True, slots=True)
class OrderRef:
    """An order named by its kalem id and/or its account order number (which must then agree)."""

    order_id: str | None = None
    account_order_number: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveItems:
    order: OrderRef
    line_id: str | None
    sku: str | None
    quantity: int
    principal: Principal
    table: RateTable | None = None
    via: str | None = None  # the face it came through (recorded on the events)
    product_id: str | None = None


def find_order(uow: UnitOfWork, ref: OrderRef, principal: Principal,
               get_by_id: Callable[[str], Order] | None = None) -> Order:
    """Look an order up within the caller's scope; another seller's (or channel's) order does not exist.
    `get_by_id` reads an order named by id (a locking read, when the caller changes it)."""
    if ref.order_id is not None:
        try:
            order = (get_by_id or uow.orders.get_by_id)(ref.order_id)
        except OrderNotFound:
            order = None
        if order is None or not principal.sees(order.seller_id, order.channel):
            raise OrderNotFound(f"order {ref.order_id} not found", order_id=ref.order_id)
        if ref.account_order_number is not None and ref.account_order_number != order.account_order_number:
            raise AccountOrderNumberMismatch(
                f"order {ref.order_id} does not have account order number {ref.account_order_number}",
                order_id=ref.order_id, account_order_number=ref.account_order_number)
        return order
    if ref.account_order_number is None:
        raise MissingOrderIdentifier("name the order by orderId or accountOrderNumber")
    found = uow.billing.search_orders(principal.scope, account_order_number=ref.account_order_number,
                                      statuses=None, limit=2, after=None, channel=principal.channel)
    if not found:
        raise OrderNotFound(f"no order with account order number {ref.account_order_number}",
                            account_order_number=ref.account_order_number)
    if len(found) > 1:
        raise AmbiguousOrderNumber(f"several orders have account order number {ref.account_order_number}; "
                                   "pass orderId", account_order_number=ref.account_order_number)
    return found[0]


def pick_line(order: Order, line_id: str | None, sku: str | None, product_id: str | None = None) -> Line:
    """The item named by its id, its SKU and/or its product id; when several are given they must agree."""
    if line_id is None and sku is None and product_id is None:
        raise MissingItemIdentifier("name the item by itemId, productId or itemSku")
    named = {"SKU": sku, "product id": product_id}
    if line_id is not None:
        line = order.line(line_id)
        for what, value in named.items():
            if value is not None and value != (line.sku if what == "SKU" else line.product_id):
                raise ItemIdentifierMismatch(f"item {line_id} does not have {what} {value}", line_id=line_id,
                                             sku=sku, product_id=product_id)
        return line
    found = [ln for ln in order.lines if sku in (None, ln.sku) and product_id in (None, ln.product_id)]
    said = " and ".join(f"{what} {value}" for what, value in named.items() if value is not None)
    if not found:
        if sku is not None and product_id is not None and any(
                sku == ln.sku or product_id == ln.product_id for ln in order.lines):
            raise ItemIdentifierMismatch(f"no item of order {order.order_number} has {said}", sku=sku,
                                         product_id=product_id)
        raise ItemNotFound(f"order {order.order_number} has no item with {said}", sku=sku, product_id=product_id)
    if len(found) > 1:
        raise AmbiguousSku(f"several items of order {order.order_number} have {said}; pass itemId", sku=sku,
                           product_id=product_id)
    return found[0]


def _locked(tx: OrderTransaction, ref: OrderRef, principal: Principal) -> Order:
    """The order `ref` names, locked with its bill: named by id, it is read once (locked, then checked)."""
    if ref.order_id is not None:
        return find_order(tx.uow, ref, principal, lambda order_id: tx.lock_id(order_id, billing=True))
    return tx.lock_id(find_order(tx.uow, ref, principal).id, billing=True)


def remove_items(uow: UnitOfWork, cmd: RemoveItems) -> Billed:
    """Remove `quantity` unshipped units of one item; landed cost and invoice follow."""
    table = cmd.table or default_rate_table()
    with OrderTransaction(uow) as tx:
        now = uow.now()

        def change(order: Order, billing: OrderBilling) -> tuple[Order, OrderBilling, list[Event]]:
            line = pick_line(order, cmd.line_id, cmd.sku, cmd.product_id)
            return domain.remove_item_units(order, billing, line.line_id, cmd.quantity, actor=cmd.principal.actor,
                                            now=now, table=table, via=cmd.via, account=account_of(uow, order))

        result = change_billing(tx, _locked(tx, cmd.order, cmd.principal),
                                _refunding(tx, change, cmd.principal.actor), table)
        return tx.commit(result)


def cancel_order(uow: UnitOfWork, ref: OrderRef, principal: Principal, table: RateTable | None = None,
                 via: str | None = None) -> Billed:
    table = table or default_rate_table()
    with OrderTransaction(uow) as tx:
        now = uow.now()
        result = change_billing(tx, _locked(tx, ref, principal), _refunding(tx, lambda o, b: domain.cancel_order(
            o, b, actor=principal.actor, now=now, table=table, via=via, account=account_of(uow, o)),
            principal.actor), table)
        return tx.commit(result)


def _refunding(tx: OrderTransaction, change: BillingChange, actor: Actor) -> BillingChange:
    """A removal of units with the refund the seller's refund policy makes of them (app/refund_policy.py),
    unless the order is billed: then its bill follows the units — an uncharged invoice is revised, so they
    are never collected, and a charged one credits them (the order's refund account counts the credit
    note) — and units are billed off or refunded, never both."""
    def refunding(order: Order, billing: OrderBilling) -> tuple[Order, OrderBilling, list[Event]]:
        changed, billed, events = change(order, billing)
        if billed.enabled:
            return changed, billed, events
        changed, more, _ = refund_decision(tx, order, changed, RefundCause.CANCELLATION, actor)
        return changed, billed, events + more
    return refunding


@dataclass(frozen=True, slots=True)
class RecordRefund:
    order: OrderRef
    currency: str
    subtotals: tuple[tuple[str, Decimal], ...]
    principal: Principal
    note: str | None = None
    via: str | None = None


def record_refund(uow: UnitOfWork, cmd: RecordRefund) -> tuple[Billed, Refund]:
    """A refund of amounts, in the order's refund account, capped by what its billing collected."""
    with OrderTransaction(uow) as tx:
        order = _locked(tx, cmd.order, cmd.principal)
        billing = billing_of(uow, order)
        changed, refund, events = account_of(uow, order).refund_amounts(
            cmd.subtotals, billing.collected(), currency=cmd.currency, note=cmd.note,
            refund_id=new_id("rf"), actor=cmd.principal.actor, now=uow.now(), via=cmd.via)
        uow.refunds.add(refund)
        return tx.commit((Billed(tx.save(changed, events), billing), refund))


# --- reads ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: list[Order]
    billing: dict[str, OrderBilling]  # stored billing only; derive the rest when asked
    refunds: dict[str, list[Refund]]  # every refund of each order (its refund account's records)
    actors: dict[str, tuple[str | None, str | None]]
    has_next: bool


def read_orders(uow: UnitOfWork, principal: Principal, *, ref: OrderRef | None = None,
                statuses: Iterable[str] | None = None, account_order_number: str | None = None,
                keep: Callable[[Order], bool] = lambda _: True,
                limit: int = 1, after: tuple[str, str] | None = None) -> OrderPage:
    """One order (`ref`) or a page of them, with what a view of them needs, in one transaction.

    `keep` filters what SQL cannot (a status derived from more than the status column); pages are
    refilled until `limit` kept orders are found or the orders run out.
    """
    with uow:
        if ref is not None:
            found, has_next = [find_order(uow, ref, principal)], False
        else:
            found, has_next, cursor = [], False, after
            while True:
                batch = uow.billing.search_orders(principal.scope, account_order_number=account_order_number,
                                                  statuses=statuses, limit=limit + 1, after=cursor,
                                                  channel=principal.channel)
                found.extend(o for o in batch[:limit] if keep(o))
                if len(found) > limit or (len(found) == limit and len(batch) > limit):
                    has_next = True
                    break
                if len(batch) <= limit:
                    break
                cursor = (batch[limit - 1].created_at.isoformat(), batch[limit - 1].id)
            found = found[:limit]
        return OrderPage(found, uow.billing.get_many(o.id for o in found),
                         uow.refunds.for_orders(o.id for o in found), uow.billing.actors(found), has_next)


def view_of_change(uow: UnitOfWork, billed: Billed, *, refunds: bool = True, actors: bool = True) -> OrderPage:
    """One order as a change leaves it, read in the change's own open transaction (call it from a
    `before_commit` hook): the order and billing the change returned (not read again) and, when asked,
    the order's refunds and who created and last changed it (on PostgreSQL, as the lock read them
    and the change added to them: store/money_with_lock.py, store/billing.py)."""
    order = billed.order
    stored = {order.id: billed.billing} if billed.billing.version else {}  # version 0: derived, never saved
    return OrderPage([order], stored, {order.id: uow.refunds.for_order(order.id)} if refunds else {},
                     uow.billing.actors([order]) if actors else {order.id: (None, None)}, False)
