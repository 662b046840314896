"""The refund account of an order: what was paid, what is refunded or pending, what is still refundable.

One account answers every money question about an order's refunds, and every preview and every
refund goes through it, so a preview is always the refund it previews:

    account = RefundAccount.of(order, refunds, strategy)
    account.preview({"L1": 2})        # what refunding two units of L1 would pay; changes nothing
    account.refund({"L1": 2}, ...)    # the refund record, with exactly that breakdown

Per unit: a refund takes units by number (`UnitSet`), and each unit k of a line always brings the
same share of what the line paid (the closed-form running shares of `book`). A failed refund gives
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

Amounts by type (`refund_amounts`, see `amounts`): a billed order's refund of ITEM, SHIPPING and
DUTY_TAX_FEE amounts, capped by what its billing collected and by every refund so far.

Credit notes (`credits`) are money returned too: a unit a credit note credits is held like a refunded
one (a refund naming it is `UnitsCredited`), and what credit notes gave back of items and shipping
counts against what refunds may still return (the shipping fee comes back once, by a refund or a
credit). Every preview explains each credit note on a line of its own.

An order whose amounts are finer than its currency allows (its channel sent more decimals) cannot
be refunded: `RefundAccount.of` refuses it (`InvalidBillableOrder`). A view still shows what it
paid: `RefundAccount.for_view` keeps such an order's amounts as the order states them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from kalem.domain.errors import InvalidInput
from kalem.domain.events.event import Actor, Event
from kalem.domain.events.refunds import RefundCreated, RefundRecorded, Subtotal
from kalem.domain.money import quantize as _q
from kalem.domain.orders.order import Line, Order
from kalem.domain.orders.units import UnitSet, UnitState
from kalem.domain.refunds.amounts import (
    Collected,
    RefundExceedsPaid,
    Subtotals,
    amounts_breakdown,
    checked_subtotals,
)
from kalem.domain.refunds.book import (
    DEFAULT_STRATEGY,
    BillableLine,
    BillableOrder,
    Book,
    CancellationStrategy,
    InvalidBillableOrder,
    RefundCauseUnsupported,
    RefundExceedsRefundable,
    RefundLineNotFound,
    RefundLinesRequired,
    RefundUnitsOutOfRange,
    RunningShares,
    book_of,
    paid_taxes,
)
from kalem.domain.refunds.breakdown import RefundBreakdown, check_refund_counts, refund_units
from kalem.domain.refunds.credits import Credit, UnitsCredited
from kalem.domain.refunds.records import (
    REFUND_TYPES,
    ForcedAmountOperatorOnly,
    Payout,
    Refund,
    RefundCause,
    RefundMethod,
    RefundStatus,
    UnitsNotRefundable,
    refund_event,
)

ZERO = Decimal(0)


class UnitNumberOutOfRange(InvalidInput):
    """A unit number outside 1..the line's quantity, asked for its account."""
    code = "unit_number_out_of_range"
    face_code = InvalidInput.code


#: The state a cause's units are in once they may be refunded.
REFUNDABLE_STATE: dict[RefundCause, UnitState] = {RefundCause.CANCELLATION: UnitState.CANCELLED,
                                                   RefundCause.RETURN: UnitState.RETURNED}

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
    credited: UnitSet = UnitSet()  # units a credit note gave back

    @property
    def by_refunds(self) -> UnitSet:
        """Units a refund holds (pending or succeeded)."""
        return self.refunded | self.pending

    @property
    def held(self) -> UnitSet:
        """Units whose money went (or is going) back, by a refund or a credit note: no refund may take them."""
        return self.refunded | self.pending | self.credited


@dataclass(frozen=True, slots=True)
class UnitAccount:
    """One unit: its share of what the line paid, and whether a refund holds it."""

    line_id: str
    number: int
    paid: Decimal
    status: str  # "refunded", "pending", "credited" or "refundable"


