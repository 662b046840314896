"""Typed errors with stable codes.

Every error a caller can cause is a class under `KalemError`, one class per `code`: the stable,
machine-readable name that every face renders (the native `{"error": {"code": ...}}`, or a
dialect's envelope); `status` is the HTTP status it maps to (nothing here knows HTTP beyond that
number). A code is never changed on an instance: a new code is a new class, listed in this tree
(tests/test_errors.py holds it to the code). Only leaves are raised: a parent names a kind of
problem, its leaves the problem. Classes defined elsewhere name their module; the leaves from
`platforms/` carry a face's own wire codes. A `*` marks a leaf made precise after the faces'
wire was fixed: the native API shows its code, the faces the code raised in its place before
(`face_code`: its parent's, or `line_not_found` for the lines' kin under NotFound).

    KalemError (400)
    ├── InvalidInput (422)                        malformed values that passed the wire schema
    │   ├── QuantityNotPositive
    │   ├── DuplicateLine
    │   ├── UnknownReason
    │   ├── ReasonRequired*
    │   ├── CursorInvalid*
    │   ├── IfMatchMalformed*
    │   ├── IdempotencyKeyTooLong*
    │   ├── InvalidOrder
    │   │   ├── QuantityTooLarge
    │   │   ├── TooManyLines
    │   │   ├── TooManyUnits
    │   │   ├── AmountTooPrecise
    │   │   ├── IdNotAddressable
    │   │   ├── ChannelNameInvalid*
    │   │   ├── OrderWithoutLines*
    │   │   ├── LineIdNotUnique*
    │   │   ├── LineQuantityNotPositive*
    │   │   ├── LineAmountNegative*
    │   │   ├── DiscountExceedsLineAmount*
    │   │   ├── PackageIdNotUnique*
    │   │   ├── PackageStatusNotPlaceable*
    │   │   ├── PackageQuantityNotPositive*
    │   │   └── PackedQuantityMismatch*
    │   ├── RoleUnknown*                          app/access.py
    │   ├── SellerIdNotAllowed*                   app/access.py
    │   ├── PasswordTooShort*                     app/access.py
    │   ├── PasswordContainsNul*                  app/access.py
    │   ├── TokenExpiryPassed*                    app/tokens.py
    │   ├── TokenOutlivesCreator*                 app/tokens.py
    │   ├── ApprovedLineNotRequested*             app/cancel_queue.py
    │   ├── ApprovedQuantityOutOfRange*           app/cancel_queue.py
    │   ├── PlatformNotConnectable                app/channels.py
    │   ├── CredentialsIncomplete                 app/channels.py
    │   ├── ChannelAccountInvalid                 app/channels.py
    │   ├── SellerIdRequired*                     app/principals.py
    │   ├── RefundAmountMismatch                  app/refunds.py
    │   ├── RefundReferenceInUse                  app/refunds.py
    │   ├── CancelRequiresSplit                   domain/orders/packages.py
    │   ├── EmptySplit                            domain/orders/packages.py
    │   ├── PackageStatusNotSettable*             domain/orders/packages.py
    │   ├── CargoTrackingNumberUnexpected*        domain/orders/packages.py
    │   ├── LinesRequired*                        domain/orders/requests.py
    │   ├── MixedCancelAndReturn                  domain/orders/returns.py
    │   ├── UnitsRequired*                        domain/orders/returns.py
    │   ├── DuplicateUnit                         domain/orders/units.py
    │   ├── UnitNumberOutOfRange*                 domain/refunds/account.py
    │   ├── InvalidRefund                         domain/refunds/amounts.py
    │   ├── RefundCurrencyMismatch                domain/refunds/amounts.py
    │   ├── InvalidPayout                         domain/refunds/records.py
    │   ├── SettlementStatusUnknown*              domain/refunds/records.py
    │   ├── RefundPolicyUnknown                   domain/refunds/policy.py
    │   ├── InvalidEventType                      domain/webhooks.py
    │   ├── UnknownEventType                      domain/webhooks.py
    │   ├── InvalidWebhookSecret                  domain/webhooks.py
    │   ├── InvalidWebhookUrl                     domain/webhooks.py
    │   ├── WebhookUrlNotAllowed                  domain/webhooks.py
    │   ├── WebhookAuthIncomplete*                domain/webhooks.py
    │   ├── WebhookFieldNotNullable*              domain/webhooks.py
    │   ├── StatusFilterUnknown*                  hub/web.py
    │   ├── BulkActionUnknown*                    hub/web.py
    │   ├── SelectionEmpty*                       hub/web.py
    │   ├── SelectionTooLarge*                    hub/web.py
    │   ├── DenialReasonRequired*                 hub/web.py
    │   ├── NumberNotWhole*                       hub/web.py
    │   ├── DateMalformed*                        hub/web.py
    │   ├── DateOutOfRange*                       hub/web.py
    │   ├── AmountMalformed*                      hub/refunds.py
    │   ├── Invalid                               platforms/akinon/face/errors.py  (faces' own codes from here)
    │   ├── Required                              platforms/akinon/face/errors.py
    │   ├── DoesNotExist                          platforms/akinon/face/errors.py
    │   ├── QuantityExceedsAvailable              platforms/akinon/face/errors.py
    │   ├── PartialReturnNotSupported             platforms/akinon/face/errors.py
    │   ├── InvalidCredentials                    platforms/akinon/face/errors.py
    │   ├── UnitLineQuantityNotPositive*          platforms/hebiar/face/routes.py
    │   ├── StatusTypeUnknown*                    platforms/hebiar/face/routes.py
    │   ├── TimestampMalformed*                   platforms/hebiar/face/routes.py
    │   ├── UnsupportedGrantType                  platforms/hepsiglobal/face/routes.py
    │   ├── CompanyIdRequired*                    platforms/hepsiglobal/face/routes.py
    │   ├── OrderItemRepeated*                    platforms/hepsiglobal/face/routes.py
    │   ├── CancelItemElsewhere*                  platforms/hepsiglobal/face/routes.py
    │   ├── LinesOfSeveralOrders                  platforms/n11/order_lines.py
    │   ├── LinesOfSeveralPackages                platforms/n11/order_lines.py
    │   ├── NothingToSplit                        platforms/n11/order_lines.py
    │   ├── UnsupportedOrderByField               platforms/n11/face/routes.py
    │   ├── StatusNotPicking*                     platforms/n11/face/routes.py
    │   ├── LineIdRepeated*                       platforms/n11/face/routes.py
    │   ├── PackageStatusUnknown*                 platforms/n11/face/routes.py
    │   ├── DateRangeReversed*                    platforms/n11/face/routes.py
    │   ├── MissingOrderIdentifier                platforms/zonos/billing.py
    │   ├── MissingItemIdentifier                 platforms/zonos/billing.py
    │   ├── AccountOrderNumberMismatch            platforms/zonos/billing.py
    │   ├── ItemIdentifierMismatch                platforms/zonos/billing.py
    │   ├── AmbiguousSku                          platforms/zonos/billing.py
    │   ├── PageSizeOutOfRange*                   platforms/zonos/face/limits.py
    │   ├── TextNotStorable*                      platforms/zonos/face/schema.py
    │   ├── AmountNotANumber*                     platforms/zonos/face/schema.py
    │   ├── InvalidZonosId                        platforms/zonos/face/views.py
    │   ├── WebhookTypeNotSupported               platforms/zonos/face/webhooks.py
    │   ├── WebhookBodyUnreadable                 platforms/zonos/face/inbound.py
    │   ├── HepsiGlobalHookUnreadable             platforms/hepsiglobal/face/inbound.py
    │   └── HebiarHookUnreadable                  platforms/hebiar/face/inbound.py
    ├── NotFound (404)                            unknown ids — and other sellers' ids, which look the same
    │   ├── OrderNotFound
    │   ├── LineNotFound
    │   ├── PackageNotFound
    │   ├── CancelRequestNotFound
    │   ├── TokenNotFound
    │   ├── UnknownSeller                         app/access.py
    │   ├── UserNotFound                          app/access.py
    │   ├── ChannelAccountNotFound                app/channels.py
    │   ├── ChannelPushNotFound                   app/channels.py
    │   ├── ChannelDriftNotFound                  app/channel_reconcile.py
    │   ├── RequestLineNotFound*                  domain/orders/requests.py
    │   ├── ReturnNotFound                        domain/orders/returns.py
    │   ├── UnitNotFound                          domain/orders/units.py
    │   ├── RefundNotFound                        domain/refunds/records.py
    │   ├── WebhookSubscriptionNotFound           domain/webhooks.py
    │   ├── WebhookDeliveryNotFound               domain/webhooks.py
    │   ├── PageNotFound*                         hub/web.py
    │   ├── OrderPkNotFound*                      platforms/akinon/face/errors.py
    │   ├── CancellationRequestNotFound*          platforms/akinon/face/errors.py
    │   ├── CancellationReasonNotFound*           platforms/akinon/face/errors.py
    │   ├── PageInvalid*                          platforms/akinon/face/errors.py
    │   ├── UnitLineNotFound*                     platforms/hebiar/units.py
    │   ├── OrderLineNotFound                     platforms/n11/order_lines.py
    │   └── ItemNotFound*                         platforms/zonos/billing.py
    ├── Conflict (409)                            the request is well formed but the state does not allow it
    │   ├── QuantityExceedsCancellable
    │   ├── NothingToCancel
    │   ├── CancelRequestAlreadyDecided
    │   ├── ApprovalExceedsRequested
    │   ├── OrderAlreadyExists
    │   ├── OrderInAnotherChannel
    │   ├── LineIdInUse
    │   ├── AmbiguousOrderNumber
    │   ├── IllegalTransition                     a state table refused the step (domain/states.py)
    │   │   ├── PackageActionNotAllowed*          domain/orders/packages.py
    │   │   ├── PackageNotSplittable              domain/orders/packages.py
    │   │   ├── UnitActionNotAllowed*             domain/orders/units.py
    │   │   ├── UnitNotOnLine*                    domain/orders/units.py
    │   │   └── DeliveryActionNotAllowed*         domain/webhooks.py
    │   ├── VersionMismatch (412)
    │   ├── IdempotencyKeyInUse
    │   ├── ChannelAccountExists                  app/channels.py
    │   ├── DriftNotResolvable                    app/channel_reconcile.py
    │   ├── OrderAlreadyCanceled                  domain/orders/order.py
    │   ├── OrderHasPendingCancelRequests         domain/billing/order_billing.py
    │   ├── OrderHasShippedUnits                  domain/billing/order_billing.py
    │   ├── UnitsAlreadyShipped                   domain/billing/order_billing.py
    │   ├── SplitExceedsPackage                   domain/orders/packages.py
    │   ├── UnitsPendingCancel                    domain/orders/packages.py
    │   ├── ReturnAlreadyDecided                  domain/orders/requests.py
    │   ├── UnitsNotReturnable                    domain/orders/units.py
    │   ├── UnitAlreadyCancelled                  domain/orders/units.py
    │   ├── UnitAlreadyReturned                   domain/orders/units.py
    │   ├── UnitAlreadyDelivered                  domain/orders/units.py
    │   ├── UnitNotDelivered                      domain/orders/units.py
    │   ├── UnitInTransit                         domain/orders/units.py
    │   ├── UnitPendingDecision                   domain/orders/units.py
    │   ├── RefundExceedsPaid                     domain/refunds/amounts.py
    │   ├── RefundAlreadySettled                  domain/refunds/records.py
    │   ├── UnitsNotRefundable                    domain/refunds/records.py
    │   ├── UnitsCredited                         domain/refunds/credits.py
    │   ├── RefundNotRetryable                    domain/refunds/records.py
    │   ├── DeliveryInFlight                      domain/webhooks.py
    │   ├── OrderLineRetired                      platforms/n11/order_lines.py
    │   └── TooManyPackageLines                   platforms/n11/line_ids.py
    ├── IdempotencyKeyReused (422)
    ├── AuthenticationFailed (401)
    │   ├── CredentialsMissing*                   none, or none in a scheme the path takes
    │   ├── CredentialsInvalid*                   unknown, revoked or wrong (which, is not said)
    │   ├── TokenExpired*
    │   ├── WebhookSignatureInvalid               platforms/zonos/face/inbound.py
    │   ├── HepsiGlobalSignatureInvalid           platforms/hepsiglobal/face/inbound.py
    │   └── HebiarHookUnauthorized                platforms/hebiar/face/inbound.py
    ├── TooManyLogins (429)
    ├── PermissionDenied (403)
    │   ├── OperatorRequired*                     app/principals.py
    │   ├── SellerIdMismatch*                     app/principals.py
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
    │   │   ├── RefundQuantityNotPositive         domain/refunds/book.py
    │   │   ├── RefundLinesRequired*              domain/refunds/book.py
    │   │   ├── RefundCountNotInteger*            domain/refunds/book.py
    │   │   ├── RefundUnitsOutOfRange*            domain/refunds/book.py
    │   │   ├── RefundCauseUnsupported*           domain/refunds/book.py
    │   │   └── RefundedAmountInvalid*            domain/refunds/book.py
    │   ├── InvalidBillableOrder                  domain/refunds/book.py
    │   ├── InvalidCancellationStrategy           domain/refunds/book.py
    │   ├── ForcedAmountExceedsPaid               domain/refunds/book.py
    │   ├── RefundLineNotFound (404)              domain/refunds/book.py
    │   ├── CargoNotRefundable (409)              domain/refunds/book.py
    │   ├── PartialRefundNotAllowed (409)         domain/refunds/book.py
    │   └── RefundExceedsRefundable (409)         domain/refunds/book.py
    ├── CsrfFailed (403)                          hub/web.py
    ├── PlatformUnavailable (503)                 app/channel_reconcile.py
    └── SecretsUnavailable (503)                  store/sealed.py
"""

