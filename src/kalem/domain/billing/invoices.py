"""Invoices, their revisions, and credit notes: what an order has billed, and how that changes.

Zonos' Update orders: after unshipped items are removed "the invoice is updated to the new amount; if
you were already charged, the difference becomes a credit on your next invoice". In documents:

- An invoice not yet charged is corrected by a new *revision* (same number, revision + 1) that
  replaces it. Once charged it is final; a lower amount yields a numbered *credit note* for the
  difference that references the invoice and waits, pending, for the next invoice.
- `issue_next_invoice` (and a revision of an uncharged invoice) applies pending credits oldest
  first, never beyond the invoice's total; what is left stays pending for the one after.
  Applying credit is settlement, not a tax event: the invoice's total and VAT are unchanged, only
  its `amount_due` drops. (The VAT correction is the credit note itself.)
- A higher amount on a charged invoice is not a correction: `RebillIncreasesChargedInvoice`;
  bill the extra with `issue_next_invoice`.
- An invoice is issued, then charged (`INVOICE`, its table); charging twice is `InvoiceAlreadyCharged`.

VAT: line amounts are NET. Per rate, net = sum of the lines at that rate and vat = round(net x
rate%), computed once per rate on the document (not per line, so line order cannot move a cent);
total = sum(net + vat). A credit note's per-rate parts are (what is still billed on the invoice)
minus (the new lines' parts), for net and VAT separately — so for every invoice and rate,
invoice − its credit notes == the new lines exactly, and every document's parts sum to its total.

Invariant: sum(latest revision totals) − sum(credit note amounts) == what remains billable.
Numbers derive from counts in the history (`INV-<order>-<n>`, `CN-<order>-<n>`), so this stays
pure; the store's per-order lock makes them unique.

    BillingError (every leaf has a stable `code` and an HTTP-ish `status`)
    ├── InvalidInvoiceLine (422)        ├── InvoiceAlreadyCharged (409)
    ├── InvoiceNotFound (404)           └── RebillIncreasesChargedInvoice (409)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, NamedTuple

from kalem.domain.errors import KalemError
from kalem.domain.money import quantize
from kalem.domain.states import Machine


class BillingError(KalemError):  # a KalemError, so every face renders it with its code
    code = "billing_error"
    status = 422

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInvoiceLine(BillingError):
    code = "invalid_invoice_line"


class InvoiceNotFound(BillingError):
    code = "invoice_not_found"
    status = 404


class InvoiceAlreadyCharged(BillingError):
    code = "invoice_already_charged"
    status = 409


class RebillIncreasesChargedInvoice(BillingError):
    code = "rebill_increases_charged_invoice"
    status = 409


class InvoiceState(StrEnum):
    ISSUED = "issued"     # a change replaces it with a new revision
    CHARGED = "charged"   # collected, final: a decrease becomes a credit note


class InvoiceStep(StrEnum):
    CHARGE = "charge"


INVOICE: Machine[InvoiceState, InvoiceStep] = Machine("invoice", {
    (InvoiceState.ISSUED, InvoiceStep.CHARGE): InvoiceState.CHARGED,
}, InvoiceAlreadyCharged)


class InvoiceLine(NamedTuple):
    description: str
    amount: Decimal  # net of VAT, in the history's currency
    vat_rate: Decimal  # percent


class VatPart(NamedTuple):
    rate: Decimal
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


class AppliedCredit(NamedTuple):
    credit_note_number: str
    amount: Decimal


class CreditApplication(NamedTuple):
    invoice_number: str
    amount: Decimal


@dataclass(frozen=True)
class InvoiceRevision:
    number: str
    revision: int
    order_ref: str
    lines: tuple[InvoiceLine, ...]
    total: Decimal
    vat_by_rate: tuple[VatPart, ...]  # sorted by rate; sum(gross) == total
    state: InvoiceState
    issued_at: datetime
    currency: str
    credits_applied: tuple[AppliedCredit, ...] = ()
    reason: str | None = None

    @property
    def charged(self) -> bool:
        return self.state is InvoiceState.CHARGED

    @property
    def amount_due(self) -> Decimal:
        return self.total - sum((c.amount for c in self.credits_applied), Decimal(0))


@dataclass(frozen=True)
class CreditNote:
    number: str
    invoice_number: str
    amount: Decimal
    vat_by_rate: tuple[VatPart, ...]  # sum(gross) == amount
    reason: str
    issued_at: datetime
    # The invoice that used the credit up; None while any of it is pending.
    applied_to_invoice: str | None = None
    applications: tuple[CreditApplication, ...] = ()  # where it went, partial uses included
    # The order's units it credits (line id, first, last), and its amount by refund type (ITEM, SHIPPING,
    # DUTY_TAX_FEE): the order's refund account counts both as money returned (see `OrderBilling.credits`).
    units: tuple[tuple[str, int, int], ...] = ()
    parts: tuple[tuple[str, Decimal], ...] = ()

    @property
    def remaining(self) -> Decimal:
        return self.amount - sum((a.amount for a in self.applications), Decimal(0))

    @property
    def by_type(self) -> dict[str, Decimal]:
        """What it gave back by refund type. A note stored before notes named their parts counts as
        items: what refunds may still return is then never more than it was."""
        return dict(self.parts) if self.parts else {"ITEM": self.amount}


@dataclass(frozen=True)
class BillingHistory:
    order_ref: str
    currency: str
    invoices: tuple[InvoiceRevision, ...] = ()  # every revision, in issue order
    credit_notes: tuple[CreditNote, ...] = ()  # in issue order, which is application order

    def invoice(self, number: str | None = None) -> InvoiceRevision:
        """The latest revision of invoice `number` (default: the most recently opened invoice)."""
        if number is None and self.invoices:
            number = self.current_invoices()[-1].number
        for rev in reversed(self.invoices):
            if rev.number == number:
                return rev
        raise InvoiceNotFound(f"no invoice {number!r} for order {self.order_ref}",
                              invoice_number=number, order_ref=self.order_ref)

    def current_invoices(self) -> tuple[InvoiceRevision, ...]:
        """Latest revision of each invoice, in the order the invoices were first issued."""
        latest: dict[str, InvoiceRevision] = {}
        for rev in self.invoices:
            latest[rev.number] = rev  # dicts keep first-insertion order
        return tuple(latest.values())

    def billable(self) -> Decimal:
        """What remains billed: latest invoice totals minus every credit note."""
        return (sum((r.total for r in self.current_invoices()), Decimal(0))
                - sum((c.amount for c in self.credit_notes), Decimal(0)))

    def pending_credit(self) -> Decimal:
        return sum((c.remaining for c in self.credit_notes), Decimal(0))


@dataclass(frozen=True)
class InvoiceIssued:
    invoice_number: str
    total: Decimal
    amount_due: Decimal
    at: datetime


@dataclass(frozen=True)
class InvoiceRevised:
    invoice_number: str
    revision: int
    previous_total: Decimal
    total: Decimal
    amount_due: Decimal
    reason: str
    at: datetime


@dataclass(frozen=True)
class InvoiceCharged:
    invoice_number: str
    revision: int
    amount: Decimal
    at: datetime


@dataclass(frozen=True)
class CreditNoteIssued:
    credit_note_number: str
    invoice_number: str
    amount: Decimal
    reason: str
    at: datetime


@dataclass(frozen=True)
class CreditApplied:
    credit_note_number: str
    invoice_number: str
    amount: Decimal
    at: datetime


@dataclass(frozen=True)
class CreditReleased:
    """Credit taken back from an uncharged invoice that was revised (then re-applied)."""

    credit_note_number: str
    invoice_number: str
    amount: Decimal
    at: datetime


BillingEffect = InvoiceIssued | InvoiceRevised | InvoiceCharged | CreditNoteIssued | CreditApplied | CreditReleased


def invoice_number_for(order_ref: str, n: int) -> str:
    return f"INV-{order_ref}-{n}"


def credit_note_number_for(order_ref: str, n: int) -> str:
    return f"CN-{order_ref}-{n}"


# --- arithmetic ---------------------------------------------------------------------------------


def _canonical_rate(rate: Decimal) -> Decimal:
    # 20, 20.0 and 20.00 are one rate; give it one spelling so documents compare and print alike.
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def _lines(raw: Iterable[Any], currency: str) -> tuple[InvoiceLine, ...]:
    lines = []
    for i, line in enumerate(raw):
        try:
            description, amount, rate = line
        except (TypeError, ValueError):
            raise InvalidInvoiceLine(f"line {i} must be (description, amount, vat_rate)") from None
        if not isinstance(description, str) or not description:
            raise InvalidInvoiceLine(f"line {i}: description must be a non-empty string")
        for name, value in (("amount", amount), ("vat_rate", rate)):
            if not isinstance(value, (Decimal, int)) or isinstance(value, bool):
                raise InvalidInvoiceLine(f"line {i}: {name} must be a Decimal, not {value!r}")
        amount, rate = Decimal(amount), Decimal(rate)
        try:  # an amount finer than the currency's minor unit is a bug upstream, not ours to round
            exact = amount.is_finite() and quantize(amount, currency) == amount
        except InvalidOperation:
            exact = False
        if not exact:
            raise InvalidInvoiceLine(f"line {i}: amount {amount} is not exact in {currency}")
        if not (rate.is_finite() and 0 <= rate <= 100):
            raise InvalidInvoiceLine(f"line {i}: vat_rate must be between 0 and 100")
        lines.append(InvoiceLine(description, quantize(amount, currency), _canonical_rate(rate)))
    return tuple(lines)


def _vat_parts(lines: tuple[InvoiceLine, ...], currency: str) -> tuple[VatPart, ...]:
    nets: dict[Decimal, Decimal] = {}
    for line in lines:
        nets[line.vat_rate] = nets.get(line.vat_rate, Decimal(0)) + line.amount
    parts = []
    for rate in sorted(nets):
        net = quantize(nets[rate], currency)
        if net < 0:  # discount lines are fine; a negative rate total would be a credit in disguise
            raise InvalidInvoiceLine(f"net at VAT rate {rate}% is negative", vat_rate=str(rate))
        parts.append(VatPart(rate, net, quantize(net * rate / 100, currency)))
    return tuple(parts)


def _total(parts: Iterable[VatPart], currency: str) -> Decimal:
    return quantize(sum((p.gross for p in parts), Decimal(0)), currency)


def _by_rate(parts: Iterable[VatPart]) -> dict[Decimal, tuple[Decimal, Decimal]]:
    acc: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for p in parts:
        net, vat = acc.get(p.rate, (Decimal(0), Decimal(0)))
        acc[p.rate] = (net + p.net, vat + p.vat)
    return acc


def _still_billed(history: BillingHistory, invoice: InvoiceRevision) -> dict[Decimal, tuple[Decimal, Decimal]]:
    """Per rate (net, vat) of a charged invoice after the credit notes already issued on it."""
    credited = tuple(VatPart(p.rate, -p.net, -p.vat) for cn in history.credit_notes
                     if cn.invoice_number == invoice.number for p in cn.vat_by_rate)
    return _by_rate(invoice.vat_by_rate + credited)


# --- applying credit ------------------------------------------------------------------------------


def _settle(history: BillingHistory, invoice_number: str, total: Decimal, now: datetime
            ) -> tuple[tuple[CreditNote, ...], tuple[AppliedCredit, ...], tuple[BillingEffect, ...]]:
    """Release the credit this (uncharged) invoice held, then apply pending credit oldest first
    up to its total. Returns the credit notes, the invoice's applications and the effects."""
    before = [(cn.number, a.amount) for cn in history.credit_notes for a in cn.applications
              if a.invoice_number == invoice_number]
    notes = [replace(cn, applications=tuple(a for a in cn.applications
                                            if a.invoice_number != invoice_number))
             for cn in history.credit_notes]
    room, applied = total, []
    for i, cn in enumerate(notes):
        take = min(cn.remaining, room)
        if take > 0:
            notes[i] = replace(cn, applications=cn.applications + (
                CreditApplication(invoice_number, take),))
            applied.append(AppliedCredit(cn.number, take))
            room -= take
    notes = [replace(cn, applied_to_invoice=cn.applications[-1].invoice_number
                     if cn.applications and cn.remaining == 0 else None) for cn in notes]
    effects: tuple[BillingEffect, ...] = ()
    if before != [tuple(a) for a in applied]:  # only report what actually moved
        effects = tuple(CreditReleased(n, invoice_number, a, now) for n, a in before) + tuple(
            CreditApplied(a.credit_note_number, invoice_number, a.amount, now) for a in applied)
    return tuple(notes), tuple(applied), effects


