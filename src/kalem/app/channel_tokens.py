"""The tokens a connector keeps per channel account: one login per token, not one per call.

A kept token is used until shortly before it ends (a platform that says when); one the platform refuses is
asked for again, once, and a second refusal is the account's credentials being rejected. A changed
credential is a new key, so it logs in anew. Every connector that logs in shares this cache; each names
the scheme its platform's `Authorization` header takes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from kalem.app.channel_connectors import CREDENTIALS_REJECTED, ChannelFailure, http_client
from kalem.store.channel_accounts import ChannelAccount

T = TypeVar("T")
#: Seconds before a token's end when it is asked for again.
MARGIN = 30.0


@dataclass
class BearerTokens:
    user: str      # the names of the credentials a token is issued for
    secret: str
    scheme: str = "Bearer"   # `Authorization: <scheme> <token>` (a DRF API's is `Token`)
    #: (account, its credentials' digest) → (token, when to ask again: never while it is taken, for a
    #: token whose end is not said)
    _kept: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict, repr=False)

    def _key(self, account: ChannelAccount) -> tuple[str, str]:
        creds = account.credentials or {}
        digest = hashlib.sha256(f"{creds.get(self.user)}\0{creds.get(self.secret)}".encode()).hexdigest()
        return account.id, digest

    def keep(self, account: ChannelAccount, token: str, seconds_left: float | None = None) -> str:
        """Keeps the token for the account: until shortly before `seconds_left` end, or (None) until
        the platform refuses it."""
        until = float("inf") if seconds_left is None else time.monotonic() + max(0.0, seconds_left - MARGIN)
        self._kept[self._key(account)] = (token, until)
        return token

    def forget(self, account: ChannelAccount) -> None:
        self._kept.pop(self._key(account), None)

    def authorized(self, account: ChannelAccount, login: Callable[[httpx.Client, ChannelAccount], str],
                   work: Callable[[httpx.Client], T], *, timeout: float) -> T:
        """`work` with a client sending the account's token; a kept token refused is asked again, once."""
        key = self._key(account)
        with http_client(account.base_url, timeout=timeout) as client:
            kept = self._kept.get(key)
            if kept is not None and kept[1] > time.monotonic():
                client.headers["Authorization"] = f"{self.scheme} {kept[0]}"
                try:
                    return work(client)
                except ChannelFailure as failure:
                    if failure.kind != CREDENTIALS_REJECTED:
                        raise
            self._kept.pop(key, None)
            client.headers["Authorization"] = f"{self.scheme} {login(client, account)}"
            try:
                return work(client)
            except ChannelFailure as failure:
                if failure.kind == CREDENTIALS_REJECTED:
                    self._kept.pop(key, None)
                raise
