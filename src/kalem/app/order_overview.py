"""Everything a seller reads about one order, in one read: the order, what it cost and what went back,
its cancel requests, refunds, invoices and credit notes, and its history.

Every figure comes from the order aggregate and its refund account, read in the same transaction, so
the page that shows them never adds a number of its own and never mixes two moments.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kalem.app.billing import billing_of
from kalem.app.principals import Principal
from kalem.domain.billing import OrderBilling
from kalem.domain.orders import CancelRequest, Order
from kalem.domain.refunds import Refund, RefundAccount
from kalem.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class OrderMoney:
    """What the order cost and what went back, in its currency."""

    currency: str
    items: Decimal       # quantity × unit price, before discounts
    discounts: Decimal
    shipping: Decimal
    paid: Decimal        # what the buyer paid: items net of discounts, plus shipping
    refunded: Decimal    # settled refunds
    pending: Decimal     # refunds not settled yet
    refundable: Decimal  # what may still go back
    credited: Decimal | None  # credit notes, for an order kalem bills; None otherwise
    lines: dict[str, Decimal]  # what each line paid: its units net of its discount


@dataclass(frozen=True, slots=True)
class OrderOverview:
    order: Order
    money: OrderMoney
    requests: tuple[CancelRequest, ...]
    refunds: tuple[Refund, ...]
    billing: OrderBilling | None  # None: kalem does not bill this order
    events: tuple[dict, ...]      # oldest first


def order_overview(uow: UnitOfWork, order_number: str, principal: Principal,
                   seller_id: str | None = None) -> OrderOverview:
    """The order `principal` may see by that number; another seller's is not found, like a missing one."""
    with uow:
        order = uow.orders.get(order_number, principal.scope or seller_id)
        refunds = tuple(uow.refunds.for_order(order.id))
        billing = billing_of(uow, order)
        requests = tuple(uow.cancel_requests.for_order(order.id))
        events = tuple(uow.events.for_order(order.id, after=0, limit=1000))
    billed = billing if billing.enabled else None
    return OrderOverview(order, money_of(order, refunds, billed), requests, refunds, billed, events)


def money_of(order: Order, refunds: tuple[Refund, ...], billing: OrderBilling | None) -> OrderMoney:
    account = RefundAccount.for_view(order, refunds)  # what it paid, even when its amounts are too fine to refund
    credited = None if billing is None else sum((n.amount for n in billing.history.credit_notes), Decimal(0))
    return OrderMoney(
        currency=order.currency,
        items=sum((ln.quantity * ln.unit_price for ln in order.lines), Decimal(0)),
        discounts=sum((ln.discount for ln in order.lines), Decimal(0)),
        shipping=order.shipping_amount, paid=account.paid, refunded=account.refunded, pending=account.pending,
        refundable=account.refundable, credited=credited,
        lines={ln.line_id: ln.quantity * ln.unit_price - ln.discount for ln in order.lines})
