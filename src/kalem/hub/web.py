"""The hub's plumbing: templates, the per-request `Page`, sign-in and CSRF dependencies, and the
route class that turns every error into a page (never a stack trace, never the API's JSON).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import OperationalError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from kalem.api.error_bodies import DATABASE_UNAVAILABLE, HTTP_ERROR, INTERNAL_ERROR, INVALID_REQUEST
from kalem.app.principals import Principal
from kalem.domain.errors import AuthenticationFailed, InvalidInput, KalemError, NotFound
from kalem.hub.formats import money, percent
from kalem.hub.i18n import DEFAULT, LANGUAGES, translator
from kalem.hub.session import LANG_COOKIE, PRESESSION_COOKIE, SESSION_COOKIE, Session, Signer, new_nonce

log = logging.getLogger("kalem.hub")
PREFIX = "/hub"
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
# Event data as people read it: "ç", not "\u00e7" (Jinja's own `tojson` escapes non-ASCII); autoescaped.
env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)

#: Pages may not be framed, run foreign scripts or post elsewhere. Inline styles are not needed:
#: the ledger bars are SVG attributes.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    pass


class CsrfFailed(KalemError):
    code, status = "csrf_failed", 403


# The hub's own refusals of what a page or form was sent (the hub shows each code on its error page).
class PageNotFound(NotFound):
    code = "page_not_found"
    face_code = NotFound.code


class StatusFilterUnknown(InvalidInput):
    code = "status_filter_unknown"
    face_code = InvalidInput.code


class BulkActionUnknown(InvalidInput):
    """A bulk decision other than approve or reject."""
    code = "bulk_action_unknown"
    face_code = InvalidInput.code


class SelectionEmpty(InvalidInput):
    """A bulk decision with no request selected."""
    code = "selection_empty"
    face_code = InvalidInput.code


class SelectionTooLarge(InvalidInput):
    """A bulk decision of more requests than one action decides."""
    code = "selection_too_large"
    face_code = InvalidInput.code


class DenialReasonRequired(InvalidInput):
    """A rejection without one of the denial reasons."""
    code = "denial_reason_required"
    face_code = InvalidInput.code


class NumberNotWhole(InvalidInput):
    code = "number_not_whole"
    face_code = InvalidInput.code


class DateMalformed(InvalidInput):
    """A date filter that is not YYYY-MM-DD."""
    code = "date_malformed"
    face_code = InvalidInput.code


class DateOutOfRange(InvalidInput):
    code = "date_out_of_range"
    face_code = InvalidInput.code


def signer_of(request: Request) -> Signer:
    return request.app.state.hub_signer


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGUAGES else DEFAULT


# --- formatting -------------------------------------------------------------------------------

def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def who(label: str, names: dict[str, str], t: Callable[..., str]) -> str:
    """An actor label (`seller:tok_…`, `operator:admin`, `system:kalem`) as a person reads it."""
    if not label:
        return ""
    kind, _, subject = label.partition(":")
    if kind == "system":
        return t("who.system")
    name = names.get(label) or (t("who.admin") if subject == "admin" else t("who.token"))
    return f"{name} ({t('role.' + kind)})" if kind in ("operator", "seller") else name


def age(value: datetime, now: datetime, t: Callable[..., str]) -> str:
    minutes = int((now - value).total_seconds() // 60)
    if minutes < 1:
        return t("age.just_now")
    if minutes < 60:
        return t("age.minutes", n=minutes)
    if minutes < 48 * 60:
        return t("age.hours", n=minutes // 60)
    return t("age.days", n=minutes // (24 * 60))


# --- the page ---------------------------------------------------------------------------------

class Page:
    """Everything a template needs about this request: language, labels, session, CSRF token."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.lang = lang_of(request)
        self.t = translator(self.lang)
        self.signer = signer_of(request)
        self.session: Session | None = self._standing(self.signer.read(request.cookies.get(SESSION_COOKIE)))
        self.nonce = self.session.sid if self.session else request.cookies.get(PRESESSION_COOKIE)
        self.new_nonce: str | None = None

    @property
    def ctx(self) -> Any:
        return self.request.app.state.kalem

    def _standing(self, session: Session | None) -> Session | None:
        """A signed, unexpired session, unless it was signed out of or the credential it was opened
        with no longer stands (a revoked token, a removed user)."""
        if session is None:
            return None
        with self.uow() as uow:
            if uow.hub_sessions.ended(session.sid):
                return None
        try:
            self.ctx.auth.derived(session.principal, session.issued_at)
        except AuthenticationFailed:
            return None
        return session

    @property
    def principal(self) -> Principal:
        if self.session is None:
            raise LoginRequired
        return self.session.principal

    def uow(self, write: bool = False) -> Any:
        return self.ctx.uow(write=write)

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def csrf(self) -> str:
        if not self.nonce:  # first visit to the sign-in form: a pre-session nonce, set as a cookie below
            self.nonce = self.new_nonce = new_nonce()
        return self.signer.csrf_token(self.nonce)

    def lang_url(self, lang: str) -> str:
        params = dict(self.request.query_params)
        params["lang"] = lang
        return f"{self.request.url.path}?{urlencode(params)}"

    def render(self, template: str, http_status: int = 200, **values: Any) -> Response:
        html = env.get_template(template).render(
            page=self, t=self.t, lang=self.lang, session=self.session, csrf=self.csrf(),
            money=lambda amount, currency: money(amount, currency, self.lang), when=when,
            q=lambda v: quote(str(v), safe=""), pct=lambda r: percent(r, self.lang),
            reason=lambda reason_id: self.t(f"reason.{reason_id}") if reason_id is not None else "", **values)
        return self.finish(HTMLResponse(html, status_code=http_status))

    def finish(self, response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        if self.request.query_params.get("lang") in LANGUAGES:
            self.set_cookie(response, LANG_COOKIE, self.lang, max_age=365 * 86400)
        if self.new_nonce:
            self.set_cookie(response, PRESESSION_COOKIE, self.new_nonce, max_age=3600)
        return response

    def set_cookie(self, response: Response, name: str, value: str, *, max_age: int) -> None:
        """HttpOnly, SameSite=Lax, on the hub's paths; Secure when the hub is served over TLS: directly, or
        behind a proxy that sends `X-Forwarded-Proto: https` from an address uvicorn trusts (127.0.0.1, or
        those in `FORWARDED_ALLOW_IPS`)."""
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path=PREFIX,
                            secure=self.request.url.scheme == "https")

    def redirect(self, url: str) -> Response:
        if self.htmx:  # htmx follows redirects inside the swap; tell it to navigate instead
            return self.finish(Response(status_code=204, headers={"HX-Redirect": url}))
        return self.finish(RedirectResponse(url, status_code=303))


