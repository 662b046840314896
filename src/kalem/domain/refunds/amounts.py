"""Refunds of amounts by type rather than of units (Zonos `orderRefundCreate`), in the order's refund account.

A billed order (one with a landed cost) collects its invoices; a refund of amounts names ITEM,
SHIPPING and DUTY_TAX_FEE subtotals. Per type it may not exceed what the latest landed cost bills of
that type minus what every refund of the order returned of it (refunds of units included: their
items and shipping count), and in all it may not exceed the cash collected net of credit notes and
of every refund — so money never goes back twice, whichever face refunded it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from kalem.domain.errors import Conflict, InvalidInput
from kalem.domain.events.event import Actor, Event
from kalem.domain.events.refunds import RefundRecorded, Subtotal
from kalem.domain.money import is_exact
from kalem.domain.orders.order import Order
from kalem.domain.refunds.account import REFUND_TYPES, RefundAccount
from kalem.domain.refunds.records import Payout, Refund, RefundCause, RefundMethod, RefundStatus

ZERO = Decimal(0)


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


def refund_amounts(account: RefundAccount, subtotals: Sequence[tuple[str, Decimal]], collected: Collected, *,
                   currency: str, note: str | None, refund_id: str, actor: Actor,
                   now: datetime, via: str | None = None) -> tuple[Order, Refund, list[Event]]:
    """A pending refund of these subtotals (type, amount), checked against the account; `via` names
    the face it came through."""
    order = account.order
    if currency.upper() != order.currency:
        raise RefundCurrencyMismatch(f"the order is in {order.currency}, not {currency}", currency=currency)
    if not subtotals:
        raise InvalidRefund("name at least one subtotal")
    parts: dict[str, Decimal] = {}
    for type_, amount in subtotals:
        if type_ not in REFUND_TYPES:
            raise InvalidRefund(f"subtotal type must be one of {', '.join(REFUND_TYPES)}", type=type_)
        if not amount.is_finite() or amount <= 0 or not is_exact(amount, order.currency):
            raise InvalidRefund(f"{type_}: amount must be positive and exact in {order.currency}",
                                type=type_, amount=str(amount))
        parts[type_] = parts.get(type_, ZERO) + amount
    for type_, amount in parts.items():
        if collected.billed is None:
            break
        left = collected.billed[type_] - account.refunded_of(type_)
        if amount > left:
            raise RefundExceedsPaid(f"{type_}: {amount} asked, {max(left, ZERO)} refundable", type=type_)
    total = sum(parts.values(), ZERO)
    left = collected.cash - sum((r.amount for r in account.refunds if r.counts), ZERO)
    if total > left:
        raise RefundExceedsPaid(f"{total} asked, {max(left, ZERO)} refundable",
                                asked=str(total), refundable=str(max(left, ZERO)))
    refund = Refund(refund_id, order.id, order.seller_id, order.order_number, RefundCause.AMOUNTS, (),
                    _breakdown(subtotals, total, order.currency, note), total, order.currency,
                    Payout(RefundMethod.ORIGINAL), RefundStatus.PENDING, actor.label, now)
    recorder = order.recorder(actor, now)
    recorder.record(RefundRecorded(refund_id=refund_id, amount=total, note=note,
                                   subtotals=tuple(Subtotal(t, a) for t, a in subtotals), via=via or None))
    changed, events = order.evolve(recorder)
    return changed, refund, events


def _breakdown(subtotals: Sequence[tuple[str, Decimal]], total: Decimal, currency: str,
               note: str | None) -> dict[str, Any]:
    shipping = sum((a for t, a in subtotals if t == "SHIPPING"), ZERO)
    return {"currency": currency, "lines": [], "subtotals": [{"type": t, "amount": str(a)} for t, a in subtotals],
            "shipping_amount": str(shipping), "taxes": [], "computed_total": str(total), "total": str(total),
            "note": note, "explanation": [f"{t} {a}" for t, a in subtotals] + [f"total refunded {total} {currency}"]}
