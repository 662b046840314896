"""The refund account of an order: what was paid, what is refunded or pending, what is still refundable.

One account answers every money question about an order's refunds, and every preview and every
refund goes through it, so a preview is always the refund it previews:

    account = RefundAccount.of(order, refunds, strategy)
    account.preview({"L1": 2})        # what refunding two units of L1 would pay; changes nothing
    account.refund({"L1": 2}, ...)    # the refund record, with exactly that breakdown

Per unit: a refund takes units by number (`UnitSet`), and each unit k of a line always brings the
same share of what the line paid (the closed-form running share of `refunds`). A failed refund gives
its units back, so the refund that takes them again gets the same shares: refunds never exceed what
was paid, and refunding every unit returns exactly what was paid. Cost follows runs of consecutive
units, never the number of units.

"Any N units" (a count instead of numbers) takes the lowest-numbered units no refund holds: for a
refund, among the units in its cause's state (cancelled or returned); for a preview without a cause,
among the returned units if they cover the count, else the cancelled ones, else the open ones (what a
cancel with refund would take), else those pending a cancel request, else the delivered ones (a return
with refund), else those pending a return; units in transit (shipped) are refused, as the refund would be.

Per component (`components`): items (gross, discount, net), tax per rate, shipping, and the duties,
taxes and fees of a landed cost, paid, refunded (settled) and pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kalem.domain.errors import InvalidInput
from kalem.domain.events.event import Actor, Event
from kalem.domain.events.refunds import RefundCreated
from kalem.domain.money import quantize as _q
from kalem.domain.orders.order import Line, Order
from kalem.domain.orders.units import UnitSet, UnitState
from kalem.domain.refunds.book import (
    DEFAULT_STRATEGY,
    BillableLine,
    BillableOrder,
    CancellationStrategy,
    InvalidRefundInput,
    RefundLineNotFound,
    book_of,
    paid_taxes,
    paid_total,
)
from kalem.domain.refunds.breakdown import RefundBreakdown, check_refund_counts, refund_units
from kalem.domain.refunds.records import (
    ForcedAmountOperatorOnly,
    Payout,
    Refund,
    RefundCause,
    RefundStatus,
    UnitsNotRefundable,
    refund_event,
)

ZERO = Decimal(0)

#: The types a refund of amounts names (Zonos `OrderRefundSubtotalType`).
REFUND_TYPES = ("ITEM", "SHIPPING", "DUTY_TAX_FEE")
#: The state a cause's units are in once they may be refunded.
REFUNDABLE_STATE: dict[RefundCause, UnitState] = {RefundCause.CANCELLATION: UnitState.CANCELLED, RefundCause.RETURN: UnitState.RETURNED}

#: Where a preview without a cause looks for "any N units", in this order.
PREVIEW_STATES = (UnitState.RETURNED, UnitState.CANCELLED, UnitState.OPEN, UnitState.PENDING_CANCEL,
                  UnitState.DELIVERED, UnitState.RETURN_PENDING)

Units = Mapping[str, "int | UnitSet"]
"""Units to refund per line id: a count ("any N", see the module docstring) or unit numbers."""


def billable(order: Order) -> BillableOrder:
    """The order as billed: prices are tax-inclusive gross."""
    return BillableOrder(order.currency, tuple(
        BillableLine(ln.line_id, ln.quantity, ln.unit_price, ln.discount, ln.tax_rate, ln.name)
        for ln in order.lines), order.shipping_amount)


@dataclass(frozen=True, slots=True)
class LineAccount:
    """One line's units as the refunds see them."""

    line_id: str
    quantity: int
    refunded: UnitSet   # units of settled (succeeded) refunds
    pending: UnitSet    # units of pending refunds

    @property
    def held(self) -> UnitSet:
        """Units a refund holds (pending or succeeded): no other refund may take them."""
        return self.refunded | self.pending


