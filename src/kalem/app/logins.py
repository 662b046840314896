"""Logins that cannot starve the server.

A password check is made slow on purpose (Argon2id), so an anonymous caller could spend the API's CPU
and threads on wrong passwords. Two limits stop that, each answering 429 with `Retry-After` at once
(no waiting in a queue that would hold a thread): at most `slots` checks run at a time in the process,
and each account gets `burst` attempts, refilled at `per_minute`. The per-address limit on the sign-in
paths is the rate-limit middleware's (`api/ratelimit.py`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from argon2 import PasswordHasher

from kalem.app import access
from kalem.app.principals import Principal
from kalem.app.throttle import TokenBuckets, retry_after
from kalem.domain.errors import TooManyLogins
from kalem.store.uow import UnitOfWork


class LoginGuard:
    def __init__(self, *, slots: int = 2, per_minute: float = 10.0, burst: int = 10,
                 clock: Callable[[], float] = time.monotonic, hasher: PasswordHasher = access.PASSWORDS) -> None:
        self._hasher = hasher
        self._slots = threading.BoundedSemaphore(slots)
        self._accounts = TokenBuckets(per_minute / 60, burst, clock=clock)

    def login(self, uow: UnitOfWork, username: str, password: str) -> Principal:
        wait = self._accounts.take(username.casefold().encode("utf-8", "replace"))
        if wait:
            seconds = retry_after(wait)
            raise TooManyLogins(f"too many login attempts for this user; retry after {seconds} s",
                                retry_after=seconds)
        if not self._slots.acquire(blocking=False):
            raise TooManyLogins("too many logins at once; retry after 1 s", retry_after=1)
        try:
            return access.login(uow, username, password, self._hasher)
        finally:
            self._slots.release()
