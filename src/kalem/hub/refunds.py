"""The refunds view: pending, settled and failed refunds; an operator settles a pending one or retries a
failed one (optionally forcing its amount, within the same cap as the API). Every write calls the same
use case as `/v1/refunds/{id}/settle` and `/retry`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kalem.app import refunds as app
from kalem.domain.errors import InvalidInput
from kalem.domain.refunds import RefundStatus
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
    app.retry_refund(page.uow(write=True), refund_id, page.principal, _amount(form.get("forced_amount")))
    return page.redirect(f"{REFUNDS}?status=pending&done=retried")


def _amount(value: object) -> Decimal | None:
    """A forced amount as typed: empty is none; a comma is the decimal separator in Turkish."""
    text = str(value or "").strip().replace(" ", "")
    if not text:
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise AmountMalformed("forced_amount must be an amount, e.g. 120.50", field="forced_amount") from None
    if not amount.is_finite() or amount < 0:
        raise AmountMalformed("forced_amount must be an amount, e.g. 120.50", field="forced_amount")
    return amount
