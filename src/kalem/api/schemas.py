"""Native wire schemas: what `/v1` accepts. Unknown fields are refused, so a body cannot try to
set a status, an amount or an owner that the endpoint does not take."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_serializer,
    model_validator,
)

from kalem.api import examples
from kalem.domain.orders import CHANNEL_PATTERN, PackageStatus

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
#: A channel's name (domain/orders/channels.py): letters, digits, `.`, `_`, `-`; at most 40.
ChannelName = Annotated[str, StringConstraints(strip_whitespace=True, pattern=CHANNEL_PATTERN)]
Note = Annotated[str, StringConstraints(max_length=1000)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _doc(text: str) -> Any:
    return Field(description=text)


class LineIn(Strict):
    line_id: Annotated[Id, _doc("the line's id, unique in the order; every later call names the line by it")]
    sku: Annotated[Id, _doc("the seller's stock-keeping unit")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=500), _doc("the product's name")]
    quantity: Annotated[StrictInt, _doc("units ordered; they are numbered 1..quantity for life")]
    unit_price: Annotated[Money, _doc("price of one unit, tax included")]
    discount: Annotated[Money, _doc("discount on the whole line")] = Decimal("0")
    tax_rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3),
                        _doc("VAT percent included in the price")] = Decimal("0")
    product_id: Annotated[Id | None, _doc("the platform's product id, if any")] = None
    barcode: Annotated[Id | None, _doc("the product's barcode (GTIN), if any")] = None
    hs_code: Annotated[PostalCode | None,
                       _doc("customs tariff code: landed cost for an order with a destination_country")] = None


class PackageItemIn(Strict):
    line_id: Annotated[Id, _doc("a line of this order")]
    quantity: Annotated[StrictInt, _doc("units of the line in this package")]


class PackageIn(Strict):
    package_id: Annotated[Id, _doc("the package's id, unique in the order")]
    status: Annotated[PackageStatus, _doc("where the package is now")] = PackageStatus.CREATED
    cargo_tracking_number: Annotated[Id | None, _doc("the carrier's tracking number, once shipped")] = None
    items: Annotated[list[PackageItemIn], Field(min_length=1, max_length=500), _doc("what it holds")]


Text = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Short = Annotated[str, StringConstraints(max_length=32)]
Street = Annotated[str, StringConstraints(max_length=500)]
PostalCode = Annotated[str, StringConstraints(max_length=16)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
Instalments = Annotated[StrictInt, Field(ge=1, le=120)]


def _in_utc(value: datetime) -> datetime:
    """In UTC, as kalem keeps every time; one given without an offset is UTC already."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 has no UTC time
        raise ValueError("the time is out of range") from exc


def _iso_text(value: Any) -> Any:
    # pydantic would read a number as seconds since 1970; a time on the wire is ISO 8601 text only.
    if not isinstance(value, str | datetime):
        raise ValueError("a time is ISO 8601 text, e.g. 2026-12-01T09:30:00Z")
    return value


UtcTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_in_utc)]


class CustomerIn(Strict):
    customer_id: Annotated[Id | None, _doc("the customer's id at the channel")] = None
    code: Annotated[Id | None, _doc("the customer's code at the channel")] = None
    first_name: Annotated[Text | None, _doc("first name")] = None
    last_name: Annotated[Text | None, _doc("last name")] = None
    email: Annotated[Email | None, _doc("e-mail address")] = None
    phone: Annotated[Short | None, _doc("phone number")] = None
    is_guest: Annotated[StrictBool | None, _doc("bought without an account")] = None


class AddressIn(Strict):
    first_name: Annotated[Text | None, _doc("first name")] = None
    last_name: Annotated[Text | None, _doc("last name")] = None
    company: Annotated[Text | None, _doc("company name")] = None
    address1: Annotated[Street | None, _doc("street address")] = None
    address2: Annotated[Street | None, _doc("street address, second line")] = None
    neighborhood: Annotated[Text | None, _doc("neighbourhood")] = None
    district: Annotated[Text | None, _doc("district")] = None
    city: Annotated[Text | None, _doc("city")] = None
    postal_code: Annotated[PostalCode | None, _doc("postal code")] = None
    country_code: Annotated[Country | None, _doc("ISO 3166 code")] = None
    phone: Annotated[Short | None, _doc("phone number")] = None
    tax_office: Annotated[Text | None, _doc("tax office")] = None
    tax_number: Annotated[Short | None, _doc("tax number")] = None