# --- commands -------------------------------------------------------------------------------------


def issue_next_invoice(history: BillingHistory, lines: Iterable[Any], *, now: datetime,
                       reason: str | None = None
                       ) -> tuple[BillingHistory, tuple[BillingEffect, ...]]:
    """Open the order's next invoice (`INV-<order>-<n+1>`), settling pending credit against it."""
    new_lines = _lines(lines, history.currency)
    parts = _vat_parts(new_lines, history.currency)
    total = _total(parts, history.currency)
    number = invoice_number_for(history.order_ref, len(history.current_invoices()) + 1)
    notes, applied, credit_effects = _settle(history, number, total, now)
    invoice = InvoiceRevision(number, 1, history.order_ref, new_lines, total, parts, InvoiceState.ISSUED, now,
                              history.currency, applied, reason)
    history = replace(history, invoices=history.invoices + (invoice,), credit_notes=notes)
    return history, (InvoiceIssued(number, total, invoice.amount_due, now),) + credit_effects


def mark_charged(history: BillingHistory, invoice_number: str, *, now: datetime
                 ) -> tuple[BillingHistory, tuple[BillingEffect, ...]]:
    """Record that the latest revision's amount due was collected; from here on it is final."""
    invoice = history.invoice(invoice_number)
    state = INVOICE.next(invoice.state, InvoiceStep.CHARGE, message=f"invoice {invoice_number} is already charged",
                         invoice_number=invoice_number)
    # Charging changes the document's state, not its content: same revision.
    invoices = tuple(replace(r, state=state) if r is invoice else r for r in history.invoices)
    return (replace(history, invoices=invoices),
            (InvoiceCharged(invoice.number, invoice.revision, invoice.amount_due, now),))


