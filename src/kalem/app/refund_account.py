"""An order's refund account as the use cases read it: its refunds and credit notes so far under its
seller's strategy."""

from __future__ import annotations

from kalem.domain.billing import destination_of
from kalem.domain.orders import Order
from kalem.domain.refunds import DEFAULT_STRATEGY, CancellationStrategy, Credit, RefundAccount, strategy_from_dict
from kalem.store.uow import UnitOfWork


def strategy_of(uow: UnitOfWork, seller_id: str) -> CancellationStrategy:
    stored = uow.strategies.get(seller_id)
    return DEFAULT_STRATEGY if stored is None else strategy_from_dict(stored)


def credits_of(uow: UnitOfWork, order: Order) -> tuple[Credit, ...]:
    """The order's credit notes as its refund account counts them; only an order billed across a border
    has a bill (and a stored one only once something changed it)."""
    if destination_of(order) is None:
        return ()
    billing = uow.billing.get(order.id)
    return billing.credits() if billing is not None else ()


def account_of(uow: UnitOfWork, order: Order) -> RefundAccount:
    """The order's refund account: its refunds and credit notes so far under its seller's strategy."""
    return RefundAccount.of(order, uow.refunds.for_order(order.id), strategy_of(uow, order.seller_id),
                            credits_of(uow, order))