def page(request: Request) -> Page:
    return Page(request)


def signed_in(request: Request) -> Page:
    current = Page(request)
    if current.session is None:
        raise LoginRequired
    return current


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches this browser's nonce (session or pre-session)."""
    form = await request.form()
    current = Page(request)
    if not current.signer.csrf_valid(current.nonce, form.get("csrf")):
        raise CsrfFailed("the form's CSRF token is missing or not valid")
    return form


AnyPage = Annotated[Page, Depends(page)]
SignedIn = Annotated[Page, Depends(signed_in)]
Form = Annotated[FormData, Depends(checked_form)]


# --- errors -----------------------------------------------------------------------------------

def error_page(request: Request, exc: Exception) -> Response:
    current = Page(request)
    status, code, detail = 500, INTERNAL_ERROR, None
    if isinstance(exc, NotFound):
        # One answer for "missing" and "another seller's": the same status, code and words.
        status, code = 404, NotFound.code
    elif isinstance(exc, KalemError):
        status, code, detail = exc.status, exc.code, exc.message
    elif isinstance(exc, RequestValidationError):
        status, code = 422, INVALID_REQUEST
    elif isinstance(exc, StarletteHTTPException):
        status, code = exc.status_code, HTTP_ERROR if exc.status_code != 404 else NotFound.code
    elif isinstance(exc, OperationalError):
        status, code = 503, DATABASE_UNAVAILABLE
    else:
        log.exception("hub: unhandled error", exc_info=exc)
    message = _message(current.t, code, status)
    if current.htmx:
        response = current.render("_error.html", http_status=status, message=message, code=code, detail=detail)
        response.headers["HX-Retarget"] = "#main"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return current.render("error.html", http_status=status, message=message, code=code, detail=detail)


def message_of(exc: KalemError, t: Callable[..., str]) -> str:
    """A refusal in the reader's words: by its code, else its status (a missing record and another
    seller's read the same), never the domain's English text."""
    return _message(t, NotFound.code if isinstance(exc, NotFound) else exc.code, exc.status)


def _message(t: Callable[..., str], code: str, status: int) -> str:
    return next((t(k) for k in (f"error.{code}", f"error.{status}") if t(k) != k), t("error.generic"))


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class HubRoute(APIRoute):
    """Every hub route answers with a page: a sign-in redirect, or the error page for any error."""

    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except LoginRequired:
                target = request.url.path
                if request.method == "GET" and request.url.query:
                    target += "?" + request.url.query
                url = f"{PREFIX}/login?{urlencode({'next': target})}"
                if request.headers.get("hx-request") == "true":
                    return Response(status_code=204, headers={"HX-Redirect": url})
                return RedirectResponse(url, status_code=303)
            except Exception as exc:  # noqa: BLE001 - the hub never shows a stack trace
                return error_page(request, exc)

        return handler
