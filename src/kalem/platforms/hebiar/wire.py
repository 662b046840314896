"""Hebiar wire schemas and envelopes, with the platform's own field names."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from kalem.api.open_payload import OpenPayload

Text = Annotated[str, StringConstraints(max_length=1000)]


class LineCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sourceOrderItemLineId: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    quantity: StrictInt
    reasonId: StrictInt
    reasonDesc: Text | None = None


LineCancelList = Annotated[list[LineCancel], Field(min_length=1, max_length=500)]


class HebiarLogin(OpenPayload):  # client extras are ignored; `role`, `seller_id`… are refused
    UserName: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    Password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


def error(code: str, status: int, message: str, details: dict[str, Any]) -> JSONResponse:
    """The OMS's rich envelope; both spellings of the message field occur in its documents."""
    return JSONResponse({
        "isSuccess": False, "statusCode": status, "errorMessage": message, "errorMesssage": message,
        "errorSource": "kalem", "correlationId": str(uuid.uuid4()),
        "errors": [{"code": code, "message": message}], "data": None,
    }, status_code=status)


class HookItem(BaseModel):
    """One unit line of a hook (Hebiar OMS's webhook documentation); the reason fields come with a refusal."""
    model_config = ConfigDict(extra="ignore")
    orderItemLineId: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    packageItemStatusId: int | None = None
    packageItemStatusName: Annotated[str, StringConstraints(max_length=40)] | None = None
    packageItemStatusReasonId: int | None = None
    packageItemStatusReasonDesc: Text | None = None


class Hook(BaseModel):
    """The body the OMS posts to its operator for each package: `packageId` and `orderItemLineId` carry
    the source ids. Cargo fields and the rest are not read."""
    model_config = ConfigDict(extra="ignore")
    hookName: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    packageId: Annotated[str, StringConstraints(max_length=80)] | None = None
    packageType: Annotated[str, StringConstraints(max_length=40)] | None = None
    items: Annotated[list[HookItem], Field(max_length=10_000)]
    packageStatusName: Annotated[str, StringConstraints(max_length=40)] | None = None
    packageStatusReasonId: int | None = None
    packageStatusReasonDesc: Text | None = None
