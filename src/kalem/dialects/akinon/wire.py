"""Akinon wire: the cancel body (every field of the seed's table), login, DRF-style errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StringConstraints

from kalem.api.open_payload import OpenPayload


class AkinonLogin(OpenPayload):  # client extras are ignored; `role`, `seller_id`… are refused
    username: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order: StrictInt
    is_all: StrictBool = False
    cancel_items: list[StrictInt] | dict[str, Any]   # the page says "dict"; it is a list of item pks
    forced_refund_amount: Decimal | Annotated[str, StringConstraints(max_length=32)] | None
    reasons: dict[Annotated[str, StringConstraints(max_length=20)], StrictInt]
    is_cargo_refund: StrictBool = False
    refund_invoice_number: Annotated[str, StringConstraints(max_length=100)] | None = None
    ibans: dict[Annotated[str, StringConstraints(max_length=20)], Annotated[str, StringConstraints(max_length=64)]] = {}
    holder_names: dict[Annotated[str, StringConstraints(max_length=20)],
                       Annotated[str, StringConstraints(max_length=200)]] = {}
    return_details: StrictBool = True


class AkinonError(BaseModel):
    """Django REST framework's error shapes with kalem's stable `code` (`error` below writes them): a
    field's name → its messages, `non_field_errors`, or `detail`."""
    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, list[str]]
    code: str
    detail: str | None = None
    non_field_errors: list[str] | None = None


def error(code: str, status: int, message: str, details: dict[str, Any]) -> JSONResponse:
    """Django REST framework's shapes: `{"<field>": [msg]}`, `{"non_field_errors": [msg]}`, `{"detail": msg}`."""
    field = details.get("field")
    if field is None and details.get("errors"):
        field = details["errors"][0].get("field") or None
    if status in (401, 403, 404, 405, 429) or status >= 500:  # 429: DRF's Throttled, `detail` too
        body: dict[str, Any] = {"detail": message}
    elif field:
        parts = str(field).split(".")
        if len(parts) > 1 and parts[0] in ("query", "path", "header"):  # a parameter: DRF names it alone
            parts = parts[1:]
        body = {parts[0]: [message]}
    else:
        body = {"non_field_errors": [message]}
    kept = status >= 500 or status in (401, 403, 404, 429)
    return JSONResponse({**body, "code": code}, status_code=status if kept else 400)
