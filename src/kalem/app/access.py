"""API tokens and users.

Tokens are random (256 bits) and stored as SHA-256 digests: with that much entropy a slow hash
adds nothing, and look-up by digest stays one indexed read. User passwords are low-entropy, so they
get Argon2id (argon2-cffi) with OWASP's recommended parameters, stored in each hash; a hash made with
other parameters (or kalem's former scrypt) is replaced at the next successful login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from functools import cache
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kalem.app.ids import new_id
from kalem.app.principals import Principal, SellerIdRequired
from kalem.domain.errors import CredentialsInvalid, InvalidInput, NotFound, TokenExpired, TokenNotFound
from kalem.store.codec import as_utc
from kalem.store.uow import UnitOfWork

ROLES = ("operator", "seller")


class UnknownSeller(NotFound):
    code = "unknown_seller"


class UserNotFound(NotFound):
    code = "user_not_found"


class RoleUnknown(InvalidInput):
    code = "role_unknown"
    face_code = InvalidInput.code


class SellerIdNotAllowed(InvalidInput):
    """An operator's credential belongs to no seller."""
    code = "seller_id_not_allowed"
    face_code = InvalidInput.code


class PasswordTooShort(InvalidInput):
    code = "password_too_short"
    face_code = InvalidInput.code


class PasswordContainsNul(InvalidInput):
    code = "password_contains_nul"
    face_code = InvalidInput.code


def unknown_seller(seller_id: str) -> UnknownSeller:
    return UnknownSeller(f"seller {seller_id} is not known (no order, token or user names it yet); check the "
                         "seller id, or ask for the seller to be created", seller_id=seller_id, field="seller_id")


def known_seller(uow: UnitOfWork, seller_id: str, now: datetime, *, new_seller: bool) -> None:
    """Name a seller kalem knows (from an order, a token or a user), or create it when asked to; in the
    caller's transaction, with what names it. A typo in a seller id is refused, never a new seller."""
    if not new_seller and not uow.sellers.exists(seller_id):
        raise unknown_seller(seller_id)
    uow.sellers.ensure(seller_id, now)


def check_role(role: str, seller_id: str | None) -> None:
    if role not in ROLES:
        raise RoleUnknown(f"role must be one of {', '.join(ROLES)}", field="role")
    if role == "seller" and not seller_id:
        raise SellerIdRequired("a seller token needs a seller id", field="seller_id")
    if role == "operator" and seller_id:
        raise SellerIdNotAllowed("an operator token belongs to no seller", field="seller_id")


class Issued(NamedTuple):
    token_id: str   # names the token to revoke it; not a credential
    secret: str     # the credential itself, shown this once


def create_token(uow: UnitOfWork, *, role: str, seller_id: str | None = None, name: str | None = None,
                 expires_at: datetime | None = None, new_seller: bool = True) -> Issued:
    """A new bearer token; only its digest is kept, so this is the one time its secret is seen.
    With `new_seller=False` an unknown seller id is refused (a typo would otherwise create a seller)."""
    check_role(role, seller_id)
    issued = Issued(new_id("tok"), "kalem_" + secrets.token_urlsafe(32))
    with uow:
        now = uow.now()
        if seller_id:
            known_seller(uow, seller_id, now, new_seller=new_seller)
        uow.tokens.add(token_id=issued.token_id, secret=issued.secret, kind="bearer", role=role,
                       seller_id=seller_id, name=name, now=now, expires_at=expires_at)
        uow.commit()
    return issued


def revoke_token(uow: UnitOfWork, token_id: str, principal: Principal) -> list[str]:
    """Revoke a token (or a face's own credential, by its id) for good, with every token it made
    through the API (app/tokens.py); revoking it again changes nothing. A seller revokes its own
    seller's tokens only: another's is not found. Returns the ids revoked.

    The database refuses them at once; an API process that authenticated one in the last
    `api.auth.CACHE_SECONDS` may accept it until its cache entry expires (the process that revokes
    them forgets them at once)."""
    with uow:
        row = uow.tokens.get(token_id)
        if row is None or (principal.scope is not None and (row.seller_id, row.role) != (principal.scope, "seller")):
            raise TokenNotFound(f"token {token_id} not found", token_id=token_id)
        now = uow.now()
        uow.tokens.revoke(token_id, now)
        revoked = [token_id, *uow.tokens.revoke_made_by([token_id], now)]
        uow.commit()
    return revoked


