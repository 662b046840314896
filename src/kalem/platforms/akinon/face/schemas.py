"""What the Akinon face answers, for `/openapi.json`: Omnitron's objects and Django REST framework's
error shapes, as pydantic models (declared with `responses=`; the routes build the bodies themselves).
Class names carry the `Akinon` prefix so their schema components never collide with another face's.
"""

from __future__ import annotations

from typing import Any

from fastapi import Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, RootModel

#: Omnitron's credential, declared for the schema (the routes read the header themselves).
TOKEN = APIKeyHeader(name="Authorization", scheme_name="AkinonToken", auto_error=False,
                     description="`Token <key>`, the key answered by `POST /api/v1/auth/login/`")
AUTHED = [Security(TOKEN)]


class AkinonFieldErrors(BaseModel):
    """400: `{"<field>": ["message"], "code"}` or `{"non_field_errors": ["message"], "code"}`."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, list[str]]
    code: str


class AkinonDetail(BaseModel):
    """401, 403, 404, 429, 503: `{"detail": "message", "code"}`."""

    detail: str
    code: str


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of an operation: always 400 (DRF's validation errors, malformed JSON, a body
    too large), 429 and 503; then those named (401 where a token is needed, 403, 404)."""
    described = {400: (AkinonFieldErrors, "Invalid input: the field (or `non_field_errors`) and its message"),
                 401: (AkinonDetail, "Authentication credentials were not provided or are invalid"),
                 403: (AkinonDetail, "Not allowed for this user"),
                 404: (AkinonDetail, "Not found (or another seller's)"),
                 429: (AkinonDetail, "Too many requests for this credential; see Retry-After"),
                 503: (AkinonDetail, "Database unavailable")}
    wanted = sorted({400, 429, 503, *statuses})
    # The "4XX" range also keeps FastAPI from declaring a 422, which the face never answers: DRF
    # answers every validation error with 400.
    return {**{s: {"model": described[s][0], "description": described[s][1]} for s in wanted},
            "4XX": {"model": AkinonDetail, "description": "Any other client error (405 for a method a path "
                                                          "does not serve)"}}


def answers(model: type[BaseModel], description: str, *statuses: int, status: int = 200) -> dict[int | str, Any]:
    """`responses=` of an operation that needs a token: its success body and its errors."""
    return {status: {"model": model, "description": description}, **errors(401, *statuses)}


class AkinonLoginOut(BaseModel):
    key: str


class AkinonProduct(BaseModel):
    sku: str
    name: str
    product_id: str | None
    barcode: str | None


class AkinonOrderItem(BaseModel):
    pk: int
    order: int
    status: str
    remote_id: str
    product: AkinonProduct
    price: str
    retail_price: str
    discount_amount: str
    price_currency: str
    tax_rate: str
    invoice_number: str | None
    invoice_date: str | None
    tracking_number: str | None
    carrier_shipping_code: str | None
    delivered_date: str | None
    estimated_delivery_date: str | None


class AkinonOrder(BaseModel):
    pk: int
    number: str
    status: str
    channel: int | None = None     # the channel's id; absent from an answer that names none
    currency: str
    amount: str
    discount_amount: str
    shipping_amount: str
    shipping_tax_rate: str | None
    created_date: str | None
    modified_date: str | None
    orderitem_set: list[AkinonOrderItem]


class AkinonOrderPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[AkinonOrder]


class AkinonCancelRefund(BaseModel):
    id: str
    amount: str
    status: str


class AkinonCancelSummary(BaseModel):
    """The answer to a cancel sent with `return_details: false`."""

    order: int
    cancellation_type: str
    order_items: list[int]
    refund: AkinonCancelRefund


class AkinonCancelAnswer(RootModel[AkinonOrder | AkinonCancelSummary]):
    """A cancel's answer: the order detail, or the summary when `return_details` is false."""


class AkinonReason(BaseModel):
    pk: int
    cancellation_type: str
    extra_information_needed: bool
    order: int
    subject: str
    is_active: bool
    send_to_remote: bool
    translations: dict[str, dict[str, str]]
    uuid: str
    created_date: str | None
    modified_date: str | None


class AkinonReasonPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[AkinonReason]


class AkinonCancellationRequest(BaseModel):
    id: int
    order_item: int
    reason: int
    description: str | None
    cancellation_type: str
    status: str
    iban: str | None
    holder_name: str | None
    easy_return: dict[str, Any] | None
    quantity: int | None
    fully_refund_as_loyalty_money: bool
    uuid: str
    attributes: dict[str, Any]
    created_date: str | None
    modified_date: str | None


class AkinonCancellationRequestPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[AkinonCancellationRequest]