from __future__ import annotations

from typing import Any


class KalemError(Exception):
    code = "kalem_error"
    status = 400
    #: The code the platform faces render: the class's own unless it sets one. A face's wire codes
    #: never change, so a leaf made precise after the faces shipped keeps there the code raised in its
    #: place before (`face_code = Parent.code`), while the native API shows its precise `code`.
    face_code = code

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "face_code" not in cls.__dict__:
            cls.face_code = cls.code


class InvalidInput(KalemError):
    code = "invalid_input"
    status = 422


class QuantityNotPositive(InvalidInput):
    code = "quantity_not_positive"


class DuplicateLine(InvalidInput):
    code = "duplicate_line"


class UnknownReason(InvalidInput):
    code = "unknown_reason"


class ReasonRequired(InvalidInput):
    code = "reason_required"
    face_code = InvalidInput.code


class CursorInvalid(InvalidInput):
    """A page cursor (`after`, `cursor`) that no page of this API gave."""
    code = "cursor_invalid"
    face_code = InvalidInput.code


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


class ChannelNameInvalid(InvalidOrder):
    """A channel name that is not 1 to 40 letters, digits, `.`, `_` or `-` (domain/orders/channels.py)."""
    code = "channel_name_invalid"
    face_code = InvalidOrder.code