class RefundAccount:
    """The refund account of one order under its seller's strategy (see the module docstring)."""

    def __init__(self, order: Order, refunds: Iterable[Refund], strategy: CancellationStrategy,
                 credits: Iterable[Credit] = ()) -> None:
        self.order, self.strategy = order, strategy
        self.refunds = tuple(refunds)
        self.credits = tuple(credits)
        self._billed: tuple[BillableOrder, Book] | None = None
        self._unbillable: InvalidBillableOrder | None = None
        try:
            as_billed = billable(order)
            self._billed = as_billed, book_of(as_billed)
        except InvalidBillableOrder as exc:
            self._unbillable = exc
        held: dict[str, dict[RefundStatus, UnitSet]] = {ln.line_id: {} for ln in order.lines}
        # What the refunds that count returned, summed once: every question below reads these sums.
        self._cash: dict[RefundStatus, Decimal] = {}
        self._by_type = dict.fromkeys(REFUND_TYPES, ZERO)
        self._shipping = ZERO
        for refund in self.refunds:
            if not refund.counts:
                continue
            self._cash[refund.status] = self._cash.get(refund.status, ZERO) + refund.amount
            for refund_type, amount in refund.parts().items():
                self._by_type[refund_type] += amount
            self._shipping += Decimal(refund.breakdown.get("shipping_amount") or 0)
            for line_id, units in _units_of(refund, order, held).items():
                by_status = held.setdefault(line_id, {})
                by_status[refund.status] = by_status.get(refund.status, UnitSet()) | units
        credited: dict[str, UnitSet] = {}
        for credit in self.credits:
            for line_id, units in credit.units_by_line().items():
                credited[line_id] = credited.get(line_id, UnitSet()) | units
        self._lines = {ln.line_id: LineAccount(ln.line_id, ln.quantity,
                                               held[ln.line_id].get(RefundStatus.SUCCEEDED, UnitSet()),
                                               held[ln.line_id].get(RefundStatus.PENDING, UnitSet()),
                                               credited.get(ln.line_id, UnitSet()))
                       for ln in order.lines}

    @classmethod
    def of(cls, order: Order, refunds: Iterable[Refund], strategy: CancellationStrategy = DEFAULT_STRATEGY,
           credits: Iterable[Credit] = ()) -> RefundAccount:
        """The account to refund from: `InvalidBillableOrder` if the order's amounts are finer than its currency."""
        account = cls(order, refunds, strategy, credits)
        account._bill()
        return account

    @classmethod
    def for_view(cls, order: Order, refunds: Iterable[Refund] = ()) -> RefundAccount:
        """The account to show: of any order, its amounts as the order states them when they are finer
        than its currency allows (then every preview and refund is refused with `InvalidBillableOrder`)."""
        return cls(order, refunds, DEFAULT_STRATEGY)

    def _bill(self) -> tuple[BillableOrder, Book]:
        """The order as billed and its book, for everything that computes a refund."""
        if self._billed is None:
            assert self._unbillable is not None
            raise InvalidBillableOrder(self._unbillable.message, **self._unbillable.details)
        return self._billed

    # --- what was paid, refunded, pending -----------------------------------------------------------
    @property
    def paid(self) -> Decimal:
        """What the buyer paid for the order: every line net of its discounts, plus shipping (for an
        order whose amounts are finer than its currency, their sum as the order states them)."""
        if self._billed is None:
            return sum((ln.quantity * ln.unit_price - ln.discount for ln in self.order.lines),
                       self.order.shipping_amount)
        return _q(self._billed[1].paid, self.order.currency)

    def _sum(self, status: RefundStatus | None) -> Decimal:
        """Cash of the refunds that count, of one status or (None) any."""
        return sum(self._cash.values(), ZERO) if status is None else self._cash.get(status, ZERO)

    @property
    def refunded(self) -> Decimal:
        """Cash of settled refunds."""
        return self._sum(RefundStatus.SUCCEEDED)

    @property
    def pending(self) -> Decimal:
        """Cash of refunds not settled yet."""
        return self._sum(RefundStatus.PENDING)

    @property
    def credited(self) -> Decimal:
        """Items and shipping that credit notes gave back (their duties, taxes and fees are not part of
        what the order paid: they are the landed cost's, see `refund_amounts`)."""
        return sum((c.part("ITEM") + c.part("SHIPPING") for c in self.credits), ZERO)

    @property
    def returned(self) -> Decimal:
        """What went back or is going back of what the order paid: refunds that count (pending or
        succeeded) and credit notes, less the duties, taxes and fees refunds of amounts returned."""
        return self._sum(None) - self.refunded_of("DUTY_TAX_FEE") + self.credited

    @property
    def refundable(self) -> Decimal:
        """What may still go back: paid minus refunded, pending and credited."""
        return self.paid - self.returned

    @property
    def shipping_refunded(self) -> Decimal:
        """Shipping returned by refunds that count (pending or succeeded) and by credit notes."""
        return self.shipping_by_refunds + sum((c.part("SHIPPING") for c in self.credits), ZERO)

    @property
    def items_returned(self) -> Decimal:
        """Items returned by refunds that count (of units or of amounts) and by credit notes."""
        return self.refunded_of("ITEM") + sum((c.part("ITEM") for c in self.credits), ZERO)

    @property
    def shipping_by_refunds(self) -> Decimal:
        """Shipping returned by refunds that count (pending or succeeded), credit notes aside."""
        return self._shipping

    def refund_held(self) -> dict[str, UnitSet]:
        """Per line, the units a refund holds (pending or succeeded): their money goes back by that refund,
        so a credit note never credits them."""
        return {line_id: account.by_refunds for line_id, account in self._lines.items()}

    def credited_units(self) -> dict[str, UnitSet]:
        """Per line, the units credit notes gave back."""
        return {line_id: account.credited for line_id, account in self._lines.items()}

    def line(self, line_id: str) -> LineAccount:
        if line_id not in self._lines:
            raise RefundLineNotFound(f"the order has no line {line_id}", line_id=line_id)
        return self._lines[line_id]

    def unit(self, line_id: str, number: int) -> UnitAccount:
        """The per-unit view: unit `number` of a line."""
        account = self.line(line_id)
        if not 1 <= number <= account.quantity:
            raise UnitNumberOutOfRange(f"line {line_id} has no unit {number}", line_id=line_id, unit=number)
        paid = self._unit_shares(line_id)
        status = ("refunded" if number in account.refunded else "pending" if number in account.pending
                  else "credited" if number in account.credited else "refundable")
        return UnitAccount(line_id, number, paid[number] - paid[number - 1], status)

    def _unit_shares(self, line_id: str) -> RunningShares:
        """C(k), what the first k units of a line paid: the book's, or for an order whose amounts are
        finer than its currency, the line's net rounded to the currency in equal shares."""
        if self._billed is not None:
            return self._billed[1].lines[line_id].paid
        line = self.order.line(line_id)
        return RunningShares(line.quantity * line.unit_price - line.discount, line.quantity, self.order.currency)

    def refundable_units(self, cause: RefundCause) -> dict[str, UnitSet]:
        """Per line, the units this cause may refund now: cancelled (or returned) and held by no refund."""
        state = REFUNDABLE_STATE[cause]
        return {ln.line_id: ln.units.in_state(state) - self._lines[ln.line_id].held for ln in self.order.lines}

    def components(self) -> dict[str, dict[str, Decimal]]:
        """Paid, refunded and pending per component: items (net), shipping, and tax per rate."""
        cur = self.order.currency
        as_billed, book = self._bill()
        paid: dict[str, Decimal] = {"items": _q(book.paid - book.shipping[-1], cur),
                                    "shipping": _q(book.shipping[-1], cur)}
        paid.update({f"tax {_rate(rate)}": amount for rate, amount in paid_taxes(as_billed, book)})
        out: dict[str, dict[str, Decimal]] = {"paid": paid, "refunded": {}, "pending": {},
                                              "credited": self._credited_components(as_billed, book)}
        for r in self.refunds:
            if not r.counts:
                continue
            bucket = out["refunded" if r.status is RefundStatus.SUCCEEDED else "pending"]
            by_type = r.parts()
            parts = {"items": by_type["ITEM"], "shipping": by_type["SHIPPING"], "duties": by_type["DUTY_TAX_FEE"]}
            parts.update({f"tax {t['rate']}": Decimal(t["amount"]) for t in r.breakdown.get("taxes", ())})
            for key, amount in parts.items():
                bucket[key] = bucket.get(key, ZERO) + amount
        return out

    def _credited_components(self, as_billed: BillableOrder, book: Book) -> dict[str, Decimal]:
        """What credit notes gave back per component: items and the tax in them from the units' shares,
        shipping and its tax, and the landed cost's duties, taxes and fees."""
        if not self.credits:
            return {}
        cur = self.order.currency
        out = {"items": ZERO, "shipping": ZERO, "duties": ZERO}
        taxes: dict[Decimal, Decimal] = {}
        for credit in self.credits:
            for line_id, units in credit.units_by_line().items():
                lb = book.lines[line_id]
                for first, last in units.spans:
                    out["items"] += lb.paid[last] - lb.paid[first - 1]
                    taxes[lb.line.tax_rate] = taxes.get(lb.line.tax_rate, ZERO) + lb.tax[last] - lb.tax[first - 1]
            shipping = credit.part("SHIPPING")
            out["shipping"] += shipping
            out["duties"] += credit.part("DUTY_TAX_FEE")
            fee = as_billed.shipping_amount
            if shipping and fee:
                rate = as_billed.shipping_tax_rate
                taxes[rate] = taxes.get(rate, ZERO) + _q(book.shipping_tax[-1] * shipping / fee, cur)
        out.update({f"tax {_rate(rate)}": _q(amount, cur) for rate, amount in sorted(taxes.items())})
        return out

    def refunded_of(self, refund_type: str) -> Decimal:
        """What refunds that count (pending or succeeded) returned of one type (see `Refund.parts`)."""
        return self._by_type[refund_type]

    # --- previews and refunds -----------------------------------------------------------------------
    def choose(self, units: Units, cause: RefundCause | None = None) -> dict[str, UnitSet]:
        """The unit numbers a refund of `units` takes (the rule for counts is in the module docstring).
        With a cause, only units of that cause held by no refund may be taken."""
        if not units:
            raise RefundLinesRequired("a refund needs at least one line")
        chosen = {}
        for line_id, wanted in units.items():
            line, account = self._order_line(line_id), self.line(line_id)
            free = None if cause is None else line.units.in_state(REFUNDABLE_STATE[cause]) - account.held
            if isinstance(wanted, UnitSet):
                if not wanted or wanted - UnitSet.span(1, account.quantity):
                    raise RefundUnitsOutOfRange(f"line {line_id}: units must be numbered 1 to {account.quantity}",
                                                line_id=line_id)
                credited = wanted & account.credited
                if credited:
                    raise self._credited(line_id, next(iter(credited)))
                held = wanted & account.held
                if held:
                    raise UnitsNotRefundable(f"line {line_id}: unit {next(iter(held))} is refunded already",
                                             line_id=line_id, unit=next(iter(held)))
                if free is not None and cause is not None and wanted - free:
                    raise self._not_refundable(line_id, len(wanted), free, cause)
                chosen[line_id] = wanted
                continue
            if free is not None and cause is not None and isinstance(wanted, int) and wanted > len(free):
                if wanted <= len(free | (line.units.in_state(REFUNDABLE_STATE[cause]) & account.credited)):
                    raise self._credited(line_id, next(iter(line.units.in_state(REFUNDABLE_STATE[cause])
                                                            & account.credited)), asked=wanted, refundable=len(free))
                raise self._not_refundable(line_id, wanted, free, cause)
            check_refund_counts(self._bill()[1], {line_id: wanted}, {line_id: len(account.held)})
            chosen[line_id] = (free if free is not None else self._candidates(line, account, wanted)).lowest(wanted)
        return chosen

    def _credited(self, line_id: str, unit: int, **more: int) -> UnitsCredited:
        note = next(c.number for c in self.credits if unit in c.units_by_line().get(line_id, UnitSet()))
        return UnitsCredited(f"line {line_id}: unit {unit} was credited by credit note {note}; a unit is "
                             "credited or refunded, not both", line_id=line_id, unit=unit, credit_note=note, **more)

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
        """What refunding these units would pay, given the refunds so far. Changes nothing.

        include_cargo: None follows the strategy's cargo rule; False refunds no shipping; True asks for
            it under the rule (`CargoNotRefundable` when the rule is `never`). A refund made without
            cargo forfeits its units' per-unit shares: cargo follows units, not history. (Akinon's
            `is_cargo_refund: true` is True; its default false reads best as None, since Akinon's
            documentation says the cancellation strategy governs cargo.)
        forced_amount: an operator's override of the cash total (Akinon's `forced_refund_amount`), at
            most what was paid minus what refunds so far returned.
        """
        if forced_amount is not None and actor is not None and actor.kind != "operator":
            raise ForcedAmountOperatorOnly("only an operator may force a refund amount", field="forced_amount")
        return self._breakdown(self.choose(units, cause), include_cargo, forced_amount)

    def _breakdown(self, chosen: Mapping[str, UnitSet], include_cargo: bool | None,
                   forced_amount: Decimal | None) -> RefundBreakdown:
        held = sum(len(a.held) for a in self._lines.values())
        as_billed, book = self._bill()
        breakdown = refund_units(as_billed, book, {k: v.spans for k, v in chosen.items()}, held,
                                 self.strategy, include_cargo=include_cargo, forced_amount=forced_amount,
                                 refunded_amount=self.returned, refunded_shipping=self.shipping_refunded)
        if forced_amount is None:
            # Per component too: what earlier refunds of amounts and credit notes returned of the items
            # is not returned again by refunds of units.
            items = sum((line.amount for line in breakdown.lines), ZERO)
            left = _q(book.paid - book.shipping[-1], self.order.currency) - self.items_returned
            if items > left:
                raise RefundExceedsRefundable(f"items {items} exceed the {max(left, ZERO)} of items still refundable",
                                              requested=str(items), refundable=str(max(left, ZERO)))
        if not self.credits:
            return breakdown
        *told, total = breakdown.explanation
        return replace(breakdown, explanation=(*told, *self._credit_lines(), total))

    def _credit_lines(self) -> list[str]:
        """One line per credit note: what it gave back, for which units (not refundable again)."""
        cur, out = self.order.currency, []
        for credit in self.credits:
            units = "; ".join(
                f"{self.order.line(line_id).name or f'line {line_id}'} unit{'s' if len(units) > 1 else ''} "
                + ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in units.spans)
                for line_id, units in credit.units_by_line().items())
            parts = ", ".join(f"{label} {_q(credit.part(t), cur)}" for t, label in
                              (("ITEM", "items"), ("SHIPPING", "shipping"), ("DUTY_TAX_FEE", "duties, taxes and fees"))
                              if credit.part(t))
            out.append(f"credit note {credit.number} gave back {_q(credit.amount, cur)} {cur}"
                       + (f" ({parts})" if parts else "") + (f" for {units}, not refunded again" if units else ""))
        return out

    def refund(self, units: Units, *, cause: RefundCause, pay: Payout, refund_id: str, actor: Actor,
               now: datetime, include_cargo: bool | None = None, forced_amount: Decimal | None = None,
               reference: str | None = None, return_id: str | None = None) -> tuple[Order, Refund, list[Event]]:
        """Refund units already cancelled (or returned) and held by no refund; a `pending` record whose
        breakdown is exactly `preview(units, cause=cause)`."""
        if forced_amount is not None and actor.kind != "operator":
            raise ForcedAmountOperatorOnly("only an operator may force a refund amount", field="forced_amount")
        if cause not in REFUNDABLE_STATE:
            raise RefundCauseUnsupported(f"a refund of units is caused by a cancellation or a return, not {cause}")
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

    def refund_amounts(self, subtotals: Subtotals, collected: Collected, *, currency: str, note: str | None,
                       refund_id: str, actor: Actor, now: datetime,
                       via: str | None = None) -> tuple[Order, Refund, list[Event]]:
        """A pending refund of these subtotals (type, amount), within what the order's billing collected
        (`collected`, see `amounts`); `via` names the face it came through."""
        order = self.order
        self._bill()  # an account for a view may not refund
        parts = checked_subtotals(subtotals, currency, order.currency)
        for type_, amount in parts.items():
            if collected.billed is None:
                break
            left = collected.billed[type_] - self.refunded_of(type_)
            if amount > left:
                raise RefundExceedsPaid(f"{type_}: {amount} asked, {max(left, ZERO)} refundable", type=type_)
        total = sum(parts.values(), ZERO)
        left = collected.cash - self._sum(None)
        if total > left:
            raise RefundExceedsPaid(f"{total} asked, {max(left, ZERO)} refundable",
                                    asked=str(total), refundable=str(max(left, ZERO)))
        refund = Refund(refund_id, order.id, order.seller_id, order.order_number, RefundCause.AMOUNTS, (),
                        amounts_breakdown(subtotals, total, order.currency, note), total, order.currency,
                        Payout(RefundMethod.ORIGINAL), RefundStatus.PENDING, actor.label, now)
        recorder = order.recorder(actor, now)
        recorder.record(RefundRecorded(refund_id=refund_id, amount=total, note=note,
                                       subtotals=tuple(Subtotal(t, a) for t, a in subtotals), via=via or None))
        changed, events = order.evolve(recorder)
        return changed, refund, events

    def _order_line(self, line_id: str) -> Line:
        self.line(line_id)
        return self.order.line(line_id)


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
