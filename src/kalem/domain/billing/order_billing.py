"""What an order bills, and how removing its units changes that (Zonos `orderItemUpdate`).

An order shipped across a border is billed its landed cost (`landed_cost`), invoiced through
`invoices`. This module ties the two to the order aggregate:

- `initial_billing`: the landed cost of the order *as placed* and invoice 1, dated when the order
  was placed. It is a pure function of the order, so it need not be stored until something changes
  (the store materialises it on the first change).
- `remove_item_units`: cancel open units (never shipped ones — `cancel_lines` only takes open
  units), recompute the landed cost from the units still alive, and rebill: an uncharged invoice
  gets a revision, a charged one a credit note for the next invoice. One change, one version.
- `cancel_order`, `charge_invoice`: the other money-moving changes. Refunds live in the order's
  refund account (`RefundAccount.refund_amounts`); `OrderBilling.collected` is what they may return.

Invariant (property-tested): `history.billable()` equals the total of the latest landed cost, or
0 once the order is cancelled as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from kalem.domain.billing import invoices as invoicing
from kalem.domain.billing.invoices import BillingHistory
from kalem.domain.billing.landed_cost import LandedCost, LandedCostItem, RateTable, compute_landed_cost
from kalem.domain.errors import Conflict
from kalem.domain.events.billing import (
    CreditNoteApplied,
    CreditNoteIssued,
    CreditNoteReleased,
    InvoiceCharged,
    InvoiceIssued,
    InvoiceRevised,
    LandedCostRecomputed,
)
from kalem.domain.events.data import EventData
from kalem.domain.events.event import Actor, Event, EventRecorder
from kalem.domain.events.orders import OrderCancelled
from kalem.domain.orders.cancellation import CancelItem, cancel_lines
from kalem.domain.orders.order import Order, OrderAlreadyCanceled, Standing, StandingStep, take_standing
from kalem.domain.refunds.amounts import Collected

OUT_OF_STOCK = 135  # the reason a unit removed by `orderItemUpdate` is cancelled with


class OrderHasShippedUnits(Conflict):
    code = "order_has_shipped_units"


class UnitsAlreadyShipped(Conflict):
    code = "units_already_shipped"


class OrderHasPendingCancelRequests(Conflict):
    code = "order_has_pending_cancel_requests"


@dataclass(frozen=True)
class OrderBilling:
    order_id: str
    destination_country: str | None
    history: BillingHistory
    landed_costs: tuple[dict[str, Any], ...] = ()  # LandedCost.to_dict() + id, computed_at, reason
    version: int = 0  # 0: derived, never stored

    @property
    def enabled(self) -> bool:
        return self.destination_country is not None

    def collected(self) -> Collected:
        """What the order collected, for its refund account: per type what the latest landed cost
        bills, and the charged invoices' cash net of credit notes."""
        charged = sum((r.amount_due for r in self.history.current_invoices() if r.charged), Decimal(0))
        credited = sum((c.amount for c in self.history.credit_notes), Decimal(0))
        latest = self.landed_costs[-1] if self.landed_costs else None
        billed = None if latest is None else {
            "ITEM": Decimal(latest["items"]), "SHIPPING": Decimal(latest["shipping"]),
            "DUTY_TAX_FEE": Decimal(latest["duties"]) + Decimal(latest["taxes"]) + Decimal(latest["fees"])}
        return Collected(billed, charged - credited)


def destination_of(order: Order) -> str | None:
    return order.attributes.get("destination_country") or None


def billable_items(order: Order, *, as_placed: bool = False) -> tuple[LandedCostItem, ...]:
    """Every line with its units still alive (shipped ones included: they still cross the border).

    The unit amount is the line's net of its discount, kept exact (not rounded per unit), so the
    full line costs exactly `unit_price x quantity - discount`.
    """
    items = []
    for line in order.lines:
        unit = (line.unit_price * line.quantity - line.discount) / line.quantity
        alive = line.quantity if as_placed else line.ledger.alive
        items.append(LandedCostItem(line.line_id, line.hs_code or "", unit, alive))
    return tuple(items)


def landed_cost_of(order: Order, table: RateTable, *, as_placed: bool = False) -> LandedCost:
    country = destination_of(order)
    assert country is not None
    return compute_landed_cost(billable_items(order, as_placed=as_placed), order.shipping_amount, country,
                               order.currency, table)


def _record(lc: LandedCost, n: int, at: datetime, reason: str) -> dict[str, Any]:
    return {"id": f"landed_cost_{n}", "computed_at": at, "reason": reason, **lc.to_dict()}


def _amounts(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("id", "computed_at", "reason")}


def initial_billing(order: Order, table: RateTable) -> OrderBilling:
    history = BillingHistory(order.order_number, order.currency)
    country = destination_of(order)
    if country is None:
        return OrderBilling(order.id, None, history)
    lc = landed_cost_of(order, table, as_placed=True)
    history, _ = invoicing.issue_next_invoice(history, lc.invoice_lines(), now=order.created_at,
                                              reason="order placed")
    return OrderBilling(order.id, country, history, (_record(lc, 1, order.created_at, "order placed"),))


