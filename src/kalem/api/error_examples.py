"""Each native operation's error examples in the OpenAPI document: one per stable code the operation can
answer, under the status that code is sent with — not one sample for every operation.

An operation's codes are those of its shape (credentials for an operation that takes a bearer token,
the body's for one that has a body, `Idempotency-Key`'s and `If-Match`'s for one that takes them, a page
cursor's, the edge's own) and those its use case raises, named by code in `RAISES`. A status none of
its codes is sent with is left out of the operation's responses. The use cases' errors are named by
class (a code is written once, in its class), the edge's by its constant; the status of a code is its
class's. tests/api/test_openapi_contract.py holds every class named here to one the native API raises.
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

_NOT_FOUND = ("OrderNotFound", "AmbiguousOrderNumber")
_INTAKE = ("SellerIdRequired", "SellerIdMismatch", "UnknownSeller", "OrderAlreadyExists", "LineIdInUse",
           "QuantityTooLarge", "TooManyLines", "TooManyUnits", "AmountTooPrecise", "IdNotAddressable",
           "OrderWithoutLines", "LineIdNotUnique", "LineQuantityNotPositive", "LineAmountNegative",
           "DiscountExceedsLineAmount", "PackageIdNotUnique", "PackageStatusNotPlaceable",
           "PackageQuantityNotPositive", "PackedQuantityMismatch")
_CANCEL_LINES = ("LineNotFound", "QuantityNotPositive", "DuplicateLine", "UnknownReason", "ReasonRequired",
                 "QuantityExceedsCancellable")
_SUBSCRIPTION = ("InvalidWebhookUrl", "WebhookUrlNotAllowed", "InvalidEventType", "UnknownEventType",
                 "InvalidWebhookSecret", "WebhookAuthIncomplete", "SellerIdMismatch", "ChannelNameInvalid")

_POLICY_SELLER = ("SellerIdMismatch", "SellerIdRequired", "UnknownSeller")

#: What each operation's use case raises, by operation id: error classes by name, or the edge's codes
#: (what the operation's shape implies is added to these).
RAISES: dict[str, tuple[str, ...]] = {
    "meta.readyz": (edge.DATABASE_UNAVAILABLE, edge.MIGRATIONS_PENDING),
    "meta.metrics": ("OperatorRequired",),
    "orders.place": _INTAKE,
    "orders.get": _NOT_FOUND,
    "orders.cancel": (*_NOT_FOUND, *_CANCEL_LINES, "UnitActionNotAllowed",
                      "DuplicateUnit", "UnitNotFound"),
    "orders.events": _NOT_FOUND,
    "cancel_requests.create": (*_NOT_FOUND, *_CANCEL_LINES, "LinesRequired"),
    "cancel_requests.get": ("CancelRequestNotFound",),
    "cancel_requests.approve": ("CancelRequestNotFound", "CancelRequestAlreadyDecided",
                                "ApprovedLineNotRequested", "ApprovedQuantityOutOfRange"),
    "cancel_requests.reject": ("CancelRequestNotFound", "CancelRequestAlreadyDecided", "UnknownReason"),
    "cancel_requests.withdraw": ("CancelRequestNotFound", "CancelRequestAlreadyDecided"),
    "billing.invoices": _NOT_FOUND,
    "billing.credit_notes": _NOT_FOUND,
    "billing.landed_costs": _NOT_FOUND,
    "billing.charge": (*_NOT_FOUND, "OperatorRequired", "InvoiceNotFound", "InvoiceAlreadyCharged"),
    "packages.list": _NOT_FOUND,
    "packages.split": (*_NOT_FOUND, "PackageNotFound", "LineNotFound", "EmptySplit", "SplitExceedsPackage",
                       "PackageNotSplittable", "UnitsPendingCancel"),
    "packages.set_status": (*_NOT_FOUND, "PackageNotFound", "PackageActionNotAllowed",
                            "PackageStatusNotSettable", "CargoTrackingNumberUnexpected"),
    "webhooks.list_subscriptions": ("OperatorRequired",),
    "webhooks.create_subscription": ("OperatorRequired", *_SUBSCRIPTION),
    "webhooks.get_subscription": ("WebhookSubscriptionNotFound",),
    "webhooks.update_subscription": ("WebhookSubscriptionNotFound", "WebhookFieldNotNullable", *_SUBSCRIPTION),
    "webhooks.delete_subscription": ("WebhookSubscriptionNotFound",),
    "webhooks.replay": ("WebhookSubscriptionNotFound",),
    "webhooks.get_delivery": ("WebhookDeliveryNotFound",),
    "webhooks.redeliver": ("WebhookDeliveryNotFound", "DeliveryInFlight"),
    "refunds.preview": (*_NOT_FOUND, "RefundLineNotFound", "RefundQuantityNotPositive",
                        "RefundExceedsRefundable", "PartialRefundNotAllowed", "CargoNotRefundable"),
    "refunds.cancel_with_refund": (*_NOT_FOUND, *_CANCEL_LINES, "InvalidIban", "InvalidPayout",
                                   "RefundExceedsRefundable"),
    "refunds.create": (*_NOT_FOUND, "RefundLineNotFound", "RefundExceedsRefundable", "UnitsNotRefundable",
                       "InvalidIban", "InvalidPayout", "ForcedAmountOperatorOnly", "ForcedAmountExceedsPaid",
                       "RefundReferenceInUse", "RefundAmountMismatch"),
    "refunds.list": _NOT_FOUND,
    "refunds.get": ("RefundNotFound",),
    "refunds.settle": ("OperatorRequired", "RefundNotFound", "RefundAlreadySettled", "SettlementStatusUnknown"),
    "returns.create": (*_NOT_FOUND, "LineNotFound", "UnitsRequired", "UnitsNotReturnable", "UnitNotDelivered",
                       "MixedCancelAndReturn"),
    "returns.get": ("ReturnNotFound",),
    "returns.approve": ("ReturnNotFound", "ReturnAlreadyDecided"),
    "returns.reject": ("ReturnNotFound", "ReturnAlreadyDecided"),
    "cancellation_strategy.get": ("SellerIdMismatch", "UnknownSeller"),
    "cancellation_strategy.put": ("OperatorRequired", "InvalidCancellationStrategy", "UnknownSeller"),
    "tokens.revoke": ("OperatorRequired", "TokenNotFound"),
    "webhooks.redeliver_dead": ("WebhookSubscriptionNotFound",),
    "webhooks.list_deliveries": ("WebhookSubscriptionNotFound",),
    "refunds.retry": ("OperatorRequired", "RefundNotFound", "RefundNotRetryable", "ForcedAmountExceedsPaid"),
    "refund_policy.get": _POLICY_SELLER,
    "refund_policy.put": (*_POLICY_SELLER, "RefundPolicyUnknown"),
    "refund_policy.put_channel": (*_POLICY_SELLER, "RefundPolicyUnknown", "ChannelNameInvalid"),
    "refund_policy.delete_channel": (*_POLICY_SELLER, "ChannelNameInvalid"),
    "tokens.create_token": ("OperatorRequired", "SellerIdMismatch", "UnknownSeller", "RoleUnknown",
                            "SellerIdNotAllowed", "TokenOutlivesCreator", "TokenExpiryPassed"),
    "tokens.list_tokens": ("SellerIdMismatch",),
    "channel_accounts.add_account": ("SellerIdMismatch", "SellerIdRequired", "UnknownSeller",
                                     "PlatformNotConnectable", "CredentialsIncomplete", "ChannelAccountInvalid",
                                     "ChannelNameInvalid", "ChannelAccountExists"),
    "channel_accounts.list_accounts": ("SellerIdMismatch",),
    "channel_accounts.get_account": ("ChannelAccountNotFound",),
    "channel_accounts.remove_account": ("ChannelAccountNotFound",),
    "channel_accounts.list_pushes": ("ChannelAccountNotFound",),
    "channel_accounts.replay_push": ("ChannelPushNotFound",),
    "channel_accounts.list_drift": ("ChannelAccountNotFound",),
    "channel_accounts.resolve_drift": ("ChannelDriftNotFound", "DriftNotResolvable", "PlatformUnavailable"),
}

#: The statuses of the codes the edge answers itself (no error class is raised for them).
EDGE_STATUS = {edge.MALFORMED_JSON: 400, edge.PAYLOAD_TOO_LARGE: 413, edge.INVALID_REQUEST: 422,
               edge.RATE_LIMITED: 429, edge.DATABASE_UNAVAILABLE: 503, edge.MIGRATIONS_PENDING: 503}
_REQUEST_ID = "6855b02cf49c4b31b741d52cce4d7171"


def native_errors() -> dict[str, type[KalemError]]:
    """The error classes the native API may raise (not the faces' own, not the hub's), by name."""
    def walk(cls: type[BaseException]) -> Iterator[type[BaseException]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)
    return {cls.__name__: cls for cls in walk(Exception)
            if issubclass(cls, KalemError) and not cls.__module__.startswith(("kalem.platforms.", "kalem.hub."))}


def raised_codes(operation_id: str, classes: dict[str, type[KalemError]]) -> list[str]:
    """The codes of what the operation's use case raises."""
    return [name if name in EDGE_STATUS else classes[name].code for name in RAISES.get(operation_id, ())]


