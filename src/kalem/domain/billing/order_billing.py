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

Credit them or refund them, not both: the bill keeps the units a refund holds (their money goes back
by that refund), so a change drops from the bill only cancelled units no refund holds (`unbilled`), and
a credit note names exactly those units and what it gives back by type (`OrderBilling.credits`, which
the order's refund account counts as money returned). A unit's items are billed at its share of what
its line paid (the refund account's per-unit shares), so a line's units credited and refunded add up
to exactly what the line paid. Cancelling the order keeps on the bill what refunds return (their
units and the shipping they took) and credits the rest. A refund of amounts names no units, so the bill
also keeps, per type, at least what refunds returned of it (`_keeping`): a credit note never gives back
money a refund of amounts returned.

Invariant (property-tested): `history.billable()` equals the total of the latest landed cost, or
0 once the order is cancelled as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from kalem.domain.billing import invoices as invoicing
from kalem.domain.billing.invoices import BillingHistory
from kalem.domain.billing.landed_cost import (
    LandedCost,
    LandedCostError,
    LandedCostItem,
    RateTable,
    compute_landed_cost,
)
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
from kalem.domain.orders.units import UnitSet, UnitState
from kalem.domain.refunds.account import RefundAccount
from kalem.domain.refunds.amounts import Collected
from kalem.domain.refunds.book import RunningShares
from kalem.domain.refunds.credits import Credit

Spans = tuple[tuple[str, int, int], ...]
"""Units of an order as (line id, first, last) runs."""

ZERO = Decimal(0)

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
    # Units the bill no longer bills (credited, or removed before the invoice was charged). None: a
    # billing stored before it was kept, which dropped every cancelled unit from the bill.
    unbilled: Spans | None = ()

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

    def credits(self) -> tuple[Credit, ...]:
        """The credit notes as the order's refund account counts them: money returned for their units."""
        return tuple(Credit(c.number, c.units, c.by_type) for c in self.history.credit_notes)


def destination_of(order: Order) -> str | None:
    return order.attributes.get("destination_country") or None


def billable_items(order: Order, *, as_placed: bool = False,
                   billed: dict[str, UnitSet] | None = None) -> tuple[LandedCostItem, ...]:
    """Every line with its billed units: all of them as placed, `billed` when given, else the units
    still alive (shipped ones included: they still cross the border).

    The units are worth their shares of the line's net of its discount (the refund account's equal
    largest-remainder shares), so the full line costs exactly `unit_price x quantity - discount` and
    a unit is always credited for what a refund of it would pay.
    """
    items = []
    for line in order.lines:
        if as_placed:
            units = UnitSet.span(1, line.quantity)
        elif billed is not None:
            units = billed.get(line.line_id, UnitSet())
        else:
            units = UnitSet.span(1, line.quantity) - line.units.in_state(UnitState.CANCELLED)
        net = line.unit_price * line.quantity - line.discount
        n = len(units)
        if n in (0, line.quantity):
            items.append(LandedCostItem(line.line_id, line.hs_code or "", net / line.quantity, n))
            continue
        shares = RunningShares(net, line.quantity, order.currency)
        value = sum((shares[b] - shares[a - 1] for a, b in units.spans), Decimal(0))
        items.append(LandedCostItem(line.line_id, line.hs_code or "", value / n, n))
    return tuple(items)


def landed_cost_of(order: Order, table: RateTable, *, as_placed: bool = False,
                   billed: dict[str, UnitSet] | None = None, shipping: Decimal | None = None) -> LandedCost:
    country = destination_of(order)
    assert country is not None
    return compute_landed_cost(billable_items(order, as_placed=as_placed, billed=billed),
                               order.shipping_amount if shipping is None else shipping, country,
                               order.currency, table)


def _spans(units: dict[str, UnitSet]) -> Spans:
    return tuple((line_id, a, b) for line_id, s in units.items() for a, b in s.spans)


def _sets(spans: Spans) -> dict[str, UnitSet]:
    out: dict[str, UnitSet] = {}
    for line_id, first, last in spans:
        out[line_id] = out.get(line_id, UnitSet()) | UnitSet.span(first, last)
    return out


def _cancelled(order: Order) -> dict[str, UnitSet]:
    return {ln.line_id: ln.units.in_state(UnitState.CANCELLED) for ln in order.lines}


def _record(amounts: dict[str, Any], n: int, at: datetime, reason: str) -> dict[str, Any]:
    """A landed cost (`LandedCost.to_dict`) as the bill's history keeps it."""
    return {"id": f"landed_cost_{n}", "computed_at": at, "reason": reason, **amounts}


def _amounts(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("id", "computed_at", "reason")}


def initial_billing(order: Order, table: RateTable) -> OrderBilling:
    return _initial(order, table)[0]


def _initial(order: Order, table: RateTable) -> tuple[OrderBilling, tuple[invoicing.BillingEffect, ...]]:
    history = BillingHistory(order.order_number, order.currency)
    country = destination_of(order)
    if country is None:
        return OrderBilling(order.id, None, history), ()
    lc = landed_cost_of(order, table, as_placed=True)
    history, effects = invoicing.issue_next_invoice(history, lc.invoice_lines(), now=order.created_at,
                                                    reason="order placed")
    placed = (_record(lc.to_dict(), 1, order.created_at, "order placed"),)
    return OrderBilling(order.id, country, history, placed), effects


def invoice_placed(order: Order, events: list[Event], table: RateTable, *, actor: Actor
                   ) -> tuple[Order, list[Event]]:
    """An order just placed (`place_order`'s answer) with its invoice 1's `invoice.issued` recorded after
    `order.placed`, in the same version, when the order is billed across a border. The invoice itself
    stays derived (`initial_billing`) until the order's first billing change. An order that cannot be
    billed (no rate for its destination, or a bill its rates cannot make) is taken in without it: its
    next billing change reports why."""
    try:
        _, effects = _initial(order, table)
    except (LandedCostError, invoicing.BillingError):
        return order, events
    if not effects:
        return order, events
    recorder = order.recorder(actor, order.created_at)
    for effect in effects:
        _record_effect(recorder, effect)
    return replace(order, last_sequence=recorder.sequence), events + recorder.events


def _rebill(before: Order, order: Order, billing: OrderBilling, table: RateTable, recorder: EventRecorder,
            now: datetime, reason: str, account: RefundAccount | None, *, cancelling: bool = False) -> OrderBilling:
    """Recompute the landed cost of `order` (`before`, changed) over the units it still bills and bill it
    instead of what was billed. Cancelled units no refund holds leave the bill; a charged invoice gets a
    credit note naming them. `cancelling`: the order is cancelled, and the bill keeps only what refunds
    return (their units, and the shipping they took), or nothing."""
    if not billing.enabled:
        return billing
    held = account.refund_held() if account is not None else {}
    earlier = _sets(billing.unbilled) if billing.unbilled is not None else _cancelled(before)
    dropped = {line_id: gone for line_id, units in _cancelled(order).items()
               if (gone := units - held.get(line_id, UnitSet()) - earlier.get(line_id, UnitSet()))}
    unbilled = {ln.line_id: earlier.get(ln.line_id, UnitSet()) | dropped.get(ln.line_id, UnitSet())
                for ln in order.lines}
    billed = {ln.line_id: UnitSet.span(1, ln.quantity) - unbilled[ln.line_id] for ln in order.lines}
    shipping = None
    if cancelling and account is not None:
        shipping = account.shipping_by_refunds
    kept = {t: account.refunded_of(t) for t in ("ITEM", "SHIPPING", "DUTY_TAX_FEE")} if account is not None else {}
    nothing_billable = cancelling and not any(billed.values()) and not any(kept.values())
    lc = _keeping(landed_cost_of(order, table, billed=billed, shipping=shipping), kept,
                  only=cancelling and not any(billed.values()))
    records = billing.landed_costs
    previous = records[-1] if records else None
    amounts = lc.to_dict()
    if not records or _amounts(records[-1]) != amounts:
        records = records + (_record(amounts, len(records) + 1, now, reason),)
        recorder.record(LandedCostRecomputed(landed_cost_id=records[-1]["id"], total=lc.total, items=lc.items,
                                             shipping=lc.shipping, duties=lc.duties, taxes=lc.taxes, fees=lc.fees))
    lines = () if nothing_billable else lc.invoice_lines()
    history, effects = invoicing.rebill(billing.history, lines, now=now, reason=reason)
    if any(isinstance(e, invoicing.CreditNoteIssued) for e in effects):
        history = _naming(history, _spans(dropped), previous, None if nothing_billable else lc)
    for effect in effects:
        _record_effect(recorder, effect)
    return replace(billing, history=history, landed_costs=records, unbilled=_spans(unbilled))


def _keeping(lc: LandedCost, kept: Mapping[str, Decimal], *, only: bool) -> LandedCost:
    """The landed cost billing at least, per type, what refunds returned of it (`kept`): their money went
    back by them, so no credit note gives it back again. A refund of amounts names no units, so this is
    what keeps it from being credited too. `only`: nothing else is billed (the order is cancelled)."""
    if not any(kept.values()):
        return lc
    if only:
        lc = replace(lc, items=ZERO, shipping=ZERO, duties=ZERO, taxes=ZERO, fees=ZERO, duty_lines=(), tax_lines=(),
                     shipping_tax=ZERO, fee_lines=())
    items, shipping = max(lc.items, kept.get("ITEM", ZERO)), max(lc.shipping, kept.get("SHIPPING", ZERO))
    # Duties, taxes and fees are one type for refunds: a shortfall is kept as duties.
    duties = lc.duties + max(ZERO, kept.get("DUTY_TAX_FEE", ZERO) - lc.duties - lc.taxes - lc.fees)
    return replace(lc, items=items, shipping=shipping, duties=duties,
                   total=items + shipping + duties + lc.taxes + lc.fees)


def _naming(history: BillingHistory, units: Spans, previous: dict[str, Any] | None,
            now_billed: LandedCost | None) -> BillingHistory:
    """The history with its newest credit note naming the units it credits and its amount by type: the
    items and shipping the bill no longer bills, the rest its duties, taxes and fees."""
    note = history.credit_notes[-1]
    was = {k: Decimal(previous[k]) if previous else Decimal(0) for k in ("items", "shipping")}
    now = {"items": now_billed.items if now_billed else Decimal(0),
           "shipping": now_billed.shipping if now_billed else Decimal(0)}
    items, shipping = was["items"] - now["items"], was["shipping"] - now["shipping"]
    parts = (("ITEM", items), ("SHIPPING", shipping), ("DUTY_TAX_FEE", note.amount - items - shipping))
    named = replace(note, units=units, parts=parts)
    return replace(history, credit_notes=history.credit_notes[:-1] + (named,))


#: The event each billing effect is recorded as: the effect's fields but its time (the event's own).
_EFFECT_EVENTS: dict[type, type[EventData]] = {
    invoicing.InvoiceIssued: InvoiceIssued, invoicing.InvoiceRevised: InvoiceRevised,
    invoicing.InvoiceCharged: InvoiceCharged, invoicing.CreditNoteIssued: CreditNoteIssued,
    invoicing.CreditApplied: CreditNoteApplied, invoicing.CreditReleased: CreditNoteReleased,
}


def _record_effect(recorder: EventRecorder, effect: invoicing.BillingEffect) -> None:
    recorder.record(_EFFECT_EVENTS[type(effect)](**{k: v for k, v in vars(effect).items() if k != "at"}))


def remove_item_units(order: Order, billing: OrderBilling, line_id: str, quantity: int, *, actor: Actor,
                      now: datetime, table: RateTable, via: str | None = None,
                      account: RefundAccount | None = None) -> tuple[Order, OrderBilling, list[Event]]:
    """Remove `quantity` unshipped units of a line; the line stays, with fewer units. `via` names the face
    the change came through (recorded on its events, as `cancel_lines` does); `account` is the order's
    refund account (none: the order has no refunds), whose units stay on the bill."""
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
    billing = _rebill(order, cancelled, billing, table, recorder, now, f"{quantity} x {line_id} removed", account)
    # One change: the billing events follow the cancellation's under the same version.
    return replace(cancelled, last_sequence=recorder.sequence), billing, events + recorder.events


def cancel_order(order: Order, billing: OrderBilling, *, actor: Actor, now: datetime, table: RateTable,
                 via: str | None = None,
                 account: RefundAccount | None = None) -> tuple[Order, OrderBilling, list[Event]]:
    """Cancel every open unit and bill nothing more than what the order's refunds return (`account`, its
    refund account; none: no refunds). Shipped orders cannot be cancelled (void the label first), and
    units a cancel request reserved must be decided first."""
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
    before = order
    if items:
        order, events = cancel_lines(order, items, actor=actor, now=now, via=via)
    recorder = order.recorder(actor, now)
    recorder.record(OrderCancelled(via=via or None))
    billing = _rebill(before, order, billing, table, recorder, now, "order cancelled", account, cancelling=True)
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
