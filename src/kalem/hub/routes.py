"""Sign-in, the cancel-request queue and its decisions. Every write goes through
`app.cancellation.decide_cancel_request`, the same use case the native API and every face call."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from kalem.app import access
from kalem.app import cancel_queue as queue
from kalem.app.cancellation import DecideCancelRequest, decide_cancel_request
from kalem.app.principals import Principal
from kalem.domain.errors import AuthenticationFailed, KalemError, TooManyLogins
from kalem.domain.orders import Request as CancelRequest
from kalem.domain.orders import RequestStatus, channel_name
from kalem.domain.reasons import StatusType, reasons
from kalem.hub.session import PRESESSION_COOKIE, SESSION_COOKIE, SESSION_SECONDS
from kalem.hub.web import (
    PREFIX,
    AnyPage,
    BulkActionUnknown,
    DateMalformed,
    DateOutOfRange,
    DenialReasonRequired,
    Form,
    HubRoute,
    NumberNotWhole,
    Page,
    SelectionEmpty,
    SelectionTooLarge,
    SignedIn,
    StatusFilterUnknown,
    age,
    message_of,
    who,
)

router = APIRouter(prefix=PREFIX, route_class=HubRoute, include_in_schema=False)
QUEUE = f"{PREFIX}/cancel-requests"


@router.get("")
@router.get("/")
def home(page: AnyPage) -> Response:
    return page.redirect(QUEUE if page.session else f"{PREFIX}/login")


# --- sign-in ----------------------------------------------------------------------------------

@router.get("/login")
def login_form(page: AnyPage, next: str | None = None) -> Response:  # noqa: A002 - the query name
    return page.render("login.html", next=_safe_next(next), error=None)


@router.post("/login")
def login(page: AnyPage, form: Form) -> Response:
    token = str(form.get("token") or "").strip()
    username, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or "")) or QUEUE
    try:
        if token:
            principal = _principal_for_token(page, token)
        elif username and password:
            principal = page.ctx.logins.login(page.uow(write=True), username, password)
        else:
            return page.render("login.html", http_status=422, next=target, error=page.t("login.missing"))
    except AuthenticationFailed:
        return page.render("login.html", http_status=401, next=target, error=page.t("login.failed"))
    except TooManyLogins as busy:
        response = page.render("login.html", http_status=429, next=target, error=page.t("login.too_many"))
        response.headers["Retry-After"] = str(busy.details["retry_after"])
        return response
    cookie, _ = page.signer.issue(principal)
    response = page.redirect(target)
    page.set_cookie(response, SESSION_COOKIE, cookie, max_age=SESSION_SECONDS)
    response.delete_cookie(PRESESSION_COOKIE, path=PREFIX)
    return response


def _principal_for_token(page: Page, token: str) -> Principal:
    admin = page.ctx.settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return Principal("operator", "admin")
    return access.authenticate(page.uow(), token)


def _safe_next(target: str | None) -> str | None:
    """Only our own pages: an open redirect after sign-in is a phishing aid."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.post("/logout")
def logout(page: SignedIn, form: Form) -> Response:
    session = page.session
    assert session is not None  # SignedIn
    with page.uow(write=True) as uow:  # the cookie is deleted below, but a copy of it must not work either
        uow.hub_sessions.end(session.sid, datetime.fromtimestamp(session.expires, UTC))
        uow.commit()
    response = page.redirect(f"{PREFIX}/login")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# --- the queue --------------------------------------------------------------------------------

def _filters(page: Page, params: dict[str, str]) -> queue.QueueFilter:
    status = params.get("status") or None
    if status is not None and status not in {s.value for s in RequestStatus}:
        raise StatusFilterUnknown("unknown status", field="status")
    reason_id = _int(params.get("reason"), "reason") if params.get("reason") else None
    start, end = _day(params.get("from"), "from"), _day(params.get("to"), "to")
    return queue.QueueFilter(
        status=status, reason_id=reason_id,
        created_from=datetime.combine(start, time(), UTC) if start else None,
        created_before=datetime.combine(end + timedelta(days=1), time(), UTC) if end else None,
        order_number=(params.get("q") or "").strip()[:64] or None,
        seller_id=(params.get("seller") or None) if page.principal.scope is None else None,
        channel=channel_name(params["channel"]) if params.get("channel") else None)


