"""n11 wire schemas and its error envelope, with the platform's own field names."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from kalem.api.error_bodies import METHOD_NOT_ALLOWED, RATE_LIMITED, ROUTE_NOT_FOUND

#: The channel of the orders sold on n11: the only ones its face reads and writes.
CHANNEL = "n11"

# n11 ids are numbers; bounded so a huge one is a clear 400, never a database overflow.
OrderLineId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
Units = Annotated[StrictInt, Field(ge=-(2**31), le=2**31)]  # sign checked by the domain, clearly


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PackageDetail(Wire):
    orderLineId: OrderLineId
    quantities: Units


class SplitPackage(Wire):
    packageDetails: Annotated[list[PackageDetail], Field(min_length=1, max_length=500)]


class CancelledItem(Wire):
    cancelReasonId: StrictInt
    orderLineId: OrderLineId
    quantity: Units


class SplitByQuantity(Wire):
    # Not required on the wire: a body with only `cancelledItems` gets the clearer
    # "cancel requires a split" error instead of "field required".
    splitPackages: Annotated[list[SplitPackage], Field(max_length=100)] = []
    cancelledItems: Annotated[list[CancelledItem], Field(max_length=500)] = []


class SplitGroup(Wire):
    orderLineIds: Annotated[list[OrderLineId], Field(min_length=1, max_length=500)]


class SplitCombine(Wire):
    splitGroups: Annotated[list[SplitGroup], Field(max_length=100)] = []


class UpdateLine(Wire):
    lineId: OrderLineId


class UpdateOrder(Wire):
    lines: Annotated[list[UpdateLine], Field(min_length=1, max_length=500)]
    status: Annotated[str, Field(max_length=32)]


def _camel(code: str) -> str:
    head, *rest = code.split("_")
    return head + "".join(part.title() for part in rest)


_KEEP_STATUS = {ROUTE_NOT_FOUND, METHOD_NOT_ALLOWED, RATE_LIMITED}  # 429: clients back off on it


def error(code: str, status: int, message: str, details: dict[str, Any]) -> JSONResponse:
    """n11's envelope as observed on /rest: every client error is HTTP 400 with `code` 400, and the
    reason in `errorCode` (`SELLER_API.<camelCase kalem code>`, e.g. `SELLER_API.authenticationFailed`)."""
    http = status if status >= 500 or code in _KEEP_STATUS else 400
    return JSONResponse({"code": http, "status": "failure", "errorCode": f"SELLER_API.{_camel(code)}",
                         "errorMessage": message, "errorCategory": "SELLER_API"}, status_code=http)


def is_n11_path(path: str) -> bool:
    return re.match(r"^/rest(/|$)", path, re.IGNORECASE) is not None


_TRAILING_COMMA = re.compile(rb'("(?:[^"\\]|\\.)*")|,(\s*[\]}])')


def without_trailing_commas(body: bytes) -> bytes:
    """The body with every comma that closes an array or object dropped (strings left alone)."""
    return _TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), body)


class TolerantJsonRoute(APIRoute):
    """n11 publishes example 4 of SplitPackageByQuantity with a trailing comma (`},\n]`); a client that copied it is
    answered as the example promises, so such commas are dropped before the body is parsed."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tolerant(request: Request) -> Response:
            body = await request.body()
            if b"," in body:
                request._body = without_trailing_commas(body)  # Starlette's cached body, read by the handler
            return await handler(request)

        return tolerant
