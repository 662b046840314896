"""Open-ended wire payloads that still refuse what kalem decides itself.

A few platform payloads are documented as open-ended (HepsiGlobal's order and refund items carry
fields kalem does not keep; logins may carry client extras), so their models *ignore* unknown
fields instead of refusing them. Ignoring is safe only while the name cannot be mistaken for a
command: a body that tries to set a status, an amount or an owner is refused, so no client believes
it set one. The refusal is the face's `invalid_request` with the error type `reserved_field` and the
field's name in the message; fields the model declares (HG's refund item `amount`) are unaffected.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

#: Names kalem sets itself (status, amounts, owner, concurrency), in the spellings a client would try.
RESERVED_FIELDS = frozenset({
    "status", "version", "seller", "seller_id", "sellerId", "owner", "owner_id", "role",
    "amount", "total", "unit_price", "refund_amount", "refunded_amount", "forced_amount", "cancelled_quantity",
})


class OpenPayload(BaseModel):
    """A wire model that ignores undocumented fields, except the reserved ones."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _refuse_reserved(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in data:
                if name in RESERVED_FIELDS and name not in cls.model_fields:
                    raise PydanticCustomError("reserved_field", "{field} is set by kalem, not by the request",
                                              {"field": name})
        return data
