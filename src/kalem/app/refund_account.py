"""An order's refund account as the use cases read it: its refunds so far under its seller's strategy."""

from __future__ import annotations

from kalem.domain.orders import Order
from kalem.domain.refunds import DEFAULT_STRATEGY, CancellationStrategy, RefundAccount, strategy_from_dict
from kalem.store.uow import UnitOfWork


def strategy_of(uow: UnitOfWork, seller_id: str) -> CancellationStrategy:
    stored = uow.strategies.get(seller_id)
    return DEFAULT_STRATEGY if stored is None else strategy_from_dict(stored)


def account_of(uow: UnitOfWork, order: Order) -> RefundAccount:
    """The order's refund account: its refunds so far under its seller's strategy."""
    return RefundAccount.of(order, uow.refunds.for_order(order.id), strategy_of(uow, order.seller_id))
