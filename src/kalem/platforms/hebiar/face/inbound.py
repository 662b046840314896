"""The OMS's webhooks to kalem as its operator (docs/channels.md): `POST /v1/channel-webhooks/hebiar/
{seller_id}/{channel}` is the url the seller gives the OMS for its channel account's hooks. Hebiar OMS's
webhook documentation offers the receiver Basic or Bearer authentication: kalem takes
`Authorization: Bearer <webhookSecret>`, or Basic with the account's `webhookSecret` as the password.
Each hook is taken by `decisions.py`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kalem.api.schemas_out import ERRORS
from kalem.app.channels import receiving_account
from kalem.domain.errors import AuthenticationFailed, InvalidInput
from kalem.platforms.hebiar import wire
from kalem.platforms.hebiar.connector import HebiarConnector
from kalem.platforms.hebiar.decisions import take_hook
from kalem.store.channel_accounts import ChannelAccount

PATH = "/v1/channel-webhooks/hebiar/{seller_id}/{channel}"
Name = Annotated[str, Path(min_length=1, max_length=64)]
#: One connector per process: it keeps the OMS token between hooks.
_CONNECTOR = HebiarConnector()


class HebiarHookUnauthorized(AuthenticationFailed):
    """A Hebiar hook whose Authorization is not the account's webhookSecret (Bearer, or Basic's password)."""
    code = "hebiar_hook_unauthorized"


class HebiarHookUnreadable(InvalidInput):
    """An authenticated Hebiar hook whose body is not one of the OMS's package hooks."""
    code = "hebiar_hook_unreadable"


def _account(kalem: Any, seller_id: str, channel: str) -> ChannelAccount:
    return receiving_account(kalem.uow(write=False), seller_id, channel, "hebiar", "Hebiar")


def _presented(authorization: str) -> str | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _take(kalem: Any, seller_id: str, channel: str, body: bytes, authorization: str) -> None:
    account = _account(kalem, seller_id, channel)
    secret = (account.credentials or {}).get("webhookSecret", "")
    presented = _presented(authorization)
    if not secret or presented is None or not hmac.compare_digest(presented.encode(), secret.encode()):
        raise HebiarHookUnauthorized("the hook's Authorization is not the account's webhookSecret")
    try:
        hook = wire.Hook.model_validate_json(body)
    except ValidationError:
        raise HebiarHookUnreadable("the body is not a Hebiar OMS hook ({hookName, packageId, items: "
                                   "[{orderItemLineId, …}], …})") from None
    take_hook(kalem.uow, account, hook, _CONNECTOR)


def add_routes(router: APIRouter) -> None:
    @router.post(PATH, status_code=204, summary="Take a Hebiar OMS hook (kalem as the operator)",
                 responses=ERRORS, openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": {"schema": {
                         "type": "object", "required": ["hookName", "items"],
                         "description": "a Hebiar OMS package hook: CancelOrderItemLineConfirmedEvent, "
                                        "CancelOrderItemLineRejectedEvent, OrderPackageStatusChangedEvent …",
                         "properties": {"hookName": {"type": "string"}, "packageId": {"type": "string"},
                                        "items": {"type": "array", "items": {
                                            "type": "object", "required": ["orderItemLineId"],
                                            "properties": {"orderItemLineId": {"type": "string"}}}}}}}}}})
    async def hebiar_hook(request: Request, seller_id: Name, channel: Name) -> Response:
        body = await request.body()
        await run_in_threadpool(_take, request.app.state.kalem, seller_id, channel, body,
                                request.headers.get("authorization") or "")
        return Response(status_code=204)