def codes_of(operation_id: str, operation: dict[str, Any], bearer: str,
             classes: dict[str, type[KalemError]]) -> list[str]:
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
    return codes + [c for c in raised_codes(operation_id, classes) if c not in codes]


def example(code: str, cls: type[KalemError] | None) -> dict[str, Any]:
    """A body of the code: its message says what its class says of itself, else the code in words."""
    doc = (cls.__dict__.get("__doc__") or "") if cls is not None else ""
    message = doc.strip().split("\n")[0].rstrip(".") or code.replace("_", " ")
    return {"summary": f"`{code}`", "value": {"error": {"code": code, "message": message, "details": {},
                                                        "request_id": _REQUEST_ID}}}


def document_errors(document: dict[str, Any], bearer: str) -> None:
    """Give each native operation's error responses its own examples; drop the statuses it never sends."""
    classes = native_errors()
    by_code = {cls.code: cls for cls in classes.values()}
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or any(t.endswith(" face") for t in operation.get("tags", ())):
                continue
            by_status: dict[str, list[str]] = {}
            for code in codes_of(operation["operationId"], operation, bearer, classes):
                status = EDGE_STATUS[code] if code in EDGE_STATUS else by_code[code].status
                by_status.setdefault(str(status), []).append(code)
            for status in [s for s in operation["responses"] if _native_error(operation["responses"][s])]:
                codes = by_status.get(status)
                if not codes:
                    del operation["responses"][status]
                    continue
                content = operation["responses"][status]["content"]["application/json"]
                content["examples"] = {code: example(code, by_code.get(code)) for code in codes}
                operation["responses"][status]["description"] = ", ".join(f"`{c}`" for c in codes)


def _native_error(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).endswith("/ErrorOut")

