"""Typed errors with stable codes.

Every error a caller can cause is a class under `KalemError`, one class per `code`: the stable,
machine-readable name that every face renders (the native `{"error": {"code": ...}}`, or a
dialect's envelope); `status` is the HTTP status it maps to (nothing here knows HTTP beyond that
number). A code is never changed on an instance: a new code is a new class, listed in this tree
(tests/test_errors.py holds it to the code). Classes defined elsewhere name their module; the
leaves from `dialects/` carry a face's own wire codes.

    KalemError (400)
    ├── InvalidInput (422)                        malformed values that passed the wire schema
    │   ├── QuantityNotPositive
    │   ├── DuplicateLine
    │   ├── UnknownReason
    │   ├── InvalidOrder
    │   ├── MissingOrderIdentifier                app/billing.py
    │   ├── MissingItemIdentifier                 app/billing.py
    │   ├── AccountOrderNumberMismatch            app/billing.py
    │   ├── ItemIdentifierMismatch                app/billing.py
    │   ├── AmbiguousSku                          app/billing.py
    │   ├── RefundAmountMismatch                  app/refunds.py
    │   ├── RefundReferenceInUse                  app/refunds.py
    │   ├── InvalidRefund                         domain/refund_amounts.py
    │   ├── RefundCurrencyMismatch                domain/refund_amounts.py
    │   ├── CancelRequiresSplit                   domain/packages.py
    │   ├── EmptySplit                            domain/packages.py
    │   ├── InvalidPayout                         domain/refund_records.py
    │   ├── MixedCancelAndReturn                  domain/returns.py
    │   ├── DuplicateUnit                         domain/units.py
    │   ├── InvalidEventType                      domain/webhooks.py
    │   ├── UnknownEventType                      domain/webhooks.py
    │   ├── InvalidWebhookSecret                  domain/webhooks.py
    │   ├── InvalidWebhookUrl                     domain/webhooks.py
    │   ├── WebhookUrlNotAllowed                  domain/webhooks.py
    │   ├── Invalid                               dialects/akinon/errors.py   (a face's own codes from here)
    │   ├── Required                              dialects/akinon/errors.py
    │   ├── DoesNotExist                          dialects/akinon/errors.py
    │   ├── QuantityExceedsAvailable              dialects/akinon/errors.py
    │   ├── PartialReturnNotSupported             dialects/akinon/errors.py
    │   ├── InvalidCredentials                    dialects/akinon/errors.py
    │   ├── UnsupportedGrantType                  dialects/hepsiglobal/routes.py
    │   ├── LinesOfSeveralOrders                  dialects/n11/order_lines.py
    │   ├── LinesOfSeveralPackages                dialects/n11/order_lines.py
    │   ├── NothingToSplit                        dialects/n11/order_lines.py
    │   ├── UnsupportedOrderByField               dialects/n11/routes.py
    │   ├── InvalidZonosId                        dialects/zonos/views.py
    │   └── WebhookTypeNotSupported               dialects/zonos/webhooks.py
    ├── NotFound (404)                            unknown ids — and other sellers' ids, which look the same
    │   ├── OrderNotFound
    │   ├── LineNotFound
    │   │   └── OrderLineNotFound                 dialects/n11/order_lines.py
    │   ├── PackageNotFound
    │   ├── CancelRequestNotFound
    │   ├── TokenNotFound
    │   ├── UnknownSeller                         app/access.py
    │   ├── ReturnNotFound                        domain/returns.py
    │   ├── UnitNotFound                          domain/units.py
    │   ├── RefundNotFound                        domain/refund_records.py
    │   ├── WebhookSubscriptionNotFound           domain/webhooks.py
    │   └── WebhookDeliveryNotFound               domain/webhooks.py
    ├── Conflict (409)                            the request is well formed but the state does not allow it
    │   ├── QuantityExceedsCancellable
    │   ├── CancelRequestAlreadyDecided
    │   ├── ApprovalExceedsRequested
    │   ├── OrderAlreadyExists
    │   ├── LineIdInUse
    │   ├── AmbiguousOrderNumber
    │   ├── IllegalTransition
    │   │   └── PackageNotSplittable              domain/packages.py
    │   ├── VersionMismatch (412)
    │   ├── IdempotencyKeyInUse
    │   ├── NothingToCancel                       app/refunds.py
    │   ├── OrderAlreadyCanceled                  domain/order_billing.py
    │   ├── OrderHasPendingCancelRequests         domain/order_billing.py
    │   ├── OrderHasShippedUnits                  domain/order_billing.py
    │   ├── UnitsAlreadyShipped                   domain/order_billing.py
    │   ├── RefundExceedsPaid                     domain/refund_amounts.py
    │   ├── SplitExceedsPackage                   domain/packages.py
    │   ├── UnitsPendingCancel                    domain/packages.py
    │   ├── RefundAlreadySettled                  domain/refund_records.py
    │   ├── UnitsNotRefundable                    domain/refund_records.py
    │   ├── ReturnAlreadyDecided                  domain/requests.py
    │   ├── UnitsNotReturnable                    domain/units.py
    │   ├── UnitAlreadyCancelled                  domain/units.py
    │   ├── UnitAlreadyReturned                   domain/units.py
    │   ├── UnitAlreadyDelivered                  domain/units.py
    │   ├── UnitNotDelivered                      domain/units.py
    │   ├── UnitInTransit                         domain/units.py
    │   ├── UnitPendingDecision                   domain/units.py
    │   ├── DeliveryInFlight                      domain/webhooks.py
    │   └── OrderLineRetired                      dialects/n11/order_lines.py
    ├── IdempotencyKeyReused (422)
    ├── AuthenticationFailed (401)
    ├── PermissionDenied (403)
    │   └── ForcedAmountOperatorOnly              domain/refund_records.py
    ├── InvalidIban (422)                         domain/iban.py
    ├── BillingError (422)                        domain/invoicing.py
    │   ├── InvalidInvoiceLine                    domain/invoicing.py
    │   ├── InvoiceNotFound (404)                 domain/invoicing.py
    │   ├── InvoiceAlreadyCharged (409)           domain/invoicing.py
    │   └── RebillIncreasesChargedInvoice (409)   domain/invoicing.py
    ├── LandedCostError (422)                     domain/landed_cost.py
    │   ├── InvalidLandedCostInput                domain/landed_cost.py
    │   ├── InvalidRateTable                      domain/landed_cost.py
    │   ├── LandedCostCurrencyMismatch            domain/landed_cost.py
    │   └── UnknownDestination                    domain/landed_cost.py
    ├── RefundError (422)                         domain/refunds.py
    │   ├── InvalidRefundInput                    domain/refunds.py
    │   │   └── RefundQuantityNotPositive         domain/refunds.py
    │   ├── InvalidBillableOrder                  domain/refunds.py
    │   ├── InvalidCancellationStrategy           domain/refunds.py
    │   ├── ForcedAmountExceedsPaid               domain/refunds.py
    │   ├── RefundLineNotFound (404)              domain/refunds.py
    │   ├── CargoNotRefundable (409)              domain/refunds.py
    │   ├── PartialRefundNotAllowed (409)         domain/refunds.py
    │   └── RefundExceedsRefundable (409)         domain/refunds.py
    └── CsrfFailed (403)                          hub/web.py
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


class PermissionDenied(KalemError):
    code = "permission_denied"
    status = 403
