"""API tokens a caller manages itself (the API's `/v1/tokens`, the hub's Integrations page): a seller
its own seller's, an operator anyone's.

A token made here can neither out-scope nor outlive the credential that made it (its creator):
- scope: a seller makes seller tokens of its own seller only; an operator token, or a token of
  another seller, only an operator makes;
- lifetime: it expires no later than its creator does (without `expires_at` it takes the creator's
  expiry), and revoking the creator — or disabling the user that made it — revokes it too, and what
  it made in turn (`access.revoke_token`, `access.disable_user`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kalem.app.access import Issued, check_role, known_seller
from kalem.app.ids import new_id
from kalem.app.principals import OperatorRequired, Principal, SellerIdMismatch
from kalem.domain.errors import InvalidInput
from kalem.store.codec import as_utc
from kalem.store.uow import UnitOfWork

#: The most tokens one listing shows (newest first); a seller holds a handful.
LIST_LIMIT = 500


class TokenExpiryPassed(InvalidInput):
    """A new token whose `expires_at` is not in the future."""
    code = "token_expiry_passed"
    face_code = InvalidInput.code


class TokenOutlivesCreator(InvalidInput):
    """A new token asked to expire after the credential that makes it."""
    code = "token_outlives_creator"
    face_code = InvalidInput.code


@dataclass(frozen=True, slots=True)
class NewToken:
    role: str = "seller"
    seller_id: str | None = None  # a seller: its own (or absent); an operator: the token's seller
    name: str | None = None
    expires_at: datetime | None = None


def _scope(principal: Principal, spec: NewToken) -> tuple[str, str | None]:
    """The new token's role and seller, within what the caller may give."""
    if principal.scope is None:
        check_role(spec.role, spec.seller_id)
        return spec.role, spec.seller_id
    if spec.role != "seller":
        raise OperatorRequired("only an operator may make an operator token")
    if spec.seller_id and spec.seller_id != principal.scope:
        raise SellerIdMismatch("a seller may only make its own tokens")
    return "seller", principal.scope


def create_token(uow: UnitOfWork, principal: Principal, spec: NewToken) -> tuple[Issued, dict[str, Any]]:
    """A new bearer token, made by `principal`; its secret is seen this once (only its digest is kept)."""
    role, seller_id = _scope(principal, spec)
    issued = Issued(new_id("tok"), "kalem_" + secrets.token_urlsafe(32))
    with uow:
        now = uow.now()
        expires_at = spec.expires_at
        if expires_at is not None and expires_at <= now:
            raise TokenExpiryPassed("expires_at must be in the future", field="expires_at")
        creator = uow.tokens.get(principal.subject)  # None for users and the settings' admin token
        if creator is not None and creator.expires_at is not None:
            ends = as_utc(creator.expires_at)
            if expires_at is not None and expires_at > ends:
                raise TokenOutlivesCreator(f"a token may not outlive the one that makes it (until {ends.isoformat()})",
                                           field="expires_at", creator_expires_at=ends.isoformat())
            expires_at = expires_at or ends
        if seller_id:
            known_seller(uow, seller_id, now, new_seller=False)
        uow.tokens.add(token_id=issued.token_id, secret=issued.secret, kind="bearer", role=role, seller_id=seller_id,
                       name=spec.name, now=now, expires_at=expires_at, created_by=principal.subject)
        row = uow.tokens.get(issued.token_id)
        uow.commit()
    return issued, token_view(row)


def list_tokens(uow: UnitOfWork, principal: Principal, seller_id: str | None = None) -> list[dict[str, Any]]:
    """A seller's tokens (and the faces' key pairs), revoked ones too, newest first; an operator's filter
    `seller_id` is ignored for a seller, who sees its own."""
    with uow:
        rows = uow.tokens.listed(principal.scope if principal.scope is not None else seller_id, LIST_LIMIT)
    return [token_view(r) for r in rows]


def token_view(row: Any) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "role": row.role, "seller_id": row.seller_id, "name": row.name,
            "created_at": as_utc(row.created_at),
            "expires_at": as_utc(row.expires_at) if row.expires_at is not None else None,
            "revoked_at": as_utc(row.revoked_at) if row.revoked_at is not None else None,
            "created_by": row.created_by}
