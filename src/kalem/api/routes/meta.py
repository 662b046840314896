"""Health and the reason catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kalem.api import views
from kalem.api.context import Caller
from kalem.api.schemas_out import ReasonList
from kalem.domain.reasons import StatusType, reasons

router = APIRouter(tags=["meta"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/v1/reasons", summary="The reason catalog", response_model=ReasonList)
def list_reasons(_: Caller, status_type: StatusType | None = None,
                 platform: Annotated[str, Query(pattern="^(kalem|n11)$")] = "kalem") -> dict:
    return {"data": [views.reason_view(r) for r in reasons(status_type, platform)]}