def rebill(history: BillingHistory, new_lines: Iterable[Any], *, now: datetime, reason: str,
           invoice_number: str | None = None
           ) -> tuple[BillingHistory, tuple[BillingEffect, ...]]:
    """Bill `new_lines` instead of what invoice `invoice_number` (default: the latest) bills.

    Not charged → a new revision. Charged → a credit note for the per-rate decrease, pending
    until the next invoice. Nothing changed → the history as it was, no effects.
    """
    currency = history.currency
    invoice = history.invoice(invoice_number)
    lines = _lines(new_lines, currency)
    parts = _vat_parts(lines, currency)
    total = _total(parts, currency)

    if not invoice.charged:
        if lines == invoice.lines:
            return history, ()
        notes, applied, credit_effects = _settle(history, invoice.number, total, now)
        revised = InvoiceRevision(invoice.number, invoice.revision + 1, history.order_ref, lines,
                                  total, parts, InvoiceState.ISSUED, now, currency, applied, reason)
        effect = InvoiceRevised(invoice.number, revised.revision, invoice.total, total,
                                revised.amount_due, reason, now)
        return (replace(history, invoices=history.invoices + (revised,), credit_notes=notes),
                (effect,) + credit_effects)

    billed, new = _still_billed(history, invoice), _by_rate(parts)
    credit = []
    for rate in sorted(billed.keys() | new.keys()):
        b_net, b_vat = billed.get(rate, (Decimal(0), Decimal(0)))
        n_net, n_vat = new.get(rate, (Decimal(0), Decimal(0)))
        if n_net > b_net or n_vat > b_vat:
            raise RebillIncreasesChargedInvoice(
                f"invoice {invoice.number} is charged; at VAT {rate}% the new net {n_net} exceeds "
                f"the billed {b_net} — bill the increase on the next invoice",
                invoice_number=invoice.number, vat_rate=str(rate))
        if (b_net, b_vat) != (n_net, n_vat):
            credit.append(VatPart(rate, b_net - n_net, b_vat - n_vat))
    if not credit:
        return history, ()
    amount = _total(credit, currency)
    number = credit_note_number_for(history.order_ref, len(history.credit_notes) + 1)
    note = CreditNote(number, invoice.number, amount, tuple(credit), reason, now)
    return (replace(history, credit_notes=history.credit_notes + (note,)),
            (CreditNoteIssued(number, invoice.number, amount, reason, now),))
