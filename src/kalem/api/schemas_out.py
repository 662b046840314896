"""Native response schemas, for the OpenAPI document: every 2xx body and the error envelope. Routes build
their JSON in views; a route returning a dict is also checked against its model (an unknown field is
an error, not dropped), so the document cannot drift from the wire. Examples: the demo's orders."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kalem.api import examples


class Out(BaseModel):
    """Every field is always sent (null when empty) unless it says otherwise; nothing else is."""
    model_config = ConfigDict(extra="forbid")


class LedgerOut(Out):
    open: int
    pending_cancel: int
    cancelled: int
    shipped: int
    delivered: int
    return_pending: int
    returned: int


class UnitRunOut(Out):
    """Units `first`..`last` of the line (numbers 1..quantity, fixed for life), all in `state`."""
    first: int
    last: int
    state: str


class LineOut(Out):
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


class PackageItemOut(Out):
    line_id: str
    quantity: int
    units: list[tuple[int, int]]


class StatusChangeOut(Out):
    status: str
    at: str


class PackageOut(Out):
    package_id: str
    status: str
    cargo_tracking_number: str | None
    parent_id: str | None
    items: list[PackageItemOut]
    history: list[StatusChangeOut]


class CustomerOut(Out):
    customer_id: str | None
    code: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    is_guest: bool | None


class AddressOut(Out):
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


class PaymentOut(Out):
    method: str | None
    status: str | None
    total: str | None
    paid_at: str | None
    installment_count: int | None
    bank_name: str | None


class OrderOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ORDER]})
    id: str
    order_number: str
    seller_id: str
    account_order_number: str | None
    channel: str
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


class OrderPage(Out):
    data: list[OrderOut]
    next_cursor: str | None


class CancelRequestLineOut(Out):
    line_id: str
    quantity: int
    reason_id: int
    reason_code: str | None = Field(description="the reason's code in the shared vocabulary of every channel "
                                                "(`out_of_stock`, `customer_request`, …; GET /v1/reasons)")
    note: str | None
    approved_quantity: int | None


class CancelRequestOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.CANCEL_REQUEST]})
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
    decision_reason_code: str | None = Field(description="the denial reason's shared code "
                                                         "(`shipment_dispatched`, …); null until rejected")
    decision_note: str | None


class DecidedCancelRequestOut(CancelRequestOut):
    order: OrderOut


class CancelRequestPage(Out):
    data: list[CancelRequestOut]
    next_cursor: str | None


class EventOut(Out):
    id: str
    order_number: str
    sequence: int
    type: str
    occurred_at: str
    actor: str
    data: dict[str, Any]


class EventPage(Out):
    data: list[EventOut]


class ReasonName(Out):
    tr: str
    en: str


class ReasonOut(Out):
    id: int
    platform: str
    status_type: str
    code: str
    name: ReasonName


class ReasonList(Out):
    data: list[ReasonOut]


class PackageNodeOut(PackageOut):
    ancestors: list[str] = Field(description="the packages it was split from, the root first")
    children: list[str] = Field(description="the packages a split made of it")
    live: bool = Field(description="holds units (a split, cancelled or unsupplied package is history)")
    next_actions: list[str] = Field(description="the statuses it may move to next")


class PackageList(Out):
    order_number: str
    version: int
    packages: list[PackageNodeOut]


class SplitOut(Out):
    package_id: str = Field(description="the package that was split")
    children: list[str] = Field(description="every package the split made")
    groups: list[str] = Field(description="the packages of the requested groups, in order")
    remainder: str | None = Field(description="the package of the units no group named")
    unsupplied: str | None = Field(description="the package of the units cancelled in the same step")
    refund: dict[str, Any] | None = Field(description="what the cancelled units would refund (a refund preview)")
    order: OrderOut


class HealthOut(Out):
    status: str


class MigrationsOut(Out):
    current: list[str]
    expected: list[str]
    at_head: bool


class OutboxOut(Out):
    depth: int = Field(description="deliveries waiting to be sent")
    oldest_age_seconds: float
    dead: int = Field(description="deliveries that gave up")


class ReadyOut(Out):
    status: str
    database: str
    migrations: MigrationsOut
    outbox: OutboxOut


class ErrorBody(Out):
    code: str = Field(description="stable and machine-readable; the message is for people")
    message: str
    details: dict[str, Any] = Field(description="a problem with one field: `errors[] = {field, problem}`")
    request_id: str | None = Field(description="the X-Request-ID of the request, for the logs")


class ErrorOut(Out):
    """Each operation shows the codes it answers as examples of its own (api/error_examples.py)."""
    error: ErrorBody


#: Every error status of the native API, with its stable codes (docs/api.md lists them all).
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "`malformed_json`: the body is not JSON"),
        (401, ("`credentials_missing`, `credentials_invalid`, `token_expired`: missing, invalid or expired "
               "credentials")),
        (403, ("`operator_required`, `seller_id_mismatch`, … — the credential may not do this (or see this "
               "seller)")),
        (404, "`order_not_found`, `line_not_found`, `package_not_found`, `cancel_request_not_found`, "
              "`refund_not_found`, `return_not_found`, … — an unknown id, or another seller's"),
        (409, ("`quantity_exceeds_cancellable`, `cancel_request_already_decided`, `unit_action_not_allowed`, "
               "`package_action_not_allowed`, `idempotency_key_in_use`, `conflict`, … — the order's state does "
               "not allow it")),
        (412, "`version_mismatch`: If-Match names an older version of the order"),
        (413, "`payload_too_large`: the body is over the limit"),
        (422, ("`invalid_request` (the schema; `details.errors[]` names each field), `too_many_items`, "
               "`unknown_reason`, `reason_required`, `cursor_invalid`, `idempotency_key_reused`, … — the input "
               "is not acceptable (docs/api.md lists every code)")),
        (429, "`rate_limited`: too many requests for this credential; see Retry-After"),
        (503, "`database_unavailable`: retry after Retry-After (the same Idempotency-Key is safe)"))
}


def refusals(envelope: type[BaseModel], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """A face's `responses=`: every status it refuses with, each in the face's own error envelope."""
    return {status: {"model": envelope, "description": HTTPStatus(status).phrase} for status in statuses}
