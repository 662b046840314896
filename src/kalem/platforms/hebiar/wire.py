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
