"""API tokens and users.

Tokens are random (256 bits) and stored as SHA-256 digests: with that much entropy a slow hash
adds nothing, and look-up by digest stays one indexed read. User passwords are low-entropy, so they
get scrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import NamedTuple

from kalem.app.ids import new_id
from kalem.app.principals import Principal
from kalem.domain.errors import AuthenticationFailed, InvalidInput, NotFound, TokenNotFound
from kalem.store.codec import as_utc
from kalem.store.uow import UnitOfWork

ROLES = ("operator", "seller")


class UnknownSeller(NotFound):
    code = "unknown_seller"


def known_seller(uow: UnitOfWork, seller_id: str, now: datetime, *, new_seller: bool) -> None:
    """Name a seller kalem knows (from an order or a token), or create it when asked to; in the caller's
    transaction, with the credential that names it."""
    if not new_seller and not uow.sellers.exists(seller_id):
        raise UnknownSeller(f"seller {seller_id} is not known (no order or token names it yet)",
                            seller_id=seller_id)
    uow.sellers.ensure(seller_id, now)


def _check_role(role: str, seller_id: str | None) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if role == "seller" and not seller_id:
        raise InvalidInput("a seller token needs a seller id", field="seller_id")
    if role == "operator" and seller_id:
        raise InvalidInput("an operator token belongs to no seller", field="seller_id")


class Issued(NamedTuple):
    token_id: str   # names the token to revoke it; not a credential
    secret: str     # the credential itself, shown this once


def create_token(uow: UnitOfWork, *, role: str, seller_id: str | None = None, name: str | None = None,
                 expires_at: datetime | None = None, new_seller: bool = True) -> Issued:
    """A new bearer token; only its digest is kept, so this is the one time its secret is seen.
    With `new_seller=False` an unknown seller id is refused (a typo would otherwise create a seller)."""
    _check_role(role, seller_id)
    issued = Issued(new_id("tok"), "kalem_" + secrets.token_urlsafe(32))
    with uow:
        now = uow.now()
        if seller_id:
            known_seller(uow, seller_id, now, new_seller=new_seller)
        uow.tokens.add(token_id=issued.token_id, secret=issued.secret, kind="bearer", role=role,
                       seller_id=seller_id, name=name, now=now, expires_at=expires_at)
        uow.commit()
    return issued


def revoke_token(uow: UnitOfWork, token_id: str, principal: Principal) -> None:
    """Revoke a token (or a face's own credential, by its id) for good; revoking it again changes nothing.

    The database refuses it at once; an API process that authenticated it in the last
    `api.auth.CACHE_SECONDS` may accept it until its cache entry expires (the process that revokes
    it forgets it at once)."""
    principal.require_operator()
    with uow:
        if not uow.tokens.revoke(token_id, uow.now()):
            raise TokenNotFound(f"token {token_id} not found", token_id=token_id)
        uow.commit()


def authenticate(uow: UnitOfWork, secret: str) -> Principal:
    with uow:
        row = uow.tokens.find(secret)
        now = uow.now()
    if row is None or row.revoked_at is not None:
        raise AuthenticationFailed("the credentials are not valid")
    if row.expires_at is not None and as_utc(row.expires_at) <= now:
        raise AuthenticationFailed("the token has expired")
    return Principal(row.role, row.id, row.seller_id)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(candidate.hex(), digest)


def create_user(uow: UnitOfWork, *, username: str, password: str, role: str, seller_id: str | None) -> None:
    _check_role(role, seller_id)
    if len(password) < 8:
        raise InvalidInput("a password needs at least 8 characters", field="password")
    with uow:
        now = uow.now()
        if seller_id:
            uow.sellers.ensure(seller_id, now)
        uow.users.add(username, hash_password(password), role, seller_id, now)
        uow.commit()


def login(uow: UnitOfWork, username: str, password: str) -> Principal:
    with uow:
        row = uow.users.get(username)
    # Hash even for unknown users so the answer takes as long either way.
    if not verify_password(password, row.password_hash if row else hash_password("x" * 8)) or row is None:
        raise AuthenticationFailed("user name or password is wrong")
    return Principal(row.role, f"user:{row.username}", row.seller_id)


def actor_names(uow: UnitOfWork, labels: list[str]) -> dict[str, str]:
    """Readable names for event and decision actors (`seller:tok_…` → the token's name, `seller:user:ada`
    → `ada`); labels without one are left out."""
    tokens = sorted({label.split(":", 1)[1] for label in labels if ":tok_" in label})
    with uow:
        named = uow.tokens.names(tokens)
    out = {}
    for label in labels:
        subject = label.split(":", 1)[-1]
        if subject.startswith("user:"):
            out[label] = subject.removeprefix("user:")
        elif subject in named:
            out[label] = named[subject]
    return out
