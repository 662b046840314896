"""The Akinon face's own refusals, one class per code; rendered DRF-style (`{"<field>": [msg], "code"}`)."""

from __future__ import annotations

from kalem.domain.errors import InvalidInput, NotFound


class Invalid(InvalidInput):
    """A field's value is refused (DRF's `invalid`); `field` names it."""

    code = "invalid"


class Required(InvalidInput):
    code = "required"


class DoesNotExist(InvalidInput):
    """A related pk that names nothing the caller can see (DRF's `does_not_exist`)."""

    code = "does_not_exist"


class QuantityExceedsAvailable(InvalidInput):
    code = "quantity_exceeds_available"


class PartialReturnNotSupported(InvalidInput):
    code = "partial_return_not_supported"


class InvalidCredentials(InvalidInput):
    code = "invalid_credentials"


# DRF's 404 (`{"detail": "Not found."}`, code `not_found`), whatever was not found.
class OrderPkNotFound(NotFound):
    code = "order_pk_not_found"
    face_code = NotFound.code


class CancellationRequestNotFound(NotFound):
    code = "cancellation_request_not_found"
    face_code = NotFound.code


class CancellationReasonNotFound(NotFound):
    code = "cancellation_reason_not_found"
    face_code = NotFound.code


class PageInvalid(NotFound):
    """`?page=` that is not a positive number, or past the last page (DRF's "Invalid page.")."""
    code = "page_invalid"
    face_code = NotFound.code
