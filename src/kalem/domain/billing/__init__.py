"""Billing: invoices, credit notes and landed cost."""

from __future__ import annotations

from kalem.domain.billing.invoices import (
    AppliedCredit,
    BillingHistory,
    CreditApplication,
    CreditNote,
    InvoiceLine,
    InvoiceRevision,
    InvoiceState,
    VatPart,
)
from kalem.domain.billing.landed_cost import (
    LandedCostError,
    RateTable,
    load_default_rate_table,
)
from kalem.domain.billing.order_billing import (
    OrderBilling,
    cancel_order,
    charge_invoice,
    destination_of,
    initial_billing,
    invoice_placed,
    remove_item_units,
)

__all__ = [
    "AppliedCredit",
    "BillingHistory",
    "CreditApplication",
    "CreditNote",
    "InvoiceLine",
    "InvoiceRevision",
    "InvoiceState",
    "LandedCostError",
    "OrderBilling",
    "RateTable",
    "VatPart",
    "cancel_order",
    "charge_invoice",
    "destination_of",
    "initial_billing",
    "invoice_placed",
    "load_default_rate_table",
    "remove_item_units",
]
