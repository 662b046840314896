"""Zonos' webhooks to kalem as a Zonos merchant (docs/channels.md): `POST /v1/channel-webhooks/zonos/
{seller_id}/{channel}` is the url a seller registers with Zonos' `webhookCreate` (type `ORDER_UPDATED`)
for its channel account. Each delivery is authenticated with the secret Zonos gave that webhook (the
account's `webhookSecret`; Standard Webhooks headers, as kalem's own Zonos face signs them), and its
order enters kalem exactly as a pulled one does (`take_in`): placed once, what Zonos removed cancelled.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import ValidationError
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.concurrency import run_in_threadpool

from kalem.api.schemas_out import ERRORS
from kalem.app.channel_sync import take_in
from kalem.app.channels import receiving_account
from kalem.domain.errors import AuthenticationFailed, InvalidInput
from kalem.platforms.zonos import wire
from kalem.platforms.zonos.connector import inbound_order
from kalem.store.channel_accounts import ChannelAccount

PATH = "/v1/channel-webhooks/zonos/{seller_id}/{channel}"
Name = Annotated[str, Path(min_length=1, max_length=64)]


class WebhookSignatureInvalid(AuthenticationFailed):
    """A delivery whose Standard Webhooks signature does not verify with the account's webhookSecret."""
    code = "webhook_signature_invalid"


class WebhookBodyUnreadable(InvalidInput):
    """A signed delivery whose body is not a Zonos order webhook (`{"data": {"order": …}}`)."""
    code = "webhook_body_unreadable"


def _account(kalem: Any, seller_id: str, channel: str) -> ChannelAccount:
    return receiving_account(kalem.uow(write=False), seller_id, channel, "zonos", "Zonos")


def _take(kalem: Any, seller_id: str, channel: str, body: bytes, headers: dict[str, str]) -> None:
    account = _account(kalem, seller_id, channel)
    try:
        Webhook((account.credentials or {}).get("webhookSecret", "")).verify(body, headers)
    except WebhookVerificationError:
        raise WebhookSignatureInvalid("the delivery's signature does not verify with the account's "
                                      "webhookSecret") from None
    try:
        order = wire.HookBody.model_validate_json(body).data.order
    except ValidationError:
        raise WebhookBodyUnreadable('the body is not a Zonos order webhook ({"data": {"order": …}})') from None
    inbound = inbound_order(order)
    if inbound is not None:
        take_in(kalem.uow, account, inbound)


def add_routes(router: APIRouter) -> None:
    @router.post(PATH, status_code=204, summary="Take a Zonos ORDER_UPDATED webhook (kalem as merchant)",
                 responses=ERRORS, openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": {"schema": {"type": "object", "required": ["data"],
                                                     "description": "a Zonos webhook body: {data: {order}}"}}}}})
    async def zonos_webhook(request: Request, seller_id: Name, channel: Name) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        await run_in_threadpool(_take, request.app.state.kalem, seller_id, channel, body, headers)
        return Response(status_code=204)
