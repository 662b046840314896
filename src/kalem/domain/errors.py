"""Typed errors with stable codes.

Every error a caller can cause is a class under `KalemError`, one class per `code`: the stable,
machine-readable name that every face renders (the native `{"error": {"code": ...}}`, or a
dialect's envelope); `status` is the HTTP status it maps to (nothing here knows HTTP beyond that
number). A code is never changed on an instance: a new code is a new class, listed in this tree
(tests/test_errors.py holds it to the code). Classes defined elsewhere name their module; the
leaves from `platforms/` carry a face's own wire codes.

    KalemError (400)
    ├── InvalidInput (422)                        malformed values that passed the wire schema
    │   ├── QuantityNotPositive
    │   ├── DuplicateLine
    │   ├── UnknownReason
    │   ├── InvalidOrder
    │   │   ├── QuantityTooLarge
    │   │   ├── TooManyLines
    │   │   ├── TooManyUnits
    │   │   ├── AmountTooPrecise
    │   │   └── IdNotAddressable
    │   ├── RefundAmountMismatch                  app/refunds.py
    │   ├── RefundReferenceInUse                  app/refunds.py
    │   ├── InvalidRefund                         domain/refunds/amounts.py
    │   ├── RefundCurrencyMismatch                domain/refunds/amounts.py
    │   ├── CancelRequiresSplit                   domain/orders/packages.py
    │   ├── EmptySplit                            domain/orders/packages.py
    │   ├── InvalidPayout                         domain/refunds/records.py
    │   ├── MixedCancelAndReturn                  domain/orders/returns.py
    │   ├── DuplicateUnit                         domain/orders/units.py
    │   ├── InvalidEventType                      domain/webhooks.py
    │   ├── UnknownEventType                      domain/webhooks.py
    │   ├── InvalidWebhookSecret                  domain/webhooks.py
    │   ├── InvalidWebhookUrl                     domain/webhooks.py
    │   ├── WebhookUrlNotAllowed                  domain/webhooks.py
    │   ├── Invalid                               platforms/akinon/face/errors.py   (a face's own codes from here)
    │   ├── Required                              platforms/akinon/face/errors.py
    │   ├── DoesNotExist                          platforms/akinon/face/errors.py
    │   ├── QuantityExceedsAvailable              platforms/akinon/face/errors.py
    │   ├── PartialReturnNotSupported             platforms/akinon/face/errors.py
    │   ├── InvalidCredentials                    platforms/akinon/face/errors.py
    │   ├── UnsupportedGrantType                  platforms/hepsiglobal/face/routes.py
    │   ├── LinesOfSeveralOrders                  platforms/n11/order_lines.py
    │   ├── LinesOfSeveralPackages                platforms/n11/order_lines.py
    │   ├── NothingToSplit                        platforms/n11/order_lines.py
    │   ├── UnsupportedOrderByField               platforms/n11/face/routes.py
    │   ├── MissingOrderIdentifier                platforms/zonos/billing.py
    │   ├── MissingItemIdentifier                 platforms/zonos/billing.py
    │   ├── AccountOrderNumberMismatch            platforms/zonos/billing.py
    │   ├── ItemIdentifierMismatch                platforms/zonos/billing.py
    │   ├── AmbiguousSku                          platforms/zonos/billing.py
    │   ├── InvalidZonosId                        platforms/zonos/face/views.py
    │   └── WebhookTypeNotSupported               platforms/zonos/face/webhooks.py
    ├── NotFound (404)                            unknown ids — and other sellers' ids, which look the same
    │   ├── OrderNotFound
    │   ├── LineNotFound
    │   │   └── OrderLineNotFound                 platforms/n11/order_lines.py
    │   ├── PackageNotFound
    │   ├── CancelRequestNotFound
    │   ├── TokenNotFound
    │   ├── UnknownSeller                         app/access.py
    │   ├── UserNotFound                          app/access.py
    │   ├── ReturnNotFound                        domain/orders/returns.py
    │   ├── UnitNotFound                          domain/orders/units.py
    │   ├── RefundNotFound                        domain/refunds/records.py
    │   ├── WebhookSubscriptionNotFound           domain/webhooks.py
    │   └── WebhookDeliveryNotFound               domain/webhooks.py
    ├── Conflict (409)                            the request is well formed but the state does not allow it
    │   ├── QuantityExceedsCancellable
    │   ├── NothingToCancel
    │   ├── CancelRequestAlreadyDecided
    │   ├── ApprovalExceedsRequested
    │   ├── OrderAlreadyExists
    │   ├── LineIdInUse
    │   ├── AmbiguousOrderNumber
    │   ├── IllegalTransition
    │   │   └── PackageNotSplittable              domain/orders/packages.py
    │   ├── VersionMismatch (412)
    │   ├── IdempotencyKeyInUse
    │   ├── OrderAlreadyCanceled                  domain/billing/order_billing.py
    │   ├── OrderHasPendingCancelRequests         domain/billing/order_billing.py
    │   ├── OrderHasShippedUnits                  domain/billing/order_billing.py
    │   ├── UnitsAlreadyShipped                   domain/billing/order_billing.py
    │   ├── RefundExceedsPaid                     domain/refunds/amounts.py
    │   ├── SplitExceedsPackage                   domain/orders/packages.py
    │   ├── UnitsPendingCancel                    domain/orders/packages.py
    │   ├── RefundAlreadySettled                  domain/refunds/records.py
    │   ├── UnitsNotRefundable                    domain/refunds/records.py
    │   ├── ReturnAlreadyDecided                  domain/orders/requests.py
    │   ├── UnitsNotReturnable                    domain/orders/units.py
    │   ├── UnitAlreadyCancelled                  domain/orders/units.py
    │   ├── UnitAlreadyReturned                   domain/orders/units.py
    │   ├── UnitAlreadyDelivered                  domain/orders/units.py
    │   ├── UnitNotDelivered                      domain/orders/units.py
    │   ├── UnitInTransit                         domain/orders/units.py
    │   ├── UnitPendingDecision                   domain/orders/units.py
    │   ├── DeliveryInFlight                      domain/webhooks.py
    │   └── OrderLineRetired                      platforms/n11/order_lines.py
    ├── IdempotencyKeyReused (422)
    ├── AuthenticationFailed (401)
    ├── TooManyLogins (429)
    ├── PermissionDenied (403)
    │   └── ForcedAmountOperatorOnly              domain/refunds/records.py
    ├── InvalidIban (422)                         domain/refunds/iban.py
    ├── BillingError (422)                        domain/billing/invoices.py
    │   ├── InvalidInvoiceLine                    domain/billing/invoices.py
    │   ├── InvoiceNotFound (404)                 domain/billing/invoices.py
    │   ├── InvoiceAlreadyCharged (409)           domain/billing/invoices.py
    │   └── RebillIncreasesChargedInvoice (409)   domain/billing/invoices.py
    ├── LandedCostError (422)                     domain/billing/landed_cost.py
    │   ├── InvalidLandedCostInput                domain/billing/landed_cost.py
    │   ├── InvalidRateTable                      domain/billing/landed_cost.py
    │   ├── LandedCostCurrencyMismatch            domain/billing/landed_cost.py
    │   └── UnknownDestination                    domain/billing/landed_cost.py
    ├── RefundError (422)                         domain/refunds/book.py
    │   ├── InvalidRefundInput                    domain/refunds/book.py
    │   │   └── RefundQuantityNotPositive         domain/refunds/book.py
    │   ├── InvalidBillableOrder                  domain/refunds/book.py
    │   ├── InvalidCancellationStrategy           domain/refunds/book.py
    │   ├── ForcedAmountExceedsPaid               domain/refunds/book.py
    │   ├── RefundLineNotFound (404)              domain/refunds/book.py
    │   ├── CargoNotRefundable (409)              domain/refunds/book.py
    │   ├── PartialRefundNotAllowed (409)         domain/refunds/book.py
    │   └── RefundExceedsRefundable (409)         domain/refunds/book.py
    ├── CsrfFailed (403)                          hub/web.py
    └── SecretsUnavailable (503)                  store/sealed.py
"""

