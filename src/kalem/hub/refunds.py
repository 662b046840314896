"""The refunds view: pending, settled and failed refunds; an operator settles a pending one or retries a
failed one (optionally forcing its amount, within the same cap as the API). Every write calls the same
use case as `/v1/refunds/{id}/settle` and `/retry`."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal
from fastapi import APIRouter, Request
from fastapi.responses import Response

from kalem.app import refunds as app
from kalem.domain.errors import InvalidInput
from kalem.domain.refunds import RefundStatus
from kalem.hub.formats import locale_of
from kalem.hub.web import PREFIX, Form, HubRoute, SignedIn, StatusFilterUnknown

router = APIRouter(prefix=PREFIX, route_class=HubRoute, include_in_schema=False)
REFUNDS = f"{PREFIX}/refunds"
LIMIT = 200


class AmountMalformed(InvalidInput):
    """A forced amount typed in the hub that is not a number."""
    code = "amount_malformed"
    face_code = InvalidInput.code


@router.get("/refunds")
def refunds_page(request: Request, page: SignedIn, done: str | None = None) -> Response:
    status = request.query_params.get("status") or "pending"
    if status not in {s.value for s in RefundStatus}:
        raise StatusFilterUnknown("unknown status", field="status")
    seller = (request.query_params.get("seller") or None) if page.principal.scope is None else None
    found = app.refund_list(page.uow(), page.principal, status=status, seller_id=seller, limit=LIMIT)
    return page.render("refunds.html", refunds=found, status=status, statuses=[s.value for s in RefundStatus],
                       seller=seller, truncated=len(found) >= LIMIT,
                       done=done if done in ("settled", "retried") else None)


@router.post("/refunds/{refund_id}/settle")
def settle(refund_id: str, page: SignedIn, form: Form) -> Response:
    outcome = str(form.get("status") or "")
    app.settle_refund(page.uow(write=True), refund_id, outcome, page.principal)
    return page.redirect(f"{REFUNDS}?status={outcome if outcome in ('succeeded', 'failed') else 'pending'}"
                         "&done=settled")


@router.post("/refunds/{refund_id}/retry")
def retry(refund_id: str, page: SignedIn, form: Form) -> Response:
    app.retry_refund(page.uow(write=True), refund_id, page.principal, _amount(form.get("forced_amount"), page.lang))
    return page.redirect(f"{REFUNDS}?status=pending&done=retried")


def _amount(value: object, lang: str) -> Decimal | None:
    """A forced amount as typed in the page's language, read by Babel (CLDR): "1.234,50" in Turkish,
    "1,234.50" in English. Strict, so a figure whose grouping does not fit the language ("80.50" on a
    Turkish page, which could be 8.050 or 80,50) is refused rather than guessed."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        amount = parse_decimal(text, locale=locale_of(lang), strict=True)
    except NumberFormatError:
        raise AmountMalformed(_MALFORMED, field="forced_amount") from None
    if not amount.is_finite() or amount < 0:
        raise AmountMalformed(_MALFORMED, field="forced_amount")
    return amount


_MALFORMED = ("forced_amount must be an amount written as the page's language writes it: "
              "1.234,50 in Turkish, 1,234.50 in English")
