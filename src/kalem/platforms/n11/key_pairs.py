"""n11's credentials: an `appkey`/`appsecret` pair, sent as two headers on every request (n11's REST
API documentation). A pair is bound to one seller; the key is public, the secret is not. It is kept
like a token (its digest only), under the key as its id, so `kalem token revoke <appkey>` revokes it.
"""

from __future__ import annotations

import secrets

from kalem.app.access import known_seller
from kalem.app.ids import new_id
from kalem.store.uow import UnitOfWork


def secret(appkey: str, appsecret: str) -> str:
    """The one credential a pair is kept and looked up as."""
    return f"{appkey}:{appsecret}"


def create_key_pair(uow: UnitOfWork, *, seller_id: str, name: str | None = None,
                    new_seller: bool = True) -> tuple[str, str]:
    """A new pair for one seller; this is the one time its secret is seen."""
    appkey = new_id("n11k")
    appsecret = secrets.token_urlsafe(32)
    with uow:
        now = uow.now()
        known_seller(uow, seller_id, now, new_seller=new_seller)
        uow.tokens.add(token_id=appkey, secret=secret(appkey, appsecret), kind="keypair", role="seller",
                       seller_id=seller_id, name=name, now=now, expires_at=None)
        uow.commit()
    return appkey, appsecret
