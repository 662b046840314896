"""Who bought an order, where it goes, how it was paid: what a channel tells kalem beyond the lines.

kalem decides nothing on these; it keeps them so that every face can show them the way its platform
does (Hebiar's `shipmentAddress`, `invoiceAddress`, `payment`, `customer…`, `dueDate`). All optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str | None = None
    code: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    is_guest: bool | None = None


@dataclass(frozen=True, slots=True)
class Address:
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    neighborhood: str | None = None
    district: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None
    tax_office: str | None = None
    tax_number: str | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    method: str | None = None
    status: str | None = None
    total: Decimal | None = None
    paid_at: datetime | None = None
    installment_count: int | None = None
    bank_name: str | None = None


@dataclass(frozen=True, slots=True)
class OrderDetails:
    customer: Customer | None = None
    shipment_address: Address | None = None
    invoice_address: Address | None = None
    payment: Payment | None = None
    due_date: datetime | None = None  # when the seller must have shipped
    seller_name: str | None = None    # the seller's company name, as the channel knows it

    @property
    def empty(self) -> bool:
        return self == NO_DETAILS


NO_DETAILS = OrderDetails()