@dataclass(frozen=True, slots=True)
class UnitAccount:
    """One unit: its share of what the line paid, and whether a refund holds it."""

    line_id: str
    number: int
    paid: Decimal
    status: str  # "refunded", "pending" or "refundable"


class RefundAccount:
    """The refund account of one order under its seller's strategy (see the module docstring)."""

    def __init__(self, order: Order, refunds: Iterable[Refund], strategy: CancellationStrategy) -> None:
        self.order, self.strategy = order, strategy
        self.refunds = tuple(refunds)
        self._billable = billable(order)
        self._book = book_of(self._billable)
        held: dict[str, dict[RefundStatus, UnitSet]] = {ln.line_id: {} for ln in order.lines}
        for refund in self.refunds:
            if not refund.counts:
                continue
            for line_id, units in _units_of(refund, order, held).items():
                by_status = held.setdefault(line_id, {})
                by_status[refund.status] = by_status.get(refund.status, UnitSet()) | units
        self._lines = {ln.line_id: LineAccount(ln.line_id, ln.quantity,
                                               held[ln.line_id].get(RefundStatus.SUCCEEDED, UnitSet()),
                                               held[ln.line_id].get(RefundStatus.PENDING, UnitSet()))
                       for ln in order.lines}

    @classmethod
    def of(cls, order: Order, refunds: Iterable[Refund],
           strategy: CancellationStrategy = DEFAULT_STRATEGY) -> RefundAccount:
        return cls(order, refunds, strategy)

    # --- what was paid, refunded, pending -----------------------------------------------------------
    @property
    def paid(self) -> Decimal:
        """What the buyer paid for the order: every line net of its discounts, plus shipping."""
        return paid_total(self._billable)

    def _sum(self, status: RefundStatus | None, key: str | None = None) -> Decimal:
        total = ZERO
        for r in self.refunds:
            if r.counts and status in (None, r.status):
                total += r.amount if key is None else Decimal(r.breakdown.get(key) or 0)
        return total

    @property
    def refunded(self) -> Decimal:
        """Cash of settled refunds."""
        return self._sum(RefundStatus.SUCCEEDED)

    @property
    def pending(self) -> Decimal:
        """Cash of refunds not settled yet."""
        return self._sum(RefundStatus.PENDING)

    @property
    def refundable(self) -> Decimal:
        """What may still go back: paid minus refunded and pending."""
        return self.paid - self._sum(None)

    @property
    def shipping_refunded(self) -> Decimal:
        """Shipping returned by refunds that count (pending or succeeded)."""
        return self._sum(None, "shipping_amount")

    def line(self, line_id: str) -> LineAccount:
        if line_id not in self._lines:
            raise RefundLineNotFound(f"the order has no line {line_id}", line_id=line_id)
        return self._lines[line_id]

    def unit(self, line_id: str, number: int) -> UnitAccount:
        """The per-unit view: unit `number` of a line."""
        account = self.line(line_id)
        if not 1 <= number <= account.quantity:
            raise InvalidInput(f"line {line_id} has no unit {number}", line_id=line_id, unit=number)
        paid = self._book.lines[line_id].paid
        status = ("refunded" if number in account.refunded else "pending" if number in account.pending
                  else "refundable")
        return UnitAccount(line_id, number, paid[number] - paid[number - 1], status)

    def refundable_units(self, cause: RefundCause) -> dict[str, UnitSet]:
        """Per line, the units this cause may refund now: cancelled (or returned) and held by no refund."""
        state = REFUNDABLE_STATE[cause]
        return {ln.line_id: ln.units.in_state(state) - self._lines[ln.line_id].held for ln in self.order.lines}

    def components(self) -> dict[str, dict[str, Decimal]]:
        """Paid, refunded and pending per component: items (net), shipping, and tax per rate."""
        cur = self.order.currency
        paid: dict[str, Decimal] = {"items": _q(self._book.paid - self._book.shipping[-1], cur),
                                    "shipping": _q(self._book.shipping[-1], cur)}
        paid.update({f"tax {_rate(rate)}": amount for rate, amount in paid_taxes(self._billable)})
        out: dict[str, dict[str, Decimal]] = {"paid": paid, "refunded": {}, "pending": {}}
        for r in self.refunds:
            if not r.counts:
                continue
            bucket = out["refunded" if r.status is RefundStatus.SUCCEEDED else "pending"]
            by_type = parts_of(r)
            parts = {"items": by_type["ITEM"], "shipping": by_type["SHIPPING"], "duties": by_type["DUTY_TAX_FEE"]}
            parts.update({f"tax {t['rate']}": Decimal(t["amount"]) for t in r.breakdown.get("taxes", ())})
            for key, amount in parts.items():
                bucket[key] = bucket.get(key, ZERO) + amount
        return out

    def refunded_of(self, refund_type: str) -> Decimal:
        """What refunds that count (pending or succeeded) returned of one type (see `parts_of`)."""
        return sum((parts_of(r)[refund_type] for r in self.refunds if r.counts), ZERO)

    # --- previews and refunds -----------------------------------------------------------------------
    def choose(self, units: Units, cause: RefundCause | None = None) -> dict[str, UnitSet]:
        """The unit numbers a refund of `units` takes (the rule for counts is in the module docstring).
        With a cause, only units of that cause held by no refund may be taken."""
        if not units:
            raise InvalidRefundInput("a refund needs at least one line")
        chosen = {}
        for line_id, wanted in units.items():
            line, account = self._order_line(line_id), self.line(line_id)
            free = None if cause is None else line.units.in_state(REFUNDABLE_STATE[cause]) - account.held
            if isinstance(wanted, UnitSet):
                if not wanted or wanted - UnitSet.span(1, account.quantity):
                    raise InvalidRefundInput(f"line {line_id}: units must be numbered 1 to {account.quantity}",
                                             line_id=line_id)
                held = wanted & account.held
                if held:
                    raise UnitsNotRefundable(f"line {line_id}: unit {next(iter(held))} is refunded already",
                                             line_id=line_id, unit=next(iter(held)))
                if free is not None and wanted - free:
                    raise self._not_refundable(line_id, len(wanted), free, cause)
                chosen[line_id] = wanted
                continue
            if free is not None and isinstance(wanted, int) and wanted > len(free):
                raise self._not_refundable(line_id, wanted, free, cause)
            check_refund_counts(self._book, {line_id: wanted}, {line_id: len(account.held)})
            chosen[line_id] = (free if free is not None else self._candidates(line, account, wanted)).lowest(wanted)
        return chosen

    @staticmethod
    def _not_refundable(line_id: str, asked: int, free: UnitSet, cause: RefundCause) -> UnitsNotRefundable:
        state = REFUNDABLE_STATE[cause].value
        return UnitsNotRefundable(f"line {line_id}: {asked} units asked, {len(free)} {state} and not refunded yet",
                                  line_id=line_id, requested=asked, refundable=len(free), cause=cause.value)

    def _candidates(self, line: Line, account: LineAccount, n: int) -> UnitSet:
        # Returned, else cancelled units no refund holds; else the units a cancel (or a return) with
        # refund would take now: the lowest open (or delivered) ones.
        for state in PREVIEW_STATES:
            free = line.units.in_state(state) - account.held
            if len(free) >= n:
                return free
        raise UnitsNotRefundable(f"line {line.line_id}: no {n} units in one state a refund can take "
                                 f"({', '.join(PREVIEW_STATES)}) and held by no refund",
                                 line_id=line.line_id, requested=n)

    def preview(self, units: Units, *, cause: RefundCause | None = None, include_cargo: bool | None = None,
                forced_amount: Decimal | None = None, actor: Actor | None = None) -> RefundBreakdown:
        """What refunding these units would pay, given the refunds so far. Changes nothing."""
        if forced_amount is not None and actor is not None and actor.kind != "operator":
            raise ForcedAmountOperatorOnly("only an operator may force a refund amount", field="forced_amount")
        return self._breakdown(self.choose(units, cause), include_cargo, forced_amount)

    def _breakdown(self, chosen: Mapping[str, UnitSet], include_cargo: bool | None,
                   forced_amount: Decimal | None) -> RefundBreakdown:
        held = sum(len(a.held) for a in self._lines.values())
        return refund_units(self._billable, self._book, {k: v.spans for k, v in chosen.items()}, held,
                            self.strategy, include_cargo=include_cargo, forced_amount=forced_amount,
                            refunded_amount=self._sum(None), refunded_shipping=self.shipping_refunded)

    def refund(self, units: Units, *, cause: RefundCause, pay: Payout, refund_id: str, actor: Actor,
               now: datetime, include_cargo: bool | None = None, forced_amount: Decimal | None = None,
               reference: str | None = None, return_id: str | None = None) -> tuple[Order, Refund, list[Event]]:
        """Refund units already cancelled (or returned) and held by no refund; a `pending` record whose
        breakdown is exactly `preview(units, cause=cause)`."""
        if forced_amount is not None and actor.kind != "operator":
            raise ForcedAmountOperatorOnly("only an operator may force a refund amount", field="forced_amount")
        if cause not in REFUNDABLE_STATE:
            raise InvalidRefundInput(f"a refund of units is caused by a cancellation or a return, not {cause}")
        chosen = self.choose(units, cause)
        breakdown = self._breakdown(chosen, include_cargo, forced_amount)
        lines = tuple((line.line_id, line.quantity) for line in breakdown.lines)
        taken = tuple((line_id, a, b) for line_id, s in chosen.items() for a, b in s.spans)
        order = self.order
        refund = Refund(refund_id, order.id, order.seller_id, order.order_number, cause, lines, breakdown.to_dict(),
                        breakdown.total, order.currency, pay, RefundStatus.PENDING, actor.label, now,
                        forced_amount=breakdown.forced_amount,
                        forced_by=actor.label if forced_amount is not None else None,
                        reference=reference, return_id=return_id, units=taken)
        recorder = order.recorder(actor, now)
        recorder.record(refund_event(RefundCreated, refund))
        changed, events = order.evolve(recorder)
        return changed, refund, events

    def _order_line(self, line_id: str) -> Line:
        self.line(line_id)
        return self.order.line(line_id)