class PaymentIn(Strict):
    method: Annotated[Text | None, _doc("payment method (card, transfer …)")] = None
    status: Annotated[Text | None, _doc("payment status")] = None
    total: Annotated[Money | None, _doc("amount paid")] = None
    paid_at: Annotated[UtcTime | None, _doc("when it was paid")] = None
    installment_count: Annotated[Instalments | None, _doc("number of instalments")] = None
    bank_name: Annotated[Text | None, _doc("the card's or transfer's bank")] = None


class OrderIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ORDER_IN]})
    order_number: Annotated[Id, _doc("the order's number, unique per seller")]
    seller_id: Annotated[Id | None, _doc("operators: the seller; a seller's token implies its own")] = None
    create_seller: Annotated[StrictBool, _doc(
        "operators: take the order in even if kalem does not know `seller_id` yet, creating the seller; "
        "without it an unknown seller is refused (404 `unknown_seller`), so that a typo creates no seller")] = False
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$"), _doc("ISO 4217 code")]
    account_order_number: Annotated[Id | None, _doc("the buyer-facing number, if different")] = None
    channel: Annotated[ChannelName | None,
                       _doc("where it was sold: a platform (n11, hepsiglobal, zonos, hebiar, akinon), or a name of "
                            "the seller's own (WEB, app); absent: direct")] = None
    destination_country: Annotated[Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None,
                                   _doc("ISO 3166 code: the order is billed its landed cost there")] = None
    shipping_amount: Annotated[Money, _doc("the shipping fee paid, tax included")] = Decimal("0")
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500), _doc("the order's lines")]
    packages: Annotated[list[PackageIn], Field(max_length=500),
                        _doc("packages, if the order is already packed")] = []
    customer: Annotated[CustomerIn | None, _doc("who bought it, as the channel knows them")] = None
    shipment_address: Annotated[AddressIn | None, _doc("where the packages go")] = None
    invoice_address: Annotated[AddressIn | None, _doc("whom the invoice names")] = None
    payment: Annotated[PaymentIn | None, _doc("how the order was paid")] = None
    due_date: Annotated[UtcTime | None, _doc("when the seller must have shipped")] = None
    seller_name: Annotated[Text | None, _doc("the seller's company name, as the channel knows it")] = None

    @model_serializer(mode="wrap")
    def _without_absent_details(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # An order without details dumps as it did before they existed (Idempotency-Key fingerprints).
        data = handler(self)
        if not data.get("create_seller"):
            data.pop("create_seller", None)
        for key in DETAIL_FIELDS:
            if data.get(key) is None:
                data.pop(key, None)
        return data


DETAIL_FIELDS = ("customer", "shipment_address", "invoice_address", "payment", "due_date", "seller_name")


class CancelLineIn(Strict):
    line_id: Annotated[Id, _doc("the line to cancel units of")]
    quantity: Annotated[StrictInt, _doc("units to cancel")]
    reason_id: Annotated[StrictInt, _doc("a cancel reason of GET /v1/reasons")]
    note: Annotated[Note | None, _doc("free text kept with the cancellation")] = None
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
    model_config = ConfigDict(json_schema_extra={"examples": [examples.CANCELLATION_IN]})
    lines: Annotated[list[CancelLineIn], Field(min_length=1, max_length=500), _doc("what to cancel, per line")]


class CancelRequestIn(CancellationIn):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.CANCEL_REQUEST_IN]})
    order_number: Annotated[Id, _doc("the order to ask about")]
    seller_id: Annotated[Id | None, _doc("operators: the seller, if the number is ambiguous")] = None


class ApprovalLineIn(Strict):
    line_id: Annotated[Id, _doc("a line of the request")]
    quantity: Annotated[StrictInt, _doc("units to approve (0..requested); the rest are released")]


class ApprovalIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.APPROVAL_IN]})
    lines: Annotated[Annotated[list[ApprovalLineIn], Field(max_length=500)] | None,
                     _doc("approve in part; absent: everything requested")] = None
    note: Annotated[Note | None, _doc("free text kept with the decision")] = None


class RejectionIn(Strict):
    reason_id: Annotated[StrictInt, _doc("a request-denied reason of GET /v1/reasons")]
    note: Annotated[Note | None, _doc("free text kept with the decision")] = None
