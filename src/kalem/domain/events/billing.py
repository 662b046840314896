"""Events of billing: the landed cost, invoices and credit notes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from kalem.domain.events.data import EventData


@dataclass(frozen=True, slots=True)
class LandedCostRecomputed(EventData):
    """The order's landed cost changed (items, shipping, duties, taxes, fees)."""

    TYPE: ClassVar[str] = "landed_cost.recomputed"
    landed_cost_id: str
    total: Decimal
    items: Decimal
    shipping: Decimal
    duties: Decimal
    taxes: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceIssued(EventData):
    """An invoice was issued: invoice 1 with the order, when it is billed across a border."""

    TYPE: ClassVar[str] = "invoice.issued"
    invoice_number: str
    total: Decimal
    amount_due: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceRevised(EventData):
    """An unpaid invoice was revised to a new total."""

    TYPE: ClassVar[str] = "invoice.revised"
    invoice_number: str
    revision: int
    previous_total: Decimal
    total: Decimal
    amount_due: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class InvoiceCharged(EventData):
    """An invoice was charged."""

    TYPE: ClassVar[str] = "invoice.charged"
    invoice_number: str
    revision: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class CreditNoteIssued(EventData):
    """A paid invoice's total went down: a credit note was issued."""

    TYPE: ClassVar[str] = "credit_note.issued"
    credit_note_number: str
    invoice_number: str
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class CreditNoteApplied(EventData):
    """A pending credit note was settled against a later invoice (not sent: kalem issues no invoice after invoice 1)."""

    TYPE: ClassVar[str] = "credit_note.applied"
    credit_note_number: str
    invoice_number: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class CreditNoteReleased(EventData):
    """A settled credit note was released by a revision of that invoice (not sent, as `credit_note.applied`)."""

    TYPE: ClassVar[str] = "credit_note.released"
    credit_note_number: str
    invoice_number: str
    amount: Decimal
