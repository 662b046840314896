"""Refund records: what was (or is being) paid back for which units, and how it settles.

    pending ──settle──▶ succeeded | failed      (the table `REFUND`)

A refund is caused by a cancellation (cancelled units) or a return (returned units) and holds the
units it refunds, by number; or it names amounts by type (a refund of amounts). It is made by the
order's refund account (`RefundAccount`), which computes its amount under the seller's cancellation
strategy from what earlier refunds hold, so the refunds of an order never return more than was paid.
A failed refund gives its units back: they may be refunded again, for the same amount.

The full IBAN of a fund transfer lives only in `Payout.iban` (the payer needs it); every event and
view gets `iban_masked`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from kalem.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from kalem.domain.events.event import Actor, Event
from kalem.domain.events.parts import LineQuantity
from kalem.domain.events.refunds import RefundChange, RefundClaimed, RefundSettled
from kalem.domain.orders.order import Order
from kalem.domain.refunds.iban import mask_iban, validate_iban
from kalem.domain.states import Machine


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
    AMOUNTS = "amounts"  # amounts by type, no units (Zonos `orderRefundCreate`)


#: The types a refund's money is of (Zonos `OrderRefundSubtotalType`).
REFUND_TYPES = ("ITEM", "SHIPPING", "DUTY_TAX_FEE")


# --- errors -------------------------------------------------------------------------------------
class ForcedAmountOperatorOnly(PermissionDenied):
    code = "forced_amount_operator_only"


class UnitsNotRefundable(Conflict):
    code = "units_not_refundable"


class RefundNotFound(NotFound):
    code = "refund_not_found"


class RefundAlreadySettled(Conflict):
    code = "refund_already_settled"


class RefundNotRetryable(Conflict):
    """A retry of a refund that did not fail: only a failed refund's units may be refunded again."""
    code = "refund_not_retryable"


class InvalidPayout(InvalidInput):
    code = "invalid_payout"


class SettlementStatusUnknown(InvalidInput):
    """A refund's settlement other than `succeeded` or `failed`."""
    code = "settlement_status_unknown"
    face_code = InvalidInput.code


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
    units: tuple[tuple[str, int, int], ...] = ()  # (line id, first, last): the unit numbers it holds
    on_decision: bool = False       # made by a decision under the seller's `on_decision` refund policy

    @property
    def counts(self) -> bool:
        """A failed refund paid nothing: its units and cash no longer count."""
        return self.status is not RefundStatus.FAILED

    def parts(self) -> dict[str, Decimal]:
        """The refund by type: ITEM (the items' net cash), SHIPPING, DUTY_TAX_FEE (a landed cost's
        duties, taxes and fees). A refund of units has items and shipping; a refund of amounts names its own."""
        b = self.breakdown
        if "subtotals" in b:
            parts = dict.fromkeys(REFUND_TYPES, Decimal(0))
            for part in b["subtotals"]:
                parts[part["type"]] += Decimal(part["amount"])
            return parts
        items = sum((Decimal(ln["amount"]) for ln in b.get("lines", ())), Decimal(0))
        return {"ITEM": items, "SHIPPING": Decimal(b.get("shipping_amount") or 0), "DUTY_TAX_FEE": Decimal(0)}


class Settlement(StrEnum):
    """What the payer reports about a pending refund."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"


#: A refund's life: pending until the payer reports it succeeded or failed, then final.
REFUND: Machine[RefundStatus, Settlement] = Machine("refund", {
    (RefundStatus.PENDING, Settlement.SUCCEEDED): RefundStatus.SUCCEEDED,
    (RefundStatus.PENDING, Settlement.FAILED): RefundStatus.FAILED,
}, RefundAlreadySettled)


def settle_refund(order: Order, refund: Refund, status: str, *, actor: Actor,
                  now: datetime) -> tuple[Order, Refund, list[Event]]:
    try:
        outcome = Settlement(status)
    except ValueError:
        raise SettlementStatusUnknown("status must be succeeded or failed", field="status") from None
    target = REFUND.next(refund.status, outcome, message=f"refund {refund.id} is already {refund.status}",
                         refund_id=refund.id, status=refund.status.value)
    settled = replace(refund, status=target, settled_by=actor.label, settled_at=now)
    recorder = order.recorder(actor, now)
    recorder.record(refund_event(RefundSettled, settled))
    changed, events = order.evolve(recorder)
    return changed, settled, events


def claim_refund(order: Order, refund: Refund, *, reference: str | None, pay: Payout, actor: Actor,
                 now: datetime) -> tuple[Order, Refund, list[Event]]:
    """A platform's own refund of exactly the units of a pending refund a decision made takes it over: the
    same refund, with the platform's reference and payout, and a `refund.claimed` event that tells
    integrators its new reference and payout."""
    if refund.status is not RefundStatus.PENDING:
        raise RefundAlreadySettled(f"refund {refund.id} is already {refund.status}", refund_id=refund.id,
                                   status=refund.status.value)
    claimed = replace(refund, reference=reference, payout=pay)
    recorder = order.recorder(actor, now)
    recorder.record(refund_event(RefundClaimed, claimed))
    changed, events = order.evolve(recorder)
    return changed, claimed, events


E = TypeVar("E", bound=RefundChange)


def refund_event(kind: type[E], refund: Refund) -> E:
    """The refund as events carry it: never the whole IBAN."""
    return kind(refund_id=refund.id, status=refund.status.value, cause=refund.cause.value, amount=refund.amount,
                currency=refund.currency, lines=tuple(LineQuantity(lid, n) for lid, n in refund.lines),
                method=refund.payout.method.value, iban_masked=refund.payout.iban_masked,
                holder_name=refund.payout.holder_name, forced_amount=refund.forced_amount,
                forced_by=refund.forced_by, reference=refund.reference, return_id=refund.return_id)
