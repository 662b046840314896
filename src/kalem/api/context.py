"""What every route needs, built once by the composition root and hung on `app.state`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from kalem.api.auth import Authenticator, WouldBlock
from kalem.api.idempotency import Idempotency
from kalem.app.logins import LoginGuard
from kalem.app.principals import Principal
from kalem.config import Settings
from kalem.store.uow import UnitOfWork


@dataclass
class Context:
    settings: Settings
    uow: Callable[..., UnitOfWork]
    auth: Authenticator
    idempotency: Idempotency
    logins: LoginGuard = field(default_factory=LoginGuard)
    replica_uow: Callable[..., UnitOfWork] | None = None  # KALEM_DATABASE_REPLICA_URL's, when set
    #: Webhook dialects whose subscriptions hear of their own channel only unless they name channels.
    own_channel_dialects: frozenset[str] = frozenset()
    on_loop: bool = False   # the hot writes' transactions run on the event loop (store/on_loop.py)

    def listing_uow(self) -> UnitOfWork:
        """For the read-only list endpoints: the replica's when there is one (it may lag the primary by
        moments; reads of one order and every write stay on the primary)."""
        return (self.replica_uow or self.uow)(write=False)


def context(request: Request) -> Context:
    return request.app.state.kalem


# The dependencies are `async def` so that FastAPI does not run each one in the thread pool (a hop
# per dependency per request); they block on nothing: a token that is not cached is looked up
# in the thread pool.
async def _context(request: Request) -> Context:
    return request.app.state.kalem


async def bearer_principal(request: Request) -> Principal:
    # The header is read off the request, not declared as a `Header()` parameter: it is no part of the
    # OpenAPI document either way, and FastAPI's resolution of a declared one costs every request
    # about 15 µs.
    authorization = request.headers.get("authorization")
    auth: Authenticator = request.app.state.kalem.auth
    try:
        return auth.authorization(authorization, wait=False)
    except WouldBlock:
        return await run_in_threadpool(auth.authorization, authorization)


Ctx = Annotated[Context, Depends(_context)]
Caller = Annotated[Principal, Depends(bearer_principal)]
