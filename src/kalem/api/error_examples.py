"""Each native operation's error examples in the OpenAPI document: one per stable code the operation can
answer, under the status that code is sent with — not one sample for every operation.

An operation's codes are those of its shape (credentials for an operation that takes a bearer token,
the body's for one that has a body, `Idempotency-Key`'s and `If-Match`'s for one that takes them, a page
cursor's, the edge's own) and those its use case raises, named by code in `RAISES`. A status none of
its codes is sent with is left out of the operation's responses. The status of a code is its error
class's (domain/errors.py and the classes beside the use cases); tests/api/test_openapi_contract.py
holds every code named here to a class that the native API raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kalem.api import error_bodies as edge
from kalem.domain.errors import (
    CredentialsInvalid,
    CredentialsMissing,
    CursorInvalid,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    IfMatchMalformed,
    KalemError,
    TokenExpired,
    VersionMismatch,
)

_NOT_FOUND = ("order_not_found", "ambiguous_order_number")
_INTAKE = ("seller_id_required", "seller_id_mismatch", "unknown_seller", "order_already_exists", "line_id_in_use",
           "quantity_too_large", "too_many_lines", "too_many_units", "amount_too_precise", "id_not_addressable",
           "order_without_lines", "line_id_not_unique", "line_quantity_not_positive", "line_amount_negative",
           "discount_exceeds_line_amount", "package_id_not_unique", "package_status_not_placeable",
           "package_quantity_not_positive", "packed_quantity_mismatch")
_CANCEL_LINES = ("line_not_found", "quantity_not_positive", "duplicate_line", "unknown_reason", "reason_required",
                 "quantity_exceeds_cancellable")
_SUBSCRIPTION = ("invalid_webhook_url", "webhook_url_not_allowed", "invalid_event_type", "unknown_event_type",
                 "invalid_webhook_secret", "webhook_auth_incomplete")

#: The codes each operation's use case raises, by operation id (what its shape implies is added).
RAISES: dict[str, tuple[str, ...]] = {
    "meta.readyz": (edge.DATABASE_UNAVAILABLE, edge.MIGRATIONS_PENDING),
    "meta.metrics": ("operator_required",),
    "orders.place": _INTAKE,
    "orders.get": _NOT_FOUND,
    "orders.cancel": (*_NOT_FOUND, *_CANCEL_LINES, "unit_action_not_allowed",
                      "duplicate_unit", "unit_not_found"),
    "orders.events": _NOT_FOUND,
    "cancel_requests.create": (*_NOT_FOUND, *_CANCEL_LINES, "lines_required"),
    "cancel_requests.get": ("cancel_request_not_found",),
    "cancel_requests.approve": ("cancel_request_not_found", "cancel_request_already_decided",
                                "approved_line_not_requested", "approved_quantity_out_of_range"),
    "cancel_requests.reject": ("cancel_request_not_found", "cancel_request_already_decided", "unknown_reason"),
    "cancel_requests.withdraw": ("cancel_request_not_found", "cancel_request_already_decided"),
    "billing.invoices": _NOT_FOUND,
    "billing.credit_notes": _NOT_FOUND,
    "billing.landed_costs": _NOT_FOUND,
    "billing.charge": (*_NOT_FOUND, "operator_required", "invoice_not_found", "invoice_already_charged"),
    "packages.list": _NOT_FOUND,
    "packages.split": (*_NOT_FOUND, "package_not_found", "line_not_found", "empty_split", "split_exceeds_package",
                       "package_not_splittable", "units_pending_cancel"),
    "packages.set_status": (*_NOT_FOUND, "package_not_found", "package_action_not_allowed",
                            "package_status_not_settable", "cargo_tracking_number_unexpected"),
    "webhooks.list_subscriptions": ("operator_required",),
    "webhooks.create_subscription": ("operator_required", *_SUBSCRIPTION),
    "webhooks.get_subscription": ("webhook_subscription_not_found",),
    "webhooks.update_subscription": ("webhook_subscription_not_found", "webhook_field_not_nullable", *_SUBSCRIPTION),
    "webhooks.delete_subscription": ("webhook_subscription_not_found",),
    "webhooks.replay": ("webhook_subscription_not_found",),
    "webhooks.get_delivery": ("webhook_delivery_not_found",),
    "webhooks.redeliver": ("webhook_delivery_not_found", "webhook_delivery_in_flight"),
    "refunds.preview": (*_NOT_FOUND, "refund_line_not_found", "refund_quantity_not_positive",
                        "refund_exceeds_refundable", "partial_refund_not_allowed", "cargo_not_refundable"),
    "refunds.cancel_with_refund": (*_NOT_FOUND, *_CANCEL_LINES, "invalid_iban", "invalid_payout",
                                   "refund_exceeds_refundable"),
    "refunds.create": (*_NOT_FOUND, "refund_line_not_found", "refund_exceeds_refundable", "units_not_refundable",
                       "invalid_iban", "invalid_payout", "forced_amount_operator_only", "forced_amount_exceeds_paid",
                       "refund_reference_in_use", "refund_amount_mismatch"),
    "refunds.list": _NOT_FOUND,
    "refunds.get": ("refund_not_found",),
    "refunds.settle": ("refund_not_found", "refund_already_settled", "settlement_status_unknown"),
    "returns.create": (*_NOT_FOUND, "line_not_found", "units_required", "units_not_returnable", "unit_not_delivered",
                       "mixed_cancel_and_return"),
    "returns.get": ("return_not_found",),
    "returns.approve": ("return_not_found", "return_already_decided"),
    "returns.reject": ("return_not_found", "return_already_decided"),
    "cancellation_strategy.get": ("seller_id_mismatch",),
    "cancellation_strategy.put": ("operator_required", "invalid_cancellation_strategy"),
    "tokens.revoke": ("operator_required", "token_not_found"),
}

#: The statuses of the codes the edge answers itself (no error class is raised for them).
EDGE_STATUS = {edge.MALFORMED_JSON: 400, edge.PAYLOAD_TOO_LARGE: 413, edge.INVALID_REQUEST: 422,
               edge.RATE_LIMITED: 429, edge.DATABASE_UNAVAILABLE: 503, edge.MIGRATIONS_PENDING: 503}
_REQUEST_ID = "6855b02cf49c4b31b741d52cce4d7171"


def error_classes() -> dict[str, type[KalemError]]:
    """Every error class loaded, by code."""
    def walk(cls: type[KalemError]) -> Iterator[type[KalemError]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)
    return {cls.code: cls for cls in walk(KalemError)}


def codes_of(operation_id: str, operation: dict[str, Any], bearer: str) -> list[str]:
    """The codes an operation of the document can answer: its shape's, then its use case's."""
    headers = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "header"}
    queries = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"}
    codes = [edge.RATE_LIMITED]
    if {bearer: []} in operation.get("security", ()):
        codes += [CredentialsMissing.code, CredentialsInvalid.code, TokenExpired.code, edge.DATABASE_UNAVAILABLE]
    if "requestBody" in operation:
        codes += [edge.MALFORMED_JSON, edge.PAYLOAD_TOO_LARGE]
    if "requestBody" in operation or operation.get("parameters"):
        codes.append(edge.INVALID_REQUEST)
    if "Idempotency-Key" in headers:
        codes += [IdempotencyKeyInUse.code, IdempotencyKeyReused.code]
    if "If-Match" in headers:
        codes += [VersionMismatch.code, IfMatchMalformed.code]
    if "cursor" in queries:
        codes.append(CursorInvalid.code)
    return codes + [c for c in RAISES.get(operation_id, ()) if c not in codes]


def status_of(code: str, classes: dict[str, type[KalemError]]) -> int:
    return EDGE_STATUS[code] if code in EDGE_STATUS else classes[code].status


def example(code: str, classes: dict[str, type[KalemError]]) -> dict[str, Any]:
    """A body of the code: its message says what the class says of itself, else the code in words."""
    cls = classes.get(code)
    doc = (cls.__doc__ or "").strip().split("\n")[0] if cls is not None and cls.__doc__ != KalemError.__doc__ else ""
    message = doc.rstrip(".") or code.replace("_", " ")
    return {"summary": f"`{code}`", "value": {"error": {"code": code, "message": message, "details": {},
                                                        "request_id": _REQUEST_ID}}}


def document_errors(document: dict[str, Any], bearer: str) -> None:
    """Give each native operation's error responses its own examples; drop the statuses it never sends."""
    classes = error_classes()
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or any(t.endswith(" face") for t in operation.get("tags", ())):
                continue
            by_status: dict[str, list[str]] = {}
            for code in codes_of(operation["operationId"], operation, bearer):
                by_status.setdefault(str(status_of(code, classes)), []).append(code)
            for status in [s for s in operation["responses"] if _native_error(operation["responses"][s])]:
                codes = by_status.get(status)
                if not codes:
                    del operation["responses"][status]
                    continue
                content = operation["responses"][status]["content"]["application/json"]
                content["examples"] = {code: example(code, classes) for code in codes}
                operation["responses"][status]["description"] = ", ".join(f"`{c}`" for c in codes)


def _native_error(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).endswith("/ErrorOut")

