"""`/v1/tokens/{token_id}`: revoking an API token (operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from kalem.api.context import Caller, Ctx
from kalem.api.schemas_out import ERRORS
from kalem.app import access

router = APIRouter(tags=["tokens"], responses=ERRORS)


@router.delete("/v1/tokens/{token_id}", status_code=204, summary="Revoke a token (operators)", name="revoke")
def revoke_token(token_id: Annotated[str, Path(min_length=1, max_length=64)], principal: Caller,
                 ctx: Ctx) -> Response:
    """The token (`tok_…`, or an n11 key pair's appkey) answers `401 authentication_failed` from now
    on: at once on this API process, within 10 s on the others (each caches a token for 10 s).
    Revoking it again answers 204 too; an unknown id `404 token_not_found`."""
    access.revoke_token(ctx.uow(), token_id, principal)
    ctx.auth.forget(token_id)
    return Response(status_code=204)
