"""The native error body, without a web framework: the envelope's `error` of one failure (api/errors.py
adds the request id and sends it), also one order's error in `POST /v1/orders/batch` and a refused
line of `kalem import`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kalem.domain.errors import KalemError

# The codes of what the HTTP edge refuses itself, before or around a use case (no error class is
# raised for them); docs/api.md lists them with the rest.
INVALID_REQUEST = "invalid_request"            # the body or a parameter does not fit its schema
TOO_MANY_ITEMS = "too_many_items"              # a list over its bound: split the batch
MALFORMED_JSON = "malformed_json"
INVALID_CHARACTERS = "invalid_characters"      # NUL, which the database cannot store
NUMBER_OUT_OF_RANGE = "number_out_of_range"
PAYLOAD_TOO_LARGE = "payload_too_large"
RATE_LIMITED = "rate_limited"
ROUTE_NOT_FOUND = "route_not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
HTTP_ERROR = "http_error"                      # any other HTTP refusal of the framework's
INTERNAL_ERROR = "internal_error"
DATABASE_UNAVAILABLE = "database_unavailable"
MIGRATIONS_PENDING = "migrations_pending"


def native_error(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    """The native envelope's `error` (without the request id): also one order's error in a batch."""
    if "field" in details and "errors" not in details:
        rest = {k: v for k, v in details.items() if k != "field"}
        details = {**rest, "errors": [{"field": details["field"], "problem": message}]}
    return {"code": code, "message": message, "details": details}


def kalem_error(exc: KalemError) -> dict[str, Any]:
    return native_error(exc.code, exc.message, jsonable(exc.details))


def invalid_fields(errors: Sequence[Any], prefix: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
    """The message and details of a failed validation: one `{field, problem, type}` per pydantic error."""
    fields = [{"field": ".".join(str(p) for p in (*prefix, *e.get("loc", ())) if p != "body"),
               "problem": e.get("msg"), "type": e.get("type")} for e in errors]
    first = fields[0]
    return f"{first['field'] or 'body'}: {first['problem']}", {"errors": fields}


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
