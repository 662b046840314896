"""HepsiGlobal wire schemas and the `{"data", "message"}` envelope (reason strings: reasons.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from kalem.api.error_bodies import METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND
from kalem.api.open_payload import OpenPayload

Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grant_type: Text
    client_id: Text
    client_secret: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class CancelItemEntry(BaseModel):
    """One element of `cancel_items` ("Each item within the cancel_items array specifies details for
    cancellation"): the fields of HG's order-cancel webhook, which the page's array follows."""
    model_config = ConfigDict(extra="forbid")
    order_item_number: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    cancel_quantity: Annotated[StrictInt, Field(ge=1, le=100_000)] | None = None   # absent: every open unit
    reason: Text


class CancelItemIn(BaseModel):
    """`{"reason"}` (the documented example) or `{"cancel_items": [{…}]}` (the array the page describes)."""
    model_config = ConfigDict(extra="forbid")
    reason: Text | None = None
    cancel_items: Annotated[list[CancelItemEntry], Field(min_length=1, max_length=1)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> CancelItemIn:
        if (self.reason is None) == (self.cancel_items is None):
            raise ValueError("send either reason or cancel_items")
        return self


class OrderItemIn(OpenPayload):
    # HG sends many descriptive fields kalem does not keep (campaign, esd, spu…): ignored, not refused,
    # except names that would set a status, an amount or an owner (api/open_payload.py).
    item_number: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    product_name: Annotated[str, StringConstraints(max_length=500)] | None = None
    quantity: StrictInt
    unit_product_price: Amount
    total_amount: Amount | None = None
    total_amount_excl_vat: Amount | None = None
    vat_amount: Amount | None = None
    total_discount_amount: Amount = Decimal(0)
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
    company_id: str | int | None = None


class OrderIn(OpenPayload):
    # customer, address, delivery point: the MP's business, ignored; reserved names are refused.
    order_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    marketplace: Annotated[str, StringConstraints(max_length=64)] | None = None
    order_date: Annotated[str, StringConstraints(max_length=40)] | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] = "USD"
    shipping_amount: Amount = Decimal(0)
    items: Annotated[list[OrderItemIn], Field(min_length=1, max_length=500)]


class RefundItemIn(OpenPayload):
    # The documented list is truncated: unknown extras pass, reserved names (refund_amount…) do not.
    order_item_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: StrictInt
    reason: Text
    amount: Amount | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
    customer_explanation: Annotated[str, StringConstraints(max_length=1000)] | None = None


class HepsiGlobalRefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refund_number: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    order_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    refund_date: Annotated[str, StringConstraints(max_length=40)] | None = None
    items: Annotated[list[RefundItemIn], Field(min_length=1, max_length=500)]


def envelope(data: Any, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"data": data, "message": message}, status_code=status)


#: The codes of a request that reached no operation: a path the API does not have, a method it does not serve.
_NO_OPERATION = frozenset({ROUTE_NOT_FOUND, METHOD_NOT_ALLOWED})


def error(code: str, status: int, message: str, details: dict[str, Any]) -> JSONResponse:
    """HG documents one unsuccessful answer, 400, in the `{data, message}` envelope; kalem keeps 401
    (credentials) and 5xx apart, and puts its stable `code` (and details) inside `data`. 429 stays
    429: clients back off on it. A path the API does not have is 404 (a wrong method 405): no operation
    ran, so there is no operation's answer to give."""
    kept = status in (401, 429) or status >= 500 or code in _NO_OPERATION
    status = status if kept else 400
    return JSONResponse({"data": {"code": code, **({"details": details} if details else {})}, "message": message},
                        status_code=status)


class OrderCancelHook(BaseModel):
    """The body of HG's "Order cancel (canceled by seller)" webhook (`PUT /webhooks/order-cancel` on the
    marketplace's base URL), as kalem's HepsiGlobal face sends it (face/views.py) and a marketplace takes it.
    `cancel_id` names the cancel: a redelivery carries the same one."""
    model_config = ConfigDict(extra="ignore")   # HG may add fields; the documented ones are required
    cancel_id: StrictInt
    order_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    cancel_quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]
    order_item_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None


class Answer(BaseModel):
    """HG's `{data, message}` envelope around a success, as a client reads it."""
    data: Any
    message: str
