"""Hub sessions and CSRF tokens, signed with the app's secret key (stdlib `hmac`, no extra dependency).

The session cookie carries the principal (role, subject, seller) and an expiry, signed with a key
derived from the app secret for this one purpose, so a hub cookie can never pass as a JWT or the
other way round. CSRF tokens are bound to a per-browser nonce: the session's `sid` once signed in,
a separate pre-session cookie on the sign-in form. A token is HMAC(key, nonce), so it cannot be
forged without the key and cannot be replayed from another browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from kalem.app.principals import Principal

SESSION_COOKIE = "kalem_hub"
PRESESSION_COOKIE = "kalem_hub_pre"
LANG_COOKIE = "kalem_hub_lang"
SESSION_SECONDS = 8 * 3600  # a working day; signing in again is cheap


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Session:
    principal: Principal
    sid: str
    expires: int
    issued_at: float  # Unix seconds: a password changed after it ends the session


class Signer:
    def __init__(self, secret_key: str) -> None:
        root = secret_key.encode()
        self._session_key = hmac.new(root, b"kalem-hub-session-v1", hashlib.sha256).digest()
        self._csrf_key = hmac.new(root, b"kalem-hub-csrf-v1", hashlib.sha256).digest()

    # --- sessions ---
    def issue(self, principal: Principal, *, now: float | None = None) -> tuple[str, Session]:
        issued = now or time.time()
        expires = int(issued + SESSION_SECONDS)
        session = Session(principal, secrets.token_urlsafe(16), expires, issued)
        payload = _b64(json.dumps({"r": principal.role, "s": principal.subject, "l": principal.seller_id,
                                   "i": session.sid, "e": expires, "n": issued}, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}", session

    def read(self, cookie: str | None, *, now: float | None = None) -> Session | None:
        """The session in a cookie, or None when it is missing, tampered with or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            expires = int(data["e"])
            # a cookie signed before sessions carried their issue time: its expiry less the lifetime
            session = Session(Principal(data["r"], data["s"], data["l"]), data["i"], expires,
                              float(data.get("n", expires - SESSION_SECONDS)))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= (now or time.time()) or session.principal.role not in ("operator", "seller"):
            return None
        return session

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._session_key, payload.encode(), hashlib.sha256).digest())

    # --- CSRF ---
    def csrf_token(self, nonce: str) -> str:
        return _b64(hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).digest())

    def csrf_valid(self, nonce: str | None, token: object) -> bool:
        return bool(nonce and isinstance(token, str) and hmac.compare_digest(token, self.csrf_token(nonce)))


def new_nonce() -> str:
    return secrets.token_urlsafe(16)
