"""The Channels page: each channel account's health (last success, the last error in words, failures
in a row, next attempt), its dead pushes (sent again from here) and its drift, which the seller
resolves by taking the platform's state or pushing kalem's. An operator sees every seller's accounts.
Every write is the use case the native API calls (`app.channels`, `app.channel_reconcile`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kalem.app import channel_reconcile, channels
from kalem.hub.web import PREFIX, Form, HubRoute, SignedIn

router = APIRouter(prefix=PREFIX, route_class=HubRoute, include_in_schema=False)
PAGE = f"{PREFIX}/channels"
DONE = ("replayed", "take_platform", "push_kalem")
#: The kinds of failure an account's health names, each said in words on the page.
ERROR_KINDS = ("credentials_rejected", "unreachable", "platform_error", "unreadable_answer", "orders_refused",
               "connector_error", "refused", "throttled")


@router.get("/channels")
def channels_page(request: Request, page: SignedIn, done: str | None = None) -> Response:
    principal = page.principal
    accounts = channels.list_accounts(page.uow(), principal)
    dead = {a.id: channels.list_pushes(page.uow(), principal, account_id=a.id, status="dead") for a in accounts}
    drift = {a.id: channel_reconcile.list_drift(page.uow(), principal, a.id) for a in accounts}
    return page.render("channels.html", accounts=accounts, dead=dead, drift=drift, error_kinds=ERROR_KINDS,
                       done=done if done in DONE else None)


@router.post("/channels/pushes/{push_id}/replay")
def replay(push_id: int, page: SignedIn, form: Form) -> Response:
    channels.replay_push(page.uow(write=True), push_id, page.principal)
    return page.redirect(f"{PAGE}?done=replayed")


@router.post("/channels/drift/{drift_id}/resolve")
def resolve(drift_id: str, request: Request, page: SignedIn, form: Form) -> Response:
    chosen = channel_reconcile.PUSH_KALEM if form.get("resolution") == "push_kalem" else \
        channel_reconcile.TAKE_PLATFORM
    channel_reconcile.resolve_drift(page.ctx.uow, page.principal, drift_id, chosen,
                                    request.app.state.channel_connectors)
    return page.redirect(f"{PAGE}?done={chosen}")