def parts_of(refund: Refund) -> dict[str, Decimal]:
    """A refund by type: ITEM (the items' net cash), SHIPPING, DUTY_TAX_FEE (a landed cost's duties,
    taxes and fees). A refund of units has items and shipping; a refund of amounts names its own."""
    b = refund.breakdown
    if "subtotals" in b:
        parts = dict.fromkeys(REFUND_TYPES, ZERO)
        for part in b["subtotals"]:
            parts[part["type"]] += Decimal(part["amount"])
        return parts
    items = sum((Decimal(ln["amount"]) for ln in b.get("lines", ())), ZERO)
    return {"ITEM": items, "SHIPPING": Decimal(b.get("shipping_amount") or 0), "DUTY_TAX_FEE": ZERO}


def _units_of(refund: Refund, order: Order, held: Mapping[str, Mapping[RefundStatus, UnitSet]]) -> dict[str, UnitSet]:
    """The units a refund holds. A record made before refunds named their units took the next ones
    of each line: the lowest numbers no earlier refund holds."""
    if refund.units:
        out: dict[str, UnitSet] = {}
        for line_id, first, last in refund.units:
            out[line_id] = out.get(line_id, UnitSet()) | UnitSet.span(first, last)
        return out
    out = {}
    for line_id, n in refund.lines:
        quantity = order.line(line_id).quantity
        before = UnitSet.join(s for units in held.get(line_id, {}).values() for s in units.spans)
        out[line_id] = (UnitSet.span(1, quantity) - before).lowest(n)
    return out


def _rate(rate: Decimal) -> str:
    return format(rate.normalize(), "f")
