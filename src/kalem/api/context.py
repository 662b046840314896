"""What every route needs, built once by the composition root and hung on `app.state`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from kalem.api.auth import Authenticator
from kalem.api.idempotency import Idempotency
from kalem.app.principals import Principal
from kalem.config import Settings
from kalem.store.uow import UnitOfWork


@dataclass
class Context:
    settings: Settings
    uow: Callable[..., UnitOfWork]
    auth: Authenticator
    idempotency: Idempotency


def context(request: Request) -> Context:
    return request.app.state.kalem


def bearer_principal(request: Request,
                     authorization: Annotated[str | None, Header(include_in_schema=False)] = None) -> Principal:
    return context(request).auth.authorization(authorization)


Ctx = Annotated[Context, Depends(context)]
Caller = Annotated[Principal, Depends(bearer_principal)]
