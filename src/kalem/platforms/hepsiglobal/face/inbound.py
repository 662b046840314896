"""HepsiGlobal's webhooks to kalem as its marketplace (docs/channels.md).

HG calls a marketplace's webhooks on the marketplace's base URL; for a channel account that base is
`/v1/channel-webhooks/hepsiglobal/{seller_id}/{channel}`, so the seller's cancel arrives at
`PUT …/webhooks/order-cancel` ("Order cancel (canceled by seller)"). HG's documentation does not say
how it authenticates these calls: kalem takes a delivery signed per Standard Webhooks (`webhook-id`,
`webhook-timestamp`, `webhook-signature`, as kalem's own HepsiGlobal face signs them) with the
account's `webhookSecret`. The cancel enters kalem once per `cancel_id` (`seller_cancels.py`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import ValidationError
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.concurrency import run_in_threadpool

from kalem.api.schemas_out import ERRORS
from kalem.app.channels import receiving_account
from kalem.domain.errors import AuthenticationFailed, InvalidInput
from kalem.platforms.hepsiglobal import wire
from kalem.platforms.hepsiglobal.seller_cancels import take_seller_cancel
from kalem.store.channel_accounts import ChannelAccount

BASE = "/v1/channel-webhooks/hepsiglobal/{seller_id}/{channel}"
ORDER_CANCEL = BASE + "/webhooks/order-cancel"
Name = Annotated[str, Path(min_length=1, max_length=64)]


class HepsiGlobalSignatureInvalid(AuthenticationFailed):
    """A HepsiGlobal delivery whose Standard Webhooks signature does not verify with the account's webhookSecret."""
    code = "hepsiglobal_signature_invalid"


class HepsiGlobalHookUnreadable(InvalidInput):
    """A signed HepsiGlobal delivery whose body is not the order-cancel webhook's."""
    code = "hepsiglobal_hook_unreadable"


def _account(kalem: Any, seller_id: str, channel: str) -> ChannelAccount:
    return receiving_account(kalem.uow(write=False), seller_id, channel, "hepsiglobal", "HepsiGlobal")


def _take(kalem: Any, seller_id: str, channel: str, body: bytes, headers: dict[str, str]) -> None:
    account = _account(kalem, seller_id, channel)
    try:
        Webhook((account.credentials or {}).get("webhookSecret", "")).verify(body, headers)
    except WebhookVerificationError:
        raise HepsiGlobalSignatureInvalid("the delivery's signature does not verify with the account's "
                                          "webhookSecret") from None
    try:
        hook = wire.OrderCancelHook.model_validate_json(body)
    except ValidationError:
        raise HepsiGlobalHookUnreadable("the body is not HepsiGlobal's order-cancel webhook ({cancel_id, "
                                        "order_number, cancel_quantity, order_item_number, reason})") from None
    take_seller_cancel(kalem.uow(), account, hook)


def add_routes(router: APIRouter) -> None:
    @router.put(ORDER_CANCEL, status_code=204,
                summary="Take HepsiGlobal's order-cancel webhook (kalem as the marketplace)",
                responses=ERRORS, openapi_extra={"requestBody": {"required": True, "content": {
                    "application/json": {"schema": {
                        "type": "object", "required": ["cancel_id", "order_number", "cancel_quantity",
                                                       "order_item_number"],
                        "description": "HepsiGlobal's Order cancel (canceled by seller) webhook body",
                        "properties": {"cancel_id": {"type": "integer"}, "order_number": {"type": "string"},
                                       "cancel_quantity": {"type": "integer", "minimum": 1},
                                       "order_item_number": {"type": "string"},
                                       "reason": {"type": "string"}}}}}}})
    async def hepsiglobal_order_cancel(request: Request, seller_id: Name, channel: Name) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        await run_in_threadpool(_take, request.app.state.kalem, seller_id, channel, body, headers)
        return Response(status_code=204)