from __future__ import annotations

from typing import Any


class KalemError(Exception):
    code = "kalem_error"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(KalemError):
    code = "invalid_input"
    status = 422


class QuantityNotPositive(InvalidInput):
    code = "quantity_not_positive"


class DuplicateLine(InvalidInput):
    code = "duplicate_line"


class UnknownReason(InvalidInput):
    code = "unknown_reason"


class InvalidOrder(InvalidInput):
    code = "invalid_order"


class QuantityTooLarge(InvalidOrder):
    """A line's quantity over the intake limit (`KALEM_MAX_LINE_QUANTITY`)."""
    code = "quantity_too_large"


class TooManyLines(InvalidOrder):
    """More lines than the intake limit (`KALEM_MAX_ORDER_LINES`)."""
    code = "too_many_lines"


class AmountTooPrecise(InvalidOrder):
    """An amount with more decimals than its currency has (ISO 4217 / CLDR minor units)."""
    code = "amount_too_precise"


class TooManyUnits(InvalidOrder):
    """More units in all than the intake limit (`KALEM_MAX_ORDER_UNITS`)."""
    code = "too_many_units"


class IdNotAddressable(InvalidOrder):
    """An order number, line id or package id that some route could not name in its path."""
    code = "id_not_addressable"


class NotFound(KalemError):
    code = "not_found"
    status = 404


class OrderNotFound(NotFound):
    code = "order_not_found"


class LineNotFound(NotFound):
    code = "line_not_found"


class PackageNotFound(NotFound):
    code = "package_not_found"


class CancelRequestNotFound(NotFound):
    code = "cancel_request_not_found"


class TokenNotFound(NotFound):
    code = "token_not_found"


class Conflict(KalemError):
    code = "conflict"
    status = 409


class QuantityExceedsCancellable(Conflict):
    code = "quantity_exceeds_cancellable"


class NothingToCancel(Conflict):
    code = "nothing_to_cancel"


class CancelRequestAlreadyDecided(Conflict):
    code = "cancel_request_already_decided"


class ApprovalExceedsRequested(Conflict):
    code = "approval_exceeds_requested"


class OrderAlreadyExists(Conflict):
    code = "order_already_exists"


class LineIdInUse(Conflict):
    code = "line_id_in_use"


class AmbiguousOrderNumber(Conflict):
    code = "ambiguous_order_number"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class VersionMismatch(Conflict):
    code = "version_mismatch"
    status = 412


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"


class IdempotencyKeyReused(KalemError):
    code = "idempotency_key_reused"
    status = 422


class AuthenticationFailed(KalemError):
    code = "authentication_failed"
    status = 401


class TooManyLogins(KalemError):
    """Password checks are bounded: per account, and in all (the hashing capacity)."""
    code = "too_many_logins"
    status = 429


class PermissionDenied(KalemError):
    code = "permission_denied"
    status = 403
