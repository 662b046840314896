"""Health, readiness, metrics and the reason catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kalem.api import views
from kalem.api.context import Caller, Ctx
from kalem.api.error_bodies import MIGRATIONS_PENDING
from kalem.api.errors import native
from kalem.api.openapi_document import BEARER_REQUIRED
from kalem.api.schemas_out import ERRORS, ErrorOut, HealthOut, ReadyOut, ReasonList
from kalem.domain.reasons import StatusType, reasons
from kalem.observability.metrics import exposition
from kalem.observability.state import database_state

router = APIRouter(tags=["meta"])


@router.get("/healthz", summary="Liveness: the process answers (the database is not checked)", response_model=HealthOut)
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers, at this code's migration head; the outbox lag",
            responses={200: {"model": ReadyOut, "description": "Ready"},
                       503: {"model": ErrorOut, "description": "`database_unavailable`: the database is not "
                             "reachable; `migrations_pending`: the schema is behind this code"}})
def readyz(ctx: Ctx) -> Response:
    """Ready when the database answers and its schema is at the migration head this code expects. While
    the database is away, 503 `database_unavailable` with `Retry-After` (the same answer every endpoint
    gives then). Send traffic only to a ready process; do not restart one that is merely not ready —
    it reconnects on its own. The outbox lag is reported, never a reason to refuse traffic."""
    with ctx.uow(write=False) as uow:
        migrations = uow.health.migrations()
        outbox = uow.health.outbox(uow.now()) if migrations.at_head else None  # its table may not exist yet
    report = {"current": sorted(migrations.current), "expected": sorted(migrations.expected)}
    if outbox is None:
        return native(MIGRATIONS_PENDING, 503, "the database schema is not at this code's migration head; "
                      "run `kalem db upgrade`", report)
    return JSONResponse({"status": "ready", "database": "ok", "migrations": {**report, "at_head": True},
                         "outbox": {"depth": outbox.depth, "oldest_age_seconds": round(outbox.oldest_age_seconds, 3),
                                    "dead": outbox.dead}})


@router.get("/metrics", summary="Prometheus metrics (text format); operator-only unless KALEM_METRICS_PUBLIC",
            response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}},
                                                401: ERRORS[401], 403: ERRORS[403]},
            openapi_extra={"security": BEARER_REQUIRED})
def metrics(ctx: Ctx, request: Request) -> Response:
    if not ctx.settings.metrics_public:  # the header is read here: a parameter would document a 422 it never gives
        ctx.auth.authorization(request.headers.get("authorization")).require_operator()
    try:
        with ctx.uow(write=False) as uow:
            now, migrations = uow.now(), uow.health.migrations()
            state = database_state(migrations, uow.health.outbox(now) if migrations.at_head else None,
                                   uow.health.oldest_pending_cancel_requests(now) if migrations.at_head else {},
                                   uow.channel_drift.health() if migrations.at_head else ())
    except (DBAPIError, PoolTimeout):  # the database is away: the process's own metrics still answer
        state = database_state(None, None, {})
    return Response(exposition(state), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/reasons", summary="The reason catalog", response_model=ReasonList, responses=ERRORS,
            name="reasons")
def list_reasons(_: Caller, status_type: StatusType | None = None,
                 platform: Annotated[str, Query(pattern="^(kalem|n11)$")] = "kalem") -> dict:
    return {"data": [views.reason_view(r) for r in reasons(status_type, platform)]}
