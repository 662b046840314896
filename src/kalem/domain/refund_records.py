"""Refund records: what was (or is being) paid back for which units, and how it settles.

    pending ──settle──▶ succeeded | failed

A refund is caused by a cancellation (cancelled units) or a return (returned units) and takes units
that are not refunded yet. The amount comes from `refunds.compute_refund` under the seller's
cancellation strategy, with what earlier refunds took (units and cash) as its starting point, so
the refunds of an order never return more than was paid. A failed refund gives its units back:
they may be refunded again.

The full IBAN of a fund transfer lives only in `Payout.iban` (the payer needs it); every event and
view gets `iban_masked`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from kalem.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from kalem.domain.events import Actor, Event
from kalem.domain.iban import mask_iban, validate_iban
from kalem.domain.orders import Order
from kalem.domain.refunds import (
    BillableLine,
    BillableOrder,
    CancellationStrategy,
    RefundBreakdown,
    compute_refund,
)

ZERO = Decimal(0)


class RefundMethod(StrEnum):
    ORIGINAL = "original"            # back to the card / wallet the buyer paid with
    FUND_TRANSFER = "fund_transfer"  # a bank transfer to an IBAN (Akinon `ibans` / `holder_names`)


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundCause(StrEnum):
    CANCELLATION = "cancellation"
    RETURN = "return"


# --- errors -------------------------------------------------------------------------------------
class ForcedAmountOperatorOnly(PermissionDenied):
    code = "forced_amount_operator_only"


class UnitsNotRefundable(Conflict):
    code = "units_not_refundable"


class RefundNotFound(NotFound):
    code = "refund_not_found"


class RefundAlreadySettled(Conflict):
    code = "refund_already_settled"


class InvalidPayout(InvalidInput):
    code = "invalid_payout"


# --- model --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Payout:
    method: RefundMethod
    iban: str | None = None         # electronic form, validated
    holder_name: str | None = None

    @property
    def iban_masked(self) -> str | None:
        return mask_iban(self.iban) if self.iban else None


def payout(method: str | None, iban: str | None, holder_name: str | None) -> Payout:
    """A validated payout: a fund transfer needs a valid IBAN and a holder; the original method neither."""
    if method is None:
        method = RefundMethod.FUND_TRANSFER.value if iban else RefundMethod.ORIGINAL.value
    try:
        chosen = RefundMethod(method)
    except ValueError:
        raise InvalidPayout(f"method must be one of {', '.join(RefundMethod)}", field="method") from None
    holder = holder_name.strip() if isinstance(holder_name, str) else None
    if chosen is RefundMethod.ORIGINAL:
        if iban or holder:
            raise InvalidPayout("an IBAN and a holder name go with method fund_transfer only", field="iban")
        return Payout(chosen)
    if not iban:
        raise InvalidPayout("a fund transfer needs an IBAN", field="iban")
    if not holder:
        raise InvalidPayout("a fund transfer needs the account holder's name", field="holder_name")
    return Payout(chosen, validate_iban(iban), holder)


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    order_id: str
    seller_id: str
    order_number: str
    cause: RefundCause
    lines: tuple[tuple[str, int], ...]
    breakdown: dict[str, Any]       # RefundBreakdown.to_dict(): the explanation travels with the record
    amount: Decimal
    currency: str
    payout: Payout
    status: RefundStatus
    created_by: str
    created_at: datetime
    forced_amount: Decimal | None = None
    forced_by: str | None = None
    reference: str | None = None    # the caller's own number (HG refund_number, Akinon refund invoice)
    return_id: str | None = None
    settled_by: str | None = None
    settled_at: datetime | None = None

    @property
    def counts(self) -> bool:
        """A failed refund paid nothing: its units and cash no longer count."""
        return self.status is not RefundStatus.FAILED


def refunded_units(refunds: Iterable[Refund], cause: RefundCause | None = None) -> dict[str, int]:
    done: dict[str, int] = {}
    for refund in refunds:
        if refund.counts and cause in (None, refund.cause):
            for line_id, n in refund.lines:
                done[line_id] = done.get(line_id, 0) + n
    return done


def refunded_amount(refunds: Iterable[Refund]) -> Decimal:
    return sum((r.amount for r in refunds if r.counts), ZERO)


def refunded_shipping(refunds: Iterable[Refund]) -> Decimal:
    return sum((Decimal(r.breakdown.get("shipping_amount", "0")) for r in refunds if r.counts), ZERO)


def billable(order: Order) -> BillableOrder:
    return BillableOrder(order.currency, tuple(
        BillableLine(ln.line_id, ln.quantity, ln.unit_price, ln.discount, ln.tax_rate, ln.name)
        for ln in order.lines), order.shipping_amount)


def refundable_units(order: Order, refunds: Iterable[Refund], cause: RefundCause) -> dict[str, int]:
    """Units per line that this cause may still refund: cancelled (or returned) minus refunded."""
    done = refunded_units(refunds, cause)
    source = "cancelled" if cause is RefundCause.CANCELLATION else "returned"
    return {ln.line_id: getattr(ln.ledger, source) - done.get(ln.line_id, 0) for ln in order.lines}


def preview(order: Order, refunds: Iterable[Refund], counts: Mapping[str, int], strategy: CancellationStrategy,
            *, include_cargo: bool | None = None, forced_amount: Decimal | None = None,
            actor: Actor | None = None) -> RefundBreakdown:
    """What refunding these units would pay, given the refunds so far. Changes nothing."""
    refunds = list(refunds)
    if forced_amount is not None and actor is not None and actor.kind != "operator":
        raise ForcedAmountOperatorOnly("only an operator may force a refund amount", field="forced_amount")
    for line_id in counts:
        order.line(line_id)
    return compute_refund(billable(order), dict(counts), refunded_units(refunds), strategy,
                          include_cargo=include_cargo, forced_amount=forced_amount,
                          already_refunded_amount=refunded_amount(refunds),
                          already_refunded_shipping=refunded_shipping(refunds))


def create_refund(order: Order, refunds: Iterable[Refund], counts: Mapping[str, int], *, cause: RefundCause,
                  strategy: CancellationStrategy, pay: Payout, refund_id: str, actor: Actor, now: datetime,
                  include_cargo: bool | None = None, forced_amount: Decimal | None = None,
                  reference: str | None = None, return_id: str | None = None) -> tuple[Order, Refund, list[Event]]:
    """Refund units already cancelled (or returned) and not refunded yet; a `pending` record."""
    refunds = list(refunds)
    if forced_amount is not None and actor.kind != "operator":
        raise ForcedAmountOperatorOnly("only an operator may force a refund amount", field="forced_amount")
    available = refundable_units(order, refunds, cause)
    for line_id, n in counts.items():
        order.line(line_id)
        if isinstance(n, int) and n > available[line_id]:
            state = "cancelled" if cause is RefundCause.CANCELLATION else "returned"
            raise UnitsNotRefundable(
                f"line {line_id}: {n} units asked, {available[line_id]} {state} and not refunded yet",
                line_id=line_id, requested=n, refundable=available[line_id], cause=cause.value)
    breakdown = preview(order, refunds, counts, strategy, include_cargo=include_cargo, forced_amount=forced_amount)
    lines = tuple((line.line_id, line.quantity) for line in breakdown.lines)
    refund = Refund(refund_id, order.id, order.seller_id, order.order_number, cause, lines, breakdown.to_dict(),
                    breakdown.total, order.currency, pay, RefundStatus.PENDING, actor.label, now,
                    forced_amount=breakdown.forced_amount, forced_by=actor.label if forced_amount is not None else None,
                    reference=reference, return_id=return_id)
    recorder = order.recorder(actor, now)
    recorder.record("refund.created", **refund_event_data(refund))
    changed, events = order.evolve(recorder)
    return changed, refund, events


def settle_refund(order: Order, refund: Refund, status: str, *, actor: Actor,
                  now: datetime) -> tuple[Order, Refund, list[Event]]:
    try:
        outcome = RefundStatus(status)
    except ValueError:
        raise InvalidInput("status must be succeeded or failed", field="status") from None
    if outcome is RefundStatus.PENDING:
        raise InvalidInput("status must be succeeded or failed", field="status")
    if refund.status is not RefundStatus.PENDING:
        raise RefundAlreadySettled(f"refund {refund.id} is already {refund.status}", refund_id=refund.id,
                                   status=refund.status.value)
    settled = replace(refund, status=outcome, settled_by=actor.label, settled_at=now)
    recorder = order.recorder(actor, now)
    recorder.record("refund.settled", **refund_event_data(settled))
    changed, events = order.evolve(recorder)
    return changed, settled, events


def refund_event_data(refund: Refund) -> dict[str, Any]:
    """The refund as events carry it: never the whole IBAN."""
    return {"refund_id": refund.id, "status": refund.status.value, "cause": refund.cause.value,
            "amount": str(refund.amount), "currency": refund.currency,
            "lines": [{"line_id": lid, "quantity": n} for lid, n in refund.lines],
            "method": refund.payout.method.value, "iban_masked": refund.payout.iban_masked,
            "holder_name": refund.payout.holder_name, "forced_amount":
                None if refund.forced_amount is None else str(refund.forced_amount),
            "forced_by": refund.forced_by, "reference": refund.reference, "return_id": refund.return_id}
