"""Typed errors with stable codes.

Every error a caller can cause is a leaf of `KalemError`; `code` is the stable, machine-readable
name that every face renders (the native `{"error": {"code": ...}}`, or a dialect's envelope), and
`status` is the HTTP status it maps to. Nothing here knows HTTP beyond that number.

    KalemError
    ├── InvalidInput (422)            malformed values that passed the wire schema
    │   ├── QuantityNotPositive
    │   ├── DuplicateLine
    │   ├── UnknownReason
    │   └── InvalidOrder
    ├── NotFound (404)                unknown ids — and other sellers' ids, which look the same
    │   ├── OrderNotFound
    │   ├── LineNotFound
    │   ├── PackageNotFound
    │   └── CancelRequestNotFound
    ├── Conflict (409)                the request is well formed but the state does not allow it
    │   ├── QuantityExceedsCancellable
    │   ├── CancelRequestAlreadyDecided
    │   ├── ApprovalExceedsRequested
    │   ├── OrderAlreadyExists
    │   ├── LineIdInUse
    │   ├── AmbiguousOrderNumber
    │   ├── IllegalTransition
    │   ├── VersionMismatch (412)
    │   └── IdempotencyKeyInUse
    ├── IdempotencyKeyReused (422)
    ├── AuthenticationFailed (401)
    └── PermissionDenied (403)
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
