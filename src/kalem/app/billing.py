"""What an order bills: the one way a command changes an order and its billing together, charging an
invoice, and the reads of billing documents.

An order's billing is materialised on its first change (see `domain.billing.initial_billing`);
until then reads derive it from the order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

from kalem.app.principals import Principal
from kalem.app.transaction import OrderTransaction
from kalem.domain import billing as domain
from kalem.domain.billing import LandedCostError, OrderBilling, RateTable, load_default_rate_table
from kalem.domain.events import Event
from kalem.domain.orders import Order
from kalem.store.uow import UnitOfWork

#: A change of an order and its billing, decided by the domain: (order, billing) → (order, billing, events).
BillingChange = Callable[[Order, OrderBilling], tuple[Order, OrderBilling, list[Event]]]


@cache
def default_rate_table() -> RateTable:
    """The shipped illustrative table, read once per process."""
    return load_default_rate_table()


@dataclass(frozen=True, slots=True)
class Billed:
    order: Order
    billing: OrderBilling


def billing_of(uow: UnitOfWork, order: Order, table: RateTable | None = None) -> OrderBilling:
    return uow.billing.get(order.id) or domain.initial_billing(order, table or default_rate_table())


def change_billing(tx: OrderTransaction, order: Order, change: BillingChange,
                   table: RateTable | None = None) -> Billed:
    """Change an order locked in `tx` (with its bill: `lock_id(…, billing=True)`) and its billing
    together: the order is saved with the change's events and its billing (when the order is billed)
    under the billing's own version."""
    uow = tx.uow
    billing = billing_of(uow, order, table)
    changed, billing, events = change(order, billing)
    if not billing.enabled:
        tx.save(changed, events)
        return Billed(changed, billing)
    tx.save(changed, events, billing)
    return Billed(changed, replace(billing, version=billing.version + 1))   # as saved


def charge_invoice(uow: UnitOfWork, order_id: str, invoice_number: str, principal: Principal) -> Billed:
    """Record that an invoice was collected (operators only: kalem does not move money itself)."""
    principal.require_operator()
    with OrderTransaction(uow) as tx:
        now = uow.now()
        order = tx.lock_id(order_id, principal, billing=True)
        result = change_billing(tx, order, lambda o, b: domain.charge_invoice(
            o, b, invoice_number, actor=principal.actor, now=now))
        return tx.commit(result)


# --- reads ---------------------------------------------------------------------------------------

def billing_for_number(uow: UnitOfWork, order_number: str, principal: Principal,
                       seller_id: str | None = None) -> Billed:
    with uow:
        order = uow.orders.get(order_number, principal.scope or seller_id)
        return Billed(order, billing_of(uow, order))


def derived_billing(order: Order, stored: OrderBilling | None) -> OrderBilling | None:
    """The stored billing, else the one derived from the order; None when it cannot be derived
    (a read must not fail because a rate is missing; the next change reports that)."""
    if stored is not None:
        return stored
    try:
        return domain.initial_billing(order, default_rate_table())
    except LandedCostError:
        return None
