"""Akinon wire: the cancel body (every field of Akinon's Order Cancellation table), login, DRF-style errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

from kalem.api.open_payload import OpenPayload


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):   # DRF's IntegerField refuses true and false, which pydantic would read as 1 and 0
        raise ValueError("A valid integer is required.")
    return value


#: An integer as DRF's IntegerField parses it: 12 or "12", never a boolean.
Integer = Annotated[int, BeforeValidator(_not_a_boolean)]


class AkinonLogin(OpenPayload):  # client extras are ignored; `role`, `seller_id`… are refused
    username: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class CancelIn(BaseModel):
    """Lax scalars, as DRF's fields parse them: `"12"` is the integer 12, `"true"`/`"yes"`/`1` are true."""

    model_config = ConfigDict(extra="forbid")
    order: Integer
    is_all: bool = False
    # The page's type is "dict" ({order item pk: quantity}); its text and the channel SDK send a list of pks.
    cancel_items: list[Integer] | dict[Annotated[str, StringConstraints(max_length=20)], Integer]
    forced_refund_amount: Decimal | Annotated[str, StringConstraints(max_length=32)] | None
    reasons: dict[Annotated[str, StringConstraints(max_length=20)], Integer]
    is_cargo_refund: bool = False
    refund_invoice_number: Annotated[str, StringConstraints(max_length=100)] | None = None
    ibans: dict[Annotated[str, StringConstraints(max_length=20)], Annotated[str, StringConstraints(max_length=64)]] = {}
    holder_names: dict[Annotated[str, StringConstraints(max_length=20)],
                       Annotated[str, StringConstraints(max_length=200)]] = {}
    return_details: bool = True


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
    kept = status >= 500 or status in (401, 403, 404, 405, 429)   # DRF's own statuses; the rest are 400
    return JSONResponse({**body, "code": code}, status_code=status if kept else 400)
