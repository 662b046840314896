"""Native wire schemas: what `/v1` accepts. Unknown fields are refused, so a body cannot try to
set a status, an amount or an owner that the endpoint does not take."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    StringConstraints,
    model_serializer,
    model_validator,
)

from kalem.domain.orders import PackageStatus

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Note = Annotated[str, StringConstraints(max_length=1000)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(Strict):
    line_id: Id
    sku: Id
    name: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    quantity: StrictInt
    unit_price: Money
    discount: Money = Decimal("0")
    tax_rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)] = Decimal("0")
    product_id: Id | None = None
    barcode: Id | None = None
    hs_code: Annotated[str, StringConstraints(max_length=16)] | None = None


class PackageItemIn(Strict):
    line_id: Id
    quantity: StrictInt


class PackageIn(Strict):
    package_id: Id
    status: PackageStatus = PackageStatus.CREATED
    cargo_tracking_number: Id | None = None
    items: Annotated[list[PackageItemIn], Field(min_length=1, max_length=500)]


Text = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]


def _in_utc(value: datetime) -> datetime:
    """In UTC, as kalem keeps every time; one given without an offset is UTC already."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 has no UTC time
        raise ValueError("the time is out of range") from exc


UtcTime = Annotated[datetime, AfterValidator(_in_utc)]


class CustomerIn(Strict):
    customer_id: Id | None = None
    code: Id | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    is_guest: bool | None = None


class AddressIn(Strict):
    first_name: Text | None = None
    last_name: Text | None = None
    company: Text | None = None
    address1: Annotated[str, StringConstraints(max_length=500)] | None = None
    address2: Annotated[str, StringConstraints(max_length=500)] | None = None
    neighborhood: Text | None = None
    district: Text | None = None
    city: Text | None = None
    postal_code: Annotated[str, StringConstraints(max_length=16)] | None = None
    country_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    tax_office: Text | None = None
    tax_number: Annotated[str, StringConstraints(max_length=32)] | None = None


class PaymentIn(Strict):
    method: Text | None = None
    status: Text | None = None
    total: Money | None = None
    paid_at: UtcTime | None = None
    installment_count: Annotated[StrictInt, Field(ge=1, le=120)] | None = None
    bank_name: Text | None = None


class OrderIn(Strict):
    order_number: Id
    seller_id: Id | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]
    account_order_number: Id | None = None
    channel: Id | None = None
    destination_country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None
    shipping_amount: Money = Decimal("0")
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    packages: Annotated[list[PackageIn], Field(max_length=500)] = []
    customer: CustomerIn | None = None
    shipment_address: AddressIn | None = None
    invoice_address: AddressIn | None = None
    payment: PaymentIn | None = None
    due_date: Annotated[UtcTime, Field(description="when the seller must have shipped")] | None = None
    seller_name: Text | None = Field(None, description="the seller's company name, as the channel knows it")

    @model_serializer(mode="wrap")
    def _without_absent_details(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # An order without details dumps as it did before they existed (Idempotency-Key fingerprints).
        data = handler(self)
        for key in DETAIL_FIELDS:
            if data.get(key) is None:
                data.pop(key, None)
        return data


DETAIL_FIELDS = ("customer", "shipment_address", "invoice_address", "payment", "due_date", "seller_name")


class CancelLineIn(Strict):
    line_id: Id
    quantity: StrictInt
    reason_id: StrictInt
    note: Note | None = None
    units: Annotated[list[StrictInt], Field(max_length=500, description=(
        "unit numbers (1..quantity of the line) to take; the quantity's rest are the lowest-numbered open "
        "units"))] = []

    @model_validator(mode="after")
    def _units_within_quantity(self) -> CancelLineIn:
        if self.units and len(self.units) > self.quantity:
            raise ValueError(f"{len(self.units)} units named for a quantity of {self.quantity}")
        return self

    @model_serializer(mode="wrap")
    def _without_empty_units(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A line naming no units dumps as it did before units could be named (Idempotency-Key fingerprints).
        data = handler(self)
        if not self.units:
            data.pop("units", None)
        return data


class CancellationIn(Strict):
    lines: Annotated[list[CancelLineIn], Field(min_length=1, max_length=500)]


class CancelRequestIn(CancellationIn):
    order_number: Id
    seller_id: Id | None = None


class ApprovalLineIn(Strict):
    line_id: Id
    quantity: StrictInt


class ApprovalIn(Strict):
    lines: Annotated[list[ApprovalLineIn], Field(max_length=500)] | None = None
    note: Note | None = None


class RejectionIn(Strict):
    reason_id: StrictInt
    note: Note | None = None
