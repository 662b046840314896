"""Native response schemas, for the OpenAPI document (routes return prebuilt JSON; these describe it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class LedgerOut(BaseModel):
    open: int
    pending_cancel: int
    cancelled: int
    shipped: int
    delivered: int
    return_pending: int
    returned: int


class UnitRunOut(BaseModel):
    """Units `first`..`last` of the line (numbers 1..quantity, fixed for life), all in `state`."""
    first: int
    last: int
    state: str


class LineOut(BaseModel):
    line_id: str
    sku: str
    product_id: str | None
    barcode: str | None
    name: str
    quantity: int
    unit_price: str
    discount: str
    tax_rate: str
    hs_code: str | None
    cancelled_quantity: int
    cancellable_quantity: int
    pending_cancel_quantity: int
    shipped_quantity: int
    ledger: LedgerOut
    units: list[UnitRunOut]


class PackageItemOut(BaseModel):
    line_id: str
    quantity: int
    units: list[tuple[int, int]]


class StatusChangeOut(BaseModel):
    status: str
    at: str


class PackageOut(BaseModel):
    package_id: str
    status: str
    cargo_tracking_number: str | None
    parent_id: str | None
    items: list[PackageItemOut]
    history: list[StatusChangeOut]


class CustomerOut(BaseModel):
    customer_id: str | None
    code: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    is_guest: bool | None


class AddressOut(BaseModel):
    first_name: str | None
    last_name: str | None
    company: str | None
    address1: str | None
    address2: str | None
    neighborhood: str | None
    district: str | None
    city: str | None
    postal_code: str | None
    country_code: str | None
    phone: str | None
    tax_office: str | None
    tax_number: str | None


class PaymentOut(BaseModel):
    method: str | None
    status: str | None
    total: str | None
    paid_at: str | None
    installment_count: int | None
    bank_name: str | None


class OrderOut(BaseModel):
    id: str
    order_number: str
    seller_id: str
    account_order_number: str | None
    channel: str | None
    currency: str
    status: str
    version: int
    shipping_amount: str
    created_at: str
    updated_at: str
    lines: list[LineOut]
    packages: list[PackageOut]
    customer: CustomerOut | None
    shipment_address: AddressOut | None
    invoice_address: AddressOut | None
    payment: PaymentOut | None
    due_date: str | None
    seller_name: str | None


class OrderPage(BaseModel):
    data: list[OrderOut]
    next_cursor: str | None


class CancelRequestLineOut(BaseModel):
    line_id: str
    quantity: int
    reason_id: int
    note: str | None
    approved_quantity: int | None


class CancelRequestOut(BaseModel):
    id: str
    order_number: str
    seller_id: str
    status: str
    requested_by: str
    created_at: str
    lines: list[CancelRequestLineOut]
    decided_by: str | None
    decided_at: str | None
    decision_reason_id: int | None
    decision_note: str | None


class DecidedCancelRequestOut(CancelRequestOut):
    order: OrderOut


class CancelRequestPage(BaseModel):
    data: list[CancelRequestOut]
    next_cursor: str | None


class EventOut(BaseModel):
    id: str
    order_number: str
    sequence: int
    type: str
    occurred_at: str
    actor: str
    data: dict[str, Any]


class EventPage(BaseModel):
    data: list[EventOut]


class ReasonName(BaseModel):
    tr: str
    en: str


class ReasonOut(BaseModel):
    id: int
    platform: str
    status_type: str
    code: str
    name: ReasonName


class ReasonList(BaseModel):
    data: list[ReasonOut]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorOut(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in ((400, "Malformed JSON"), (401, "Missing or invalid credentials"),
                                (403, "Not allowed"), (404, "Unknown — or another seller's — id"),
                                (409, "The state does not allow it"), (412, "If-Match is stale"),
                                (413, "Body too large"), (422, "Invalid input"),
                                (429, "Too many requests for this credential; see Retry-After"),
                                (503, "Database unavailable"))
}
