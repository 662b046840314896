"""Refunds: the refund account is the one entry; everything else here serves it.

`RefundAccount.of(order, refunds, strategy)` answers what was paid, refunded, pending and still
refundable (credit notes, `Credit`, count as money returned), previews refunds and makes them (of
units, or of amounts by type); the rest are the values it takes and gives back, and the errors it raises.
"""

from __future__ import annotations

from kalem.domain.refunds.account import (
    RefundAccount,
    UnitAccount,
)
from kalem.domain.refunds.amounts import (
    Collected,
    InvalidRefund,
    RefundCurrencyMismatch,
    RefundExceedsPaid,
)
from kalem.domain.refunds.book import (
    DEFAULT_STRATEGY,
    CancellationStrategy,
    CargoNotRefundable,
    CargoRule,
    ForcedAmountExceedsPaid,
    InvalidBillableOrder,
    InvalidCancellationStrategy,
    InvalidRefundInput,
    PartialRefundNotAllowed,
    RefundError,
    RefundExceedsRefundable,
    RefundLineNotFound,
    RefundQuantityNotPositive,
    strategy_from_dict,
)
from kalem.domain.refunds.breakdown import (
    RefundBreakdown,
    RefundLine,
)
from kalem.domain.refunds.credits import (
    Credit,
    UnitsCredited,
)
from kalem.domain.refunds.iban import (
    InvalidIban,
)
from kalem.domain.refunds.policy import (
    DEFAULT_POLICY,
    DIRECT_CHANNEL,
    RefundPolicy,
    RefundPolicyUnknown,
    channel_name,
    effective_policy,
    refund_policy,
)
from kalem.domain.refunds.records import (
    REFUND_TYPES,
    ForcedAmountOperatorOnly,
    InvalidPayout,
    Payout,
    Refund,
    RefundAlreadySettled,
    RefundCause,
    RefundMethod,
    RefundNotFound,
    RefundNotRetryable,
    RefundStatus,
    UnitsNotRefundable,
    claim_refund,
    payout,
    settle_refund,
)

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_STRATEGY",
    "DIRECT_CHANNEL",
    "REFUND_TYPES",
    "CancellationStrategy",
    "CargoNotRefundable",
    "CargoRule",
    "Collected",
    "Credit",
    "ForcedAmountExceedsPaid",
    "ForcedAmountOperatorOnly",
    "InvalidBillableOrder",
    "InvalidCancellationStrategy",
    "InvalidIban",
    "InvalidPayout",
    "InvalidRefund",
    "InvalidRefundInput",
    "PartialRefundNotAllowed",
    "Payout",
    "Refund",
    "RefundAccount",
    "RefundAlreadySettled",
    "RefundBreakdown",
    "RefundCause",
    "RefundCurrencyMismatch",
    "RefundError",
    "RefundExceedsPaid",
    "RefundExceedsRefundable",
    "RefundLine",
    "RefundLineNotFound",
    "RefundMethod",
    "RefundNotFound",
    "RefundNotRetryable",
    "RefundPolicy",
    "RefundPolicyUnknown",
    "RefundQuantityNotPositive",
    "RefundStatus",
    "UnitAccount",
    "UnitsCredited",
    "UnitsNotRefundable",
    "channel_name",
    "claim_refund",
    "effective_policy",
    "payout",
    "refund_policy",
    "settle_refund",
    "strategy_from_dict",
]