class OrderWithoutLines(InvalidOrder):
    code = "order_without_lines"
    face_code = InvalidOrder.code


class LineIdNotUnique(InvalidOrder):
    code = "line_id_not_unique"
    face_code = InvalidOrder.code


class LineQuantityNotPositive(InvalidOrder):
    code = "line_quantity_not_positive"
    face_code = InvalidOrder.code


class LineAmountNegative(InvalidOrder):
    """A negative unit price, discount or tax rate."""
    code = "line_amount_negative"
    face_code = InvalidOrder.code


class DiscountExceedsLineAmount(InvalidOrder):
    code = "discount_exceeds_line_amount"
    face_code = InvalidOrder.code


class PackageIdNotUnique(InvalidOrder):
    code = "package_id_not_unique"
    face_code = InvalidOrder.code


class PackageStatusNotPlaceable(InvalidOrder):
    """A package given on the intake in a status an order cannot arrive in (split, cancelled…)."""
    code = "package_status_not_placeable"
    face_code = InvalidOrder.code


class PackageQuantityNotPositive(InvalidOrder):
    code = "package_quantity_not_positive"
    face_code = InvalidOrder.code


class PackedQuantityMismatch(InvalidOrder):
    """The packages given on the intake hold more or fewer units of a line than its quantity."""
    code = "packed_quantity_mismatch"
    face_code = InvalidOrder.code


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


