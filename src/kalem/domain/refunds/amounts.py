"""Refunds of amounts by type rather than of units (Zonos `orderRefundCreate`): what one names and what it may return.

A billed order (one with a landed cost) collects its invoices; a refund of amounts names ITEM,
SHIPPING and DUTY_TAX_FEE subtotals. The order's refund account makes it
(`RefundAccount.refund_amounts`): per type it may not exceed what the latest landed cost bills of
that type minus what every refund of the order returned of it (refunds of units included: their
items and shipping count), and in all it may not exceed the cash collected net of credit notes and
of every refund — so money never goes back twice, whichever face refunded it. A credit note made
after one gives back only what it did not return: the bill keeps, per type, what refunds returned
(`domain/billing/order_billing.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kalem.domain.errors import Conflict, InvalidInput
from kalem.domain.money import is_exact
from kalem.domain.refunds.records import REFUND_TYPES

ZERO = Decimal(0)

Subtotals = Sequence[tuple[str, Decimal]]
"""A refund of amounts as asked: (type, amount) pairs, a type possibly more than once."""


class RefundExceedsPaid(Conflict):
    code = "refund_exceeds_paid"


class RefundCurrencyMismatch(InvalidInput):
    code = "refund_currency_mismatch"


class InvalidRefund(InvalidInput):
    code = "invalid_refund"


@dataclass(frozen=True, slots=True)
class Collected:
    """What a billed order collected: per refund type what its latest landed cost bills (none: no
    cap per type), and the cash of its charged invoices net of credit notes."""

    billed: Mapping[str, Decimal] | None
    cash: Decimal


def checked_subtotals(subtotals: Subtotals, currency: str, order_currency: str) -> dict[str, Decimal]:
    """The amount asked per type, once the request is in the order's currency and every amount is
    positive and exact in it."""
    if currency.upper() != order_currency:
        raise RefundCurrencyMismatch(f"the order is in {order_currency}, not {currency}", currency=currency)
    if not subtotals:
        raise InvalidRefund("name at least one subtotal")
    parts: dict[str, Decimal] = {}
    for type_, amount in subtotals:
        if type_ not in REFUND_TYPES:
            raise InvalidRefund(f"subtotal type must be one of {', '.join(REFUND_TYPES)}", type=type_)
        if not amount.is_finite() or amount <= 0 or not is_exact(amount, order_currency):
            raise InvalidRefund(f"{type_}: amount must be positive and exact in {order_currency}",
                                type=type_, amount=str(amount))
        parts[type_] = parts.get(type_, ZERO) + amount
    return parts


def amounts_breakdown(subtotals: Subtotals, total: Decimal, currency: str, note: str | None) -> dict[str, Any]:
    """The breakdown a refund of amounts records: its subtotals as asked, and their total."""
    shipping = sum((a for t, a in subtotals if t == "SHIPPING"), ZERO)
    return {"currency": currency, "lines": [], "subtotals": [{"type": t, "amount": str(a)} for t, a in subtotals],
            "shipping_amount": str(shipping), "taxes": [], "computed_total": str(total), "total": str(total),
            "note": note, "explanation": [f"{t} {a}" for t, a in subtotals] + [f"total refunded {total} {currency}"]}
