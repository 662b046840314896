"""Health, readiness and the reason catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kalem.api import views
from kalem.api.context import Caller, Ctx
from kalem.api.schemas_out import ReasonList
from kalem.domain.reasons import StatusType, reasons

router = APIRouter(tags=["meta"])


@router.get("/healthz", summary="Liveness: the process answers (the database is not checked)")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers",
            responses={503: {"description": "`database_unavailable`: the database is not reachable"}})
def readyz(ctx: Ctx) -> dict:
    """A round trip to the database; while it is away, 503 `database_unavailable` with `Retry-After`
    (the same answer every endpoint gives then). Send traffic only to a ready process; do not
    restart one that is merely not ready — it reconnects on its own."""
    with ctx.uow(write=False) as uow:
        uow.ping()
    return {"status": "ready", "database": "ok"}


@router.get("/v1/reasons", summary="The reason catalog", response_model=ReasonList)
def list_reasons(_: Caller, status_type: StatusType | None = None,
                 platform: Annotated[str, Query(pattern="^(kalem|n11)$")] = "kalem") -> dict:
    return {"data": [views.reason_view(r) for r in reasons(status_type, platform)]}