class OrderInAnotherChannel(Conflict):
    """An order number the seller already holds under another channel: one order is never sold twice."""
    code = "order_in_another_channel"


class LineIdInUse(Conflict):
    code = "line_id_in_use"


class AmbiguousOrderNumber(Conflict):
    code = "ambiguous_order_number"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class VersionMismatch(Conflict):
    code = "version_mismatch"
    status = 412


class IfMatchMalformed(InvalidInput):
    """`If-Match` that is not an ETag of this API (`W/"3"`)."""
    code = "if_match_malformed"
    face_code = InvalidInput.code


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"


class IdempotencyKeyReused(KalemError):
    code = "idempotency_key_reused"
    status = 422


class IdempotencyKeyTooLong(InvalidInput):
    code = "idempotency_key_too_long"
    face_code = InvalidInput.code


class AuthenticationFailed(KalemError):
    code = "authentication_failed"
    status = 401


class CredentialsMissing(AuthenticationFailed):
    """No credential, or none in a scheme the path takes."""
    code = "credentials_missing"
    face_code = AuthenticationFailed.code


class CredentialsInvalid(AuthenticationFailed):
    """Unknown, revoked or wrong: which of these is not said."""
    code = "credentials_invalid"
    face_code = AuthenticationFailed.code


class TokenExpired(AuthenticationFailed):
    code = "token_expired"
    face_code = AuthenticationFailed.code


class TooManyLogins(KalemError):
    """Password checks are bounded: per account, and in all (the hashing capacity)."""
    code = "too_many_logins"
    status = 429


class PermissionDenied(KalemError):
    code = "permission_denied"
    status = 403
