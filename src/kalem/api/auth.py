"""Who is calling, from whichever credential header the face uses.

A kalem token (`kalem_…`), the admin token, or a JWT issued by a face's login endpoint are all
accepted wherever a bearer credential is. Token look-ups are cached for `CACHE_SECONDS` per process:
a token revoked through the API stops working at once in the process that revoked it, and within
`CACHE_SECONDS` in every other (a CLI revocation: within `CACHE_SECONDS` everywhere). A JWT is as good
as the credential it was issued for, looked up the same way: revoking a token revokes its JWTs.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt

from kalem.app.access import authenticate, still_valid
from kalem.app.principals import Principal
from kalem.domain.errors import CredentialsInvalid, CredentialsMissing, TokenExpired
from kalem.store.uow import UnitOfWork

CACHE_SECONDS = 10.0
_JWT_ISSUER = "kalem"


class WouldBlock(Exception):
    """Raised with `wait=False` when the credential needs a database look-up (not cached)."""


class Authenticator:
    def __init__(self, uow_factory: Callable[..., UnitOfWork], *, admin_token: str | None, secret_key: str,
                 jwt_ttl_seconds: int = 3600) -> None:
        self._uow = uow_factory
        self._admin = admin_token
        self._secret = secret_key
        self._ttl = jwt_ttl_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def bearer(self, credential: str | None, *, wait: bool = True) -> Principal:
        if not credential:
            raise CredentialsMissing("credentials are missing")
        credential = credential.strip()
        if self._admin and hmac.compare_digest(credential.encode(), self._admin.encode()):
            return Principal("operator", "admin")
        if credential.count(".") == 2:
            return self.derived(*self._from_jwt(credential), wait=wait)
        return self._cached(credential, lambda: authenticate(self._uow(write=False), credential), wait)

    def derived(self, principal: Principal, issued_at: float, *, wait: bool = True) -> Principal:
        """The principal of a credential issued for another (a face's JWT, a hub session) at `issued_at`
        (Unix seconds), while that one stands; checked as a token is, through the same cache."""
        if principal.subject == "admin" and principal.role == "operator":
            return principal  # the admin token lives in the settings: it is revoked by changing them
        return self._cached(f"derived:{principal.subject}@{issued_at}",
                            lambda: still_valid(self._uow(write=False), principal, issued_at), wait)

    def credential(self, secret: str) -> Principal:
        """A credential kept like a token, as `secret` (a face that receives one in parts joins them the
        way it kept it), looked up and cached like a bearer token."""
        return self._cached(secret, lambda: authenticate(self._uow(write=False), secret))

    def authorization(self, header: str | None, schemes: tuple[str, ...] = ("bearer",), *,
                      wait: bool = True) -> Principal:
        """Parse `Authorization: <Scheme> <credential>` for the schemes a face accepts.

        `wait=False` never touches the database (so it may run on the event loop): an uncached
        token raises `WouldBlock` instead."""
        if not header:
            raise CredentialsMissing("the Authorization header is missing")
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() not in schemes:
            raise CredentialsMissing(f"use the {' or '.join(s.title() for s in schemes)} scheme")
        return self.bearer(credential, wait=wait)

    def issue_jwt(self, principal: Principal, *, claims: dict[str, object] | None = None) -> tuple[str, datetime]:
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self._ttl)
        payload = {"sub": principal.subject, "role": principal.role, "seller_id": principal.seller_id,
                   "iss": _JWT_ISSUER, "iat": now.timestamp(), "exp": expires, **(claims or {})}
        return jwt.encode(payload, self._secret, algorithm="HS256"), expires

    def _from_jwt(self, token: str) -> tuple[Principal, float]:
        """The principal and the time it was issued (a JWT made before `iat` was written: its expiry
        less the lifetime JWTs are issued for)."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], issuer=_JWT_ISSUER,
                                options={"require": ["exp", "iss", "sub", "role"]})
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise CredentialsInvalid("the token is not valid") from exc
        issued = claims.get("iat")
        return (Principal(claims["role"], claims["sub"], claims.get("seller_id")),
                float(issued) if isinstance(issued, int | float) else float(claims["exp"] - self._ttl))

    def forget(self, token_id: str) -> None:
        """Drop a revoked token from this process's cache (other processes drop it within `CACHE_SECONDS`)."""
        with self._lock:
            for secret in [k for k, (_, p) in self._cache.items() if p.subject == token_id]:
                del self._cache[secret]

    def _cached(self, secret: str, load: Callable[[], Principal], wait: bool = True) -> Principal:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(secret)
        if hit and hit[0] > now:
            return hit[1]
        if not wait:
            raise WouldBlock
        principal = load()
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[secret] = (now + CACHE_SECONDS, principal)
        return principal