@router.get("/cancel-requests")
def queue_page(request: Request, page: SignedIn) -> Response:
    template = "_queue_table.html" if page.htmx and request.headers.get("hx-target") == "queue-results" \
        else "queue.html"
    return _queue(page, dict(request.query_params), template)


def _queue(page: Page, params: dict[str, str], template: str = "queue.html", http_status: int = 200,
           bulk: BulkForm | None = None) -> Response:
    """The queue; after a bulk mistake, with the seller's choices kept and the mistake said in their words."""
    found = queue.cancel_queue(page.uow(), page.principal, _filters(page, params))
    now = datetime.now(UTC)
    refunds = queue.queue_refunds(page.uow(), found.rows, page.principal)
    rows = [{"request": r.request, "order": r.order, "age": age(r.request.created_at, now, page.t),
             "lines": _request_lines(r), "partial": _partial(r.request), "refund": refunds[r.request.id]}
            for r in found.rows]
    pending = sum(1 for r in found.rows if r.request.status is RequestStatus.PENDING)
    return page.render(template, http_status=http_status, rows=rows, truncated=found.truncated,
                       limit=queue.QUEUE_LIMIT, pending=pending, params=params,
                       statuses=[s.value for s in RequestStatus], cancel_reasons=reasons(StatusType.CANCELLED),
                       denial_reasons=_denials(), sellers=queue.sellers(page.uow(), page.principal),
                       channels=queue.channels(page.uow(), page.principal, params.get("seller") or None),
                       bulk=bulk or BulkForm())


def _request_lines(row: queue.QueueRow) -> list[dict]:
    """Each requested line; an approved request counts the units approved."""
    lines = {ln.line_id: ln for ln in row.order.lines}
    approved = row.request.status is RequestStatus.APPROVED
    out = []
    for item in row.request.items:
        line = lines[item.line_id]
        units = item.approved_quantity if approved and item.approved_quantity is not None else item.quantity
        out.append({"item": item, "line": line, "units": units})
    return out


def _partial(request: CancelRequest) -> tuple[int, int] | None:
    """(approved, requested) units of a request approved in part, else None."""
    if request.status is not RequestStatus.APPROVED:
        return None
    approved = sum(i.approved_quantity or 0 for i in request.items)
    requested = sum(i.quantity for i in request.items)
    return (approved, requested) if approved < requested else None


@router.get("/cancel-requests/{request_id}")
def request_page(request_id: str, page: SignedIn, done: str | None = None) -> Response:
    row = queue.queue_entry(page.uow(), request_id, page.principal)
    requested_by, decided_by = row.request.requested_by, row.request.decided_by or ""
    names = access.actor_names(page.uow(), [requested_by, decided_by])
    return page.render("request.html", row=row, lines=_request_lines(row), denial_reasons=_denials(),
                       done=done if done in ("approved", "rejected") else None,
                       requested_by=who(requested_by, names, page.t), decided_by=who(decided_by, names, page.t),
                       now_age=age(row.request.created_at, datetime.now(UTC), page.t))


@router.post("/cancel-requests/{request_id}/preview")
def preview(request_id: str, page: SignedIn, form: Form) -> Response:
    row = queue.queue_entry(page.uow(), request_id, page.principal)
    result = queue.refund_preview(page.uow(), row, _quantities(form, row), page.principal)
    values: dict[str, Any] = {"row": row, "preview": result, "lines": _request_lines(row),
                              "note": str(form.get("note") or "")}
    if page.htmx:  # the live preview beside the quantity inputs
        return page.render("_preview.html", **values)
    return page.render("confirm.html", **values)


@router.post("/cancel-requests/{request_id}/approve")
def approve(request_id: str, page: SignedIn, form: Form) -> Response:
    row = queue.queue_entry(page.uow(), request_id, page.principal)
    quantities = queue.approval_quantities(row.request, _quantities(form, row))
    decide_cancel_request(page.uow(write=True), DecideCancelRequest(
        request_id, page.principal, "approve", quantities=quantities, note=_note(form)))
    return page.redirect(f"{QUEUE}/{request_id}?done=approved")