def _rebill(order: Order, billing: OrderBilling, table: RateTable, recorder: EventRecorder, now: datetime,
            reason: str, *, nothing_billable: bool = False) -> OrderBilling:
    """Recompute the landed cost of `order` (already changed) and bill it instead of what was billed."""
    if not billing.enabled:
        return billing
    lc = landed_cost_of(order, table)
    records = billing.landed_costs
    if not records or _amounts(records[-1]) != _amounts(_record(lc, 0, now, reason)):
        records = records + (_record(lc, len(records) + 1, now, reason),)
        recorder.record(LandedCostRecomputed(landed_cost_id=records[-1]["id"], total=lc.total, items=lc.items,
                                             shipping=lc.shipping, duties=lc.duties, taxes=lc.taxes, fees=lc.fees))
    lines = () if nothing_billable else lc.invoice_lines()
    history, effects = invoicing.rebill(billing.history, lines, now=now, reason=reason)
    for effect in effects:
        _record_effect(recorder, effect)
    return replace(billing, history=history, landed_costs=records)


#: The event each billing effect is recorded as: the effect's fields but its time (the event's own).
_EFFECT_EVENTS: dict[type, type[EventData]] = {
    invoicing.InvoiceIssued: InvoiceIssued, invoicing.InvoiceRevised: InvoiceRevised,
    invoicing.InvoiceCharged: InvoiceCharged, invoicing.CreditNoteIssued: CreditNoteIssued,
    invoicing.CreditApplied: CreditNoteApplied, invoicing.CreditReleased: CreditNoteReleased,
}


def _record_effect(recorder: EventRecorder, effect: invoicing.BillingEffect) -> None:
    recorder.record(_EFFECT_EVENTS[type(effect)](**{k: v for k, v in vars(effect).items() if k != "at"}))


def remove_item_units(order: Order, billing: OrderBilling, line_id: str, quantity: int, *, actor: Actor,
                      now: datetime, table: RateTable,
                      via: str | None = None) -> tuple[Order, OrderBilling, list[Event]]:
    """Remove `quantity` unshipped units of a line; the line stays, with fewer units. `via` names the face
    the change came through (recorded on its events, as `cancel_lines` does)."""
    if order.standing is Standing.CANCELED:
        raise OrderAlreadyCanceled(f"order {order.order_number} is cancelled", order_number=order.order_number)
    line = order.line(line_id)
    shipped = line.ledger.dispatched
    if shipped and line.cancellable < quantity <= line.cancellable + shipped:
        # Say why, rather than only "too many": the units are there, but on their way.
        raise UnitsAlreadyShipped(f"item {line_id}: {quantity} to remove, {line.cancellable} unshipped, "
                                  f"{shipped} already shipped", line_id=line_id, unshipped=line.cancellable)
    cancelled, events = cancel_lines(order, (CancelItem(line_id, quantity, OUT_OF_STOCK, "item removed"),),
                                     actor=actor, now=now, via=via)
    recorder = cancelled.recorder(actor, now)
    billing = _rebill(cancelled, billing, table, recorder, now, f"{quantity} x {line_id} removed")
    # One change: the billing events follow the cancellation's under the same version.
    return replace(cancelled, last_sequence=recorder.sequence), billing, events + recorder.events


def cancel_order(order: Order, billing: OrderBilling, *, actor: Actor, now: datetime,
                 table: RateTable, via: str | None = None) -> tuple[Order, OrderBilling, list[Event]]:
    """Cancel every open unit and bill nothing more. Shipped orders cannot be cancelled (void the
    label first), and units a cancel request reserved must be decided first."""
    attributes = take_standing(order, StandingStep.CANCEL, now, error=OrderAlreadyCanceled,
                               message=f"order {order.order_number} is already cancelled",
                               order_number=order.order_number)
    if any(ln.ledger.dispatched for ln in order.lines):
        raise OrderHasShippedUnits(f"order {order.order_number} has shipped units", order_number=order.order_number)
    if any(ln.ledger.pending_cancel for ln in order.lines):
        raise OrderHasPendingCancelRequests(f"order {order.order_number} has pending cancel requests",
                                            order_number=order.order_number)
    items = tuple(CancelItem(ln.line_id, ln.cancellable, 137, "order cancelled") for ln in order.lines
                  if ln.cancellable)
    events: list[Event] = []
    if items:
        order, events = cancel_lines(order, items, actor=actor, now=now, via=via)
    recorder = order.recorder(actor, now)
    recorder.record(OrderCancelled(via=via or None))
    billing = _rebill(order, billing, table, recorder, now, "order cancelled", nothing_billable=True)
    if items:
        changed = replace(order, last_sequence=recorder.sequence, attributes=attributes)
        return changed, billing, events + recorder.events
    changed, more = order.evolve(recorder, attributes=attributes)
    return changed, billing, more


def charge_invoice(order: Order, billing: OrderBilling, invoice_number: str, *, actor: Actor,
                   now: datetime) -> tuple[Order, OrderBilling, list[Event]]:
    history, effects = invoicing.mark_charged(billing.history, invoice_number, now=now)
    recorder = order.recorder(actor, now)
    for effect in effects:
        _record_effect(recorder, effect)
    changed, events = order.evolve(recorder)
    return changed, replace(billing, history=history), events
