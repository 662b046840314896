"""Refunds: the refund account is the one entry; everything else here serves it."""

from __future__ import annotations

from kalem.domain.refunds.account import (
    RefundAccount,
)
from kalem.domain.refunds.book import (
    DEFAULT_STRATEGY,
    CancellationStrategy,
    InvalidBillableOrder,
    strategy_from_dict,
)
from kalem.domain.refunds.breakdown import (
    RefundBreakdown,
)
from kalem.domain.refunds.records import (
    Payout,
    Refund,
    RefundCause,
    RefundMethod,
    RefundNotFound,
    RefundStatus,
    payout,
    settle_refund,
)

__all__ = [
    "CancellationStrategy",
    "DEFAULT_STRATEGY",
    "InvalidBillableOrder",
    "Payout",
    "Refund",
    "RefundAccount",
    "RefundBreakdown",
    "RefundCause",
    "RefundMethod",
    "RefundNotFound",
    "RefundStatus",
    "payout",
    "settle_refund",
    "strategy_from_dict",
]
