"""Native response schemas of what an order bills and pays back: invoices, credit notes, landed costs,
refund previews, refunds, returns and cancellation strategies. Money is a string (exact decimal),
times are ISO-8601 UTC. The examples are the demo's story orders (`kalem demo`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kalem.api import examples
from kalem.api.schemas_out import OrderOut, Out


def _example(value: dict[str, Any]) -> dict[str, Any]:
    return {"examples": [value]}


# --- billing ------------------------------------------------------------------------------------
class VatPartOut(Out):
    rate: str
    net: str
    vat: str


class InvoiceLineOut(Out):
    description: str
    amount: str
    vat_rate: str


class CreditAppliedOut(Out):
    credit_note_number: str
    amount: str


class InvoiceOut(Out):
    """One revision of an invoice; a later change to the order issues a new revision."""
    number: str
    revision: int
    latest: bool = Field(description="this revision is the invoice's current one")
    currency: str
    lines: list[InvoiceLineOut]
    vat_by_rate: list[VatPartOut]
    total: str
    amount_due: str = Field(description="the total less the credits applied")
    credits_applied: list[CreditAppliedOut]
    charged: bool = Field(description="collected: a later decrease becomes a credit note")
    reason: str
    issued_at: str


class InvoicePage(Out):
    model_config = {"json_schema_extra": _example(examples.INVOICES)}
    data: list[InvoiceOut]
    billable: str = Field(description="what the order bills now")
    pending_credit: str = Field(description="credit notes not yet applied to an invoice")
    currency: str


class CreditApplicationOut(Out):
    invoice_number: str
    amount: str


class RefundUnitsOut(Out):
    line_id: str
    first: int
    last: int


class CreditNoteOut(Out):
    number: str
    invoice_number: str
    currency: str
    amount: str
    remaining: str
    vat_by_rate: list[VatPartOut]
    reason: str
    issued_at: str
    applied_to_invoice: str | None
    applications: list[CreditApplicationOut]
    units: list[RefundUnitsOut] = Field(description="the unit numbers it credits, per line: no refund may "
                                                    "take them")
    amounts_by_type: dict[str, str] = Field(description="what it gave back by type (ITEM, SHIPPING, "
                                                        "DUTY_TAX_FEE); refunds may return only what is left")


class CreditNoteList(Out):
    data: list[CreditNoteOut]


class DutyLineOut(Out):
    item_id: str
    hs_code: str
    rate: str
    amount: str


class TaxLineOut(Out):
    item_id: str
    amount: str


class FeeLineOut(Out):
    name: str
    amount: str


class LandedCostOut(Out):
    id: str
    computed_at: str
    reason: str
    destination_country: str
    currency: str
    items: str
    shipping: str
    duties: str
    taxes: str
    fees: str
    total: str
    duty_lines: list[DutyLineOut]
    tax_lines: list[TaxLineOut]
    shipping_tax: str
    fee_lines: list[FeeLineOut]
    duty_exempt: bool = Field(description="goods value below the destination's duty de minimis")
    tax_exempt: bool = Field(description="goods value below the destination's tax de minimis")


class LandedCostList(Out):
    destination_country: str | None
    data: list[LandedCostOut]


# --- refunds ------------------------------------------------------------------------------------
class TaxPartOut(Out):
    rate: str
    amount: str = Field(description="the tax included in the amount")


class RefundLineOut(Out):
    line_id: str
    quantity: int
    item_amount: str
    discount_amount: str
    amount: str
    tax: list[TaxPartOut]


class StrategyOut(Out):
    cargo_rule: str = Field(description="never, per_unit or last_unit: when the shipping fee is paid back")
    discounts_refundable: bool
    allow_partial: bool


class BreakdownOut(Out):
    """An explained refund: `total` is the cash paid back (`computed_total`, or `forced_amount`)."""
    currency: str
    lines: list[RefundLineOut]
    shipping_amount: str
    shipping_tax: str
    taxes: list[TaxPartOut]
    computed_total: str
    total: str
    forced_amount: str | None
    discount_returned: str = Field(description="discount credit given back, not cash")
    strategy: StrategyOut
    explanation: list[str]


class RefundPreviewOut(Out):
    model_config = {"json_schema_extra": _example(examples.REFUND_PREVIEW)}
    order_number: str
    version: int
    breakdown: BreakdownOut


class RefundLineCountOut(Out):
    line_id: str
    quantity: int


class RefundOut(Out):
    id: str
    order_number: str
    seller_id: str
    cause: str = Field(description="cancellation, return or amounts")
    status: str = Field(description="pending, succeeded or failed")
    amount: str
    currency: str
    lines: list[RefundLineCountOut]
    units: list[RefundUnitsOut] = Field(description="the unit numbers refunded, per line")
    method: str = Field(description="original (the payment's own way) or fund_transfer")
    iban_masked: str | None
    holder_name: str | None
    forced_amount: str | None
    forced_by: str | None
    reference: str | None
    return_id: str | None
    created_by: str
    created_at: str
    settled_by: str | None
    settled_at: str | None
    breakdown: dict[str, Any] = Field(description="the explained refund (as refund-preview's `breakdown`)")
    on_decision: bool = Field(description="made by a decision (a cancel, an approved request or return) under "
                                          "the seller's refund policy on_decision")


class RefundedOut(Out):
    refund: RefundOut
    order: OrderOut


class RefundList(Out):
    data: list[RefundOut]


class ReturnItemOut(Out):
    line_id: str
    quantity: int
    reason_id: int
    reason_code: str | None = Field(description="the return reason's code in the shared vocabulary of every "
                                                "channel (`defective`, `wrong_item`, …; GET /v1/reasons)")
    note: str | None


class ReturnOut(Out):
    id: str
    order_number: str
    seller_id: str
    status: str = Field(description="pending, approved or rejected")
    items: list[ReturnItemOut]
    requested_by: str
    created_at: str
    decided_by: str | None
    decided_at: str | None
    decision_reason_id: int | None
    decision_reason_code: str | None = Field(description="the denial reason's shared code (`missing_product`, "
                                                         "…); null until rejected")
    decision_note: str | None


class DecidedReturnOut(Out):
    return_: ReturnOut = Field(alias="return")
    order: OrderOut


class StrategySettingOut(Out):
    seller_id: str
    strategy: StrategyOut
    is_default: bool = Field(description="the seller configured none: kalem's default applies")