def authenticate(uow: UnitOfWork, secret: str) -> Principal:
    with uow:
        row = uow.tokens.find(secret)
        now = uow.now()
    if row is None or row.revoked_at is not None:
        raise CredentialsInvalid("the credentials are not valid")
    if row.expires_at is not None and as_utc(row.expires_at) <= now:
        raise TokenExpired("the token has expired")
    return Principal(row.role, row.id, row.seller_id)


def still_valid(uow: UnitOfWork, principal: Principal, issued_at: float) -> Principal:
    """The principal of a credential derived from another (a JWT a face's login issued, a hub session),
    if the one it was derived from still stands: a token not revoked or expired; a user still enabled
    whose password has not been changed since `issued_at` (Unix seconds)."""
    with uow:
        now = uow.now()
        if principal.subject.startswith("user:"):
            row = uow.users.get(principal.subject.removeprefix("user:"))
            standing = (row is not None and row.disabled_at is None
                        and (row.password_changed_at is None
                             or as_utc(row.password_changed_at).timestamp() <= issued_at))
        else:
            row = uow.tokens.by_id(principal.subject)
            standing = (row is not None and row.revoked_at is None
                        and (row.expires_at is None or as_utc(row.expires_at) > now))
    standing = standing and (row.role, row.seller_id) == (principal.role, principal.seller_id)
    if not standing:
        raise CredentialsInvalid("the credentials this token was issued for are no longer valid")
    return principal


#: OWASP's password storage recommendation for Argon2id: 19 MiB, 2 iterations, 1 lane (~20 ms).
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@cache
def _decoy(hasher: PasswordHasher) -> str:
    """A hash to check unknown users' passwords against, so that they cost one hash like known ones."""
    return hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str, hasher: PasswordHasher = PASSWORDS) -> str:
    return hasher.hash(password)


def verify_password(password: str, stored: str, hasher: PasswordHasher = PASSWORDS) -> bool:
    if stored.startswith("scrypt$"):  # written by kalem before Argon2id
        try:
            _, salt, digest = stored.split("$")
            candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
        except ValueError:
            return False
        return hmac.compare_digest(candidate.hex(), digest)
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _password_rules(password: str) -> None:
    if len(password) < 8:
        raise PasswordTooShort("a password needs at least 8 characters", field="password")
    if "\x00" in password:
        raise PasswordContainsNul("a password may not contain a NUL character", field="password")


def create_user(uow: UnitOfWork, *, username: str, password: str, role: str, seller_id: str | None,
                new_seller: bool = True) -> None:
    """With `new_seller=False` an unknown seller id is refused, as `create_token` refuses it."""
    check_role(role, seller_id)
    _password_rules(password)
    with uow:
        now = uow.now()
        if seller_id:
            known_seller(uow, seller_id, now, new_seller=new_seller)
        uow.users.add(username, hash_password(password), role, seller_id, now)
        uow.commit()


def login(uow: UnitOfWork, username: str, password: str, hasher: PasswordHasher = PASSWORDS) -> Principal:
    """The user's principal if the password is right. An unknown or disabled user costs one hash, as a
    known one does, so the time taken does not tell which user names exist. A hash made with other
    parameters than `hasher`'s is replaced by one made with them."""
    with uow:
        row = uow.users.get(username) if "\x00" not in username else None
        if not verify_password(password, row.password_hash if row else _decoy(hasher), hasher) or row is None \
                or row.disabled_at is not None:
            raise CredentialsInvalid("user name or password is wrong")
        if row.password_hash.startswith("scrypt$") or hasher.check_needs_rehash(row.password_hash):
            uow.users.set_password(row.username, hash_password(password, hasher))
            uow.commit()
    return Principal(row.role, f"user:{row.username}", row.seller_id)


def set_password(uow: UnitOfWork, username: str, password: str) -> None:
    """A new password; the hub sessions and face JWTs issued before it stop working (within the
    credential cache's bound), as a user changing a leaked password expects."""
    _password_rules(password)
    with uow:
        if not uow.users.set_password(username, hash_password(password), uow.now()):
            raise UserNotFound(f"user {username} not found", username=username)
        uow.commit()


def disable_user(uow: UnitOfWork, username: str) -> None:
    """The user can no longer log in, and the sessions and JWTs it holds stop working (within the
    credential cache's bound); disabling it again changes nothing."""
    with uow:
        if not uow.users.disable(username, uow.now()):
            raise UserNotFound(f"user {username} not found", username=username)
        uow.tokens.revoke_made_by([f"user:{username}"], uow.now())  # what it made goes with it
        uow.commit()


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