@router.post("/cancel-requests/{request_id}/reject")
def reject(request_id: str, page: SignedIn, form: Form) -> Response:
    decide_cancel_request(page.uow(write=True), DecideCancelRequest(
        request_id, page.principal, "reject", reason_id=_denial(form), note=_note(form)))
    return page.redirect(f"{QUEUE}/{request_id}?done=rejected")


@dataclass(frozen=True, slots=True)
class BulkForm:
    """What the seller chose in the bulk bar, kept when the queue is shown again after a mistake."""

    ids: tuple[str, ...] = ()
    action: str = ""
    reason_id: str = ""
    note: str = ""
    problem: str | None = None  # the mistake, in the reader's language
    problem_code: str | None = None  # and its stable code, for scripts and tests (as the error page has)


@router.post("/cancel-requests/bulk")
def bulk(page: SignedIn, form: Form) -> Response:
    """Two steps: `preview` shows every selected request with its refund, `confirm` decides them.
    Each request is decided in its own transaction; one failing does not undo the others. A mistake
    (nothing selected, no rejection reason, a request gone) shows the queue again with the selection kept."""
    chosen = BulkForm(tuple(dict.fromkeys(str(v) for v in form.getlist("ids"))), str(form.get("action") or ""),
                      str(form.get("reason_id") or ""), str(form.get("note") or ""))
    try:
        action, reason_id, rows = _bulk_checked(page, chosen, form)
    except KalemError as exc:
        return _queue(page, {}, http_status=exc.status, bulk=replace(chosen, problem=message_of(exc, page.t),
                                                                      problem_code=exc.code))
    if form.get("step") != "confirm":
        previews = {r.request.id: queue.refund_preview(page.uow(), r, None, page.principal) for r in rows} \
            if action == "approve" else {}
        return page.render("bulk_confirm.html", rows=rows, action=action, previews=previews,
                           reason_id=reason_id, note=_note(form) or "")
    outcomes: list[tuple[queue.QueueRow, str | None]] = []
    for row in rows:
        try:
            decide_cancel_request(page.uow(write=True), DecideCancelRequest(
                row.request.id, page.principal, action, reason_id=reason_id, note=_note(form)))
            outcomes.append((row, None))
        except KalemError as exc:
            outcomes.append((row, message_of(exc, page.t)))
    return page.render("bulk_result.html", outcomes=outcomes, action=action)


def _bulk_checked(page: Page, chosen: BulkForm, form: FormData) -> tuple[str, int | None, list[queue.QueueRow]]:
    if chosen.action not in ("approve", "reject"):
        raise BulkActionUnknown("choose approve or reject", field="action")
    if not chosen.ids:
        raise SelectionEmpty("no request was selected", field="ids")
    if len(chosen.ids) > BULK_LIMIT:
        raise SelectionTooLarge(f"at most {BULK_LIMIT} requests at once", field="ids", limit=BULK_LIMIT)
    reason_id = _denial(form) if chosen.action == "reject" else None
    return chosen.action, reason_id, [queue.queue_entry(page.uow(), i, page.principal) for i in chosen.ids]


#: Requests one bulk action decides at most.
BULK_LIMIT = 100


# --- form helpers -----------------------------------------------------------------------------

def _quantities(form: FormData, row: queue.QueueRow) -> dict[str, int]:
    return {item.line_id: _int(form.get(f"qty:{item.line_id}"), "quantity")
            for item in row.request.items if form.get(f"qty:{item.line_id}") not in (None, "")}


def _denial(form: FormData) -> int:
    value = str(form.get("reason_id") or "")
    reason_id = int(value) if value.isascii() and value.isdigit() else None
    if reason_id is None or reason_id not in {r.id for r in _denials()}:
        raise DenialReasonRequired("choose a denial reason", field="reason_id")
    return reason_id


def _note(form: FormData) -> str | None:
    return str(form.get("note") or "").strip()[:500] or None


def _int(value: object, field: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise NumberNotWhole(f"{field} must be a whole number", field=field) from None


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise DateMalformed(f"{field} must be a date (YYYY-MM-DD)", field=field) from None
    if not EARLIEST <= day <= LATEST:
        raise DateOutOfRange(f"{field} must be a date between {EARLIEST} and {LATEST}", field=field)
    return day


#: The days a filter may name: every order kalem holds falls within them, and the next day of the
#: last one is still a date.
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


def _denials() -> list:
    return reasons(StatusType.CANCEL_REQUEST_DENIED)

