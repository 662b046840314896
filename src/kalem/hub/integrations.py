"""The Integrations page: a seller's API tokens (made — the secret shown once — and revoked), its
webhook subscriptions (made, paused, resumed, deleted) and their deliveries (sent again, one or
every dead one). An operator sees and manages every seller's. Every write is the use case the
native API calls (`app.tokens`, `app.access`, `app.webhooks`), so the same rules hold."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from kalem.app import access, tokens
from kalem.app import webhooks as hooks
from kalem.hub.web import PREFIX, DateMalformed, Form, HubRoute, Page, SignedIn

router = APIRouter(prefix=PREFIX, route_class=HubRoute, include_in_schema=False)
PAGE = f"{PREFIX}/integrations"
#: How many of the latest deliveries the page lists.
DELIVERIES = 50
DONE = ("revoked", "paused", "resumed", "deleted", "redelivered", "dead_redelivered")


@router.get("/integrations")
def integrations(request: Request, page: SignedIn, done: str | None = None) -> Response:
    return _render(page, request.query_params.get("seller") or None, done=done if done in DONE else None)


def _render(page: Page, seller: str | None = None, **shown: Any) -> Response:
    """The page; `seller` narrows an operator's view to one seller (a seller always sees its own)."""
    principal = page.principal
    seller = seller if principal.scope is None else None
    subs = [s for s in hooks.list_subscriptions(page.uow(), principal) if seller is None or s["seller_id"] == seller]
    found = hooks.list_deliveries(page.uow(), principal, subscription_id=None, status=None, limit=DELIVERIES,
                                  before_id=None)
    urls = {s["id"]: _shown_url(s) for s in subs}
    return page.render("integrations.html", tokens=tokens.list_tokens(page.uow(), principal, seller), subs=subs,
                       urls=urls, deliveries=[d for d in found if d["subscription_id"] in urls], seller=seller,
                       **{"new_token": None, "new_secret": None, "done": None, **shown})


def _shown_url(sub: dict[str, Any]) -> str:
    """A secret_url subscription's URL is its credential: only where it goes is shown."""
    if sub["auth_kind"] != "secret_url":
        return sub["url"]
    scheme, _, rest = sub["url"].partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/…"


def _seller_field(form: FormData) -> dict[str, Any]:
    """A `seller_id` the form names (an operator's choice; a seller's own, or refused as another's)."""
    value = str(form.get("seller_id") or "").strip()[:64]
    return {"seller_id": value} if value else {}


# --- tokens -------------------------------------------------------------------------------------

@router.post("/integrations/tokens")
def create_token(page: SignedIn, form: Form) -> Response:
    """Answers with the page itself, the new secret on it: never in a URL, never shown again."""
    issued, view = tokens.create_token(page.uow(write=True), page.principal, tokens.NewToken(
        name=str(form.get("name") or "").strip()[:128] or None, expires_at=_expires(form), **_seller_field(form)))
    return _render(page, new_token=view, new_secret=issued.secret)


def _expires(form: FormData) -> datetime | None:
    """`expires` is the last day the token works (it stops at the end of that day, UTC)."""
    value = str(form.get("expires") or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise DateMalformed("expires must be a date (YYYY-MM-DD)", field="expires") from None
    if day >= date(9998, 12, 31):
        raise DateMalformed("expires must be a date before 9998-12-31", field="expires")
    return datetime.combine(day + timedelta(days=1), time(), UTC)


@router.post("/integrations/tokens/{token_id}/revoke")
def revoke_token(token_id: str, page: SignedIn, form: Form) -> Response:
    for revoked in access.revoke_token(page.uow(write=True), token_id, page.principal):
        page.ctx.auth.forget(revoked)
    return page.redirect(f"{PAGE}?done=revoked")


# --- subscriptions and deliveries ------------------------------------------------------------

@router.post("/integrations/subscriptions")
def create_subscription(page: SignedIn, form: Form) -> Response:
    """A native subscription, signed with a generated `whsec_` secret shown on the page this once."""
    types = [t for t in re.split(r"[\s,]+", str(form.get("event_types") or "*")) if t][:100] or ["*"]
    seller = _seller_field(form)
    spec = hooks.SubscriptionSpec(url=str(form.get("url") or "").strip()[:2000], event_types=types,
                                  fields_set={"url", "event_types", *seller}, **seller)
    sub, secret = hooks.create_subscription(page.uow(write=True), page.principal, spec,
                                            allow_private=page.ctx.settings.webhook_allow_private_urls)
    return _render(page, new_secret=secret, new_subscription=sub["id"])


@router.post("/integrations/subscriptions/{sub_id}/enabled")
def set_enabled(sub_id: str, page: SignedIn, form: Form) -> Response:
    enabled = form.get("enabled") == "true"
    hooks.update_subscription(page.uow(write=True), page.principal, sub_id,
                              hooks.SubscriptionSpec(enabled=enabled, fields_set={"enabled"}),
                              allow_private=page.ctx.settings.webhook_allow_private_urls)
    return page.redirect(f"{PAGE}?done={'resumed' if enabled else 'paused'}")


@router.post("/integrations/subscriptions/{sub_id}/delete")
def delete_subscription(sub_id: str, page: SignedIn, form: Form) -> Response:
    hooks.delete_subscription(page.uow(write=True), page.principal, sub_id)
    return page.redirect(f"{PAGE}?done=deleted")


@router.post("/integrations/subscriptions/{sub_id}/redeliver-dead")
def redeliver_dead(sub_id: str, page: SignedIn, form: Form) -> Response:
    hooks.redeliver_dead(page.uow(write=True), page.principal, sub_id)
    return page.redirect(f"{PAGE}?done=dead_redelivered")


@router.post("/integrations/deliveries/{delivery_id}/redeliver")
def redeliver(delivery_id: int, page: SignedIn, form: Form) -> Response:
    hooks.redeliver(page.uow(write=True), page.principal, delivery_id)
    return page.redirect(f"{PAGE}?done=redelivered")
