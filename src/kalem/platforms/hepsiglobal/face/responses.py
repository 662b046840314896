"""The HepsiGlobal face's answers as OpenAPI models: HG's `{data, message}` envelope throughout
(component names `HepsiGlobal…`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class HepsiGlobalErrorData(BaseModel):
    code: str
    details: dict[str, Any] | None = None


class HepsiGlobalError(BaseModel):
    """Every refusal; kalem's stable code inside `data`."""
    data: HepsiGlobalErrorData
    message: str


class HepsiGlobalEmpty(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HepsiGlobalResult(BaseModel):
    """The documented 200 answer of Cancel order by marketplace: `{"data": {}, "message": "string"}`."""
    data: HepsiGlobalEmpty
    message: str


class HepsiGlobalGrant(BaseModel):
    access_token: str
    token_type: str
    expires_in: int


class HepsiGlobalToken(HepsiGlobalGrant):
    data: HepsiGlobalGrant
    message: str


class HepsiGlobalRefundData(BaseModel):
    request_id: str
    refund_number: str | None
    status: str
    amount: str
    currency: str


class HepsiGlobalRefundAccepted(BaseModel):
    data: HepsiGlobalRefundData
    message: str


def answers(ok: type[BaseModel], status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` of an HG operation: its answer and HG's refusals (400; 401 and 429 kept apart)."""
    return {status: {"model": ok, "description": "Success"},
            400: {"model": HepsiGlobalError, "description": "Unsuccessful Response"},
            401: {"model": HepsiGlobalError, "description": "Missing or refused credentials"},
            429: {"model": HepsiGlobalError, "description": "Over the credential's rate limit"}}
