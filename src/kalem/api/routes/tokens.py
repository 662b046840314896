"""`/v1/tokens`: API tokens a seller manages for itself (an operator for anyone). Design: docs/security.md."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kalem.api.context import Caller, Ctx
from kalem.api.schemas_out import ERRORS, Out
from kalem.app import access, tokens

router = APIRouter(tags=["tokens"], responses=ERRORS)


class NewTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "ERP connector"}]})
    name: str | None = Field(None, min_length=1, max_length=128, description="what the token is for")
    expires_at: AwareDatetime | None = Field(
        None, description="when it stops working; at the latest (and by default) when the caller's own token does")
    role: Literal["seller", "operator"] = Field("seller", description="operator: operators only")
    seller_id: str | None = Field(None, min_length=1, max_length=64,
                                  description="the token's seller: a seller's own (may be left out); an operator's "
                                              "choice for a seller token")


class TokenOut(Out):
    id: str = Field(description="names the token (to revoke it); not a credential")
    kind: str = Field(description="bearer (a kalem_… token) or keypair (an n11 appkey/appsecret pair)")
    role: str
    seller_id: str | None
    name: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    created_by: str | None = Field(description="the credential that made it (a token id, user:<name>, admin); "
                                               "null for `kalem token create`. Revoking that revokes this")


class TokenCreatedOut(TokenOut):
    secret: str = Field(description="the credential itself (`Authorization: Bearer …`): shown this once")


class TokenList(Out):
    data: list[TokenOut]


@router.post("/v1/tokens", status_code=201, summary="Make a token (a seller: its own)", response_model=TokenCreatedOut)
def create_token(body: NewTokenIn, principal: Caller, ctx: Ctx) -> dict[str, Any]:
    """The new token can neither out-scope nor outlive its maker: a seller makes seller tokens of its
    own only; it expires when the caller's token does, at the latest; revoking the caller's token
    revokes it too. No `Idempotency-Key`: the secret is never stored, so it could not be replayed."""
    issued, view = tokens.create_token(ctx.uow(), principal, tokens.NewToken(
        role=body.role, seller_id=body.seller_id, name=body.name, expires_at=body.expires_at))
    return {**view, "secret": issued.secret}


@router.get("/v1/tokens", summary="Tokens, newest first (a seller: its own)", response_model=TokenList)
def list_tokens(principal: Caller, ctx: Ctx,
                seller_id: Annotated[str | None, Query(max_length=64, description="operators: one seller's")] = None
                ) -> dict[str, Any]:
    """Revoked tokens too (with `revoked_at`); never a secret. At most the newest 500."""
    return {"data": tokens.list_tokens(ctx.uow(write=False), principal, seller_id)}


@router.delete("/v1/tokens/{token_id}", status_code=204, summary="Revoke a token (a seller: its own)", name="revoke")
def revoke_token(token_id: Annotated[str, Path(min_length=1, max_length=64)], principal: Caller,
                 ctx: Ctx) -> Response:
    """The token (`tok_…`, or an n11 key pair's appkey), and every token made with it, answer
    `401 credentials_invalid` from now on: at once on this API process, within 10 s on the others (each
    caches a token for 10 s). Revoking it again answers 204 too; an unknown id — or another seller's —
    `404 token_not_found`."""
    for revoked in access.revoke_token(ctx.uow(), token_id, principal):
        ctx.auth.forget(revoked)
    return Response(status_code=204)
