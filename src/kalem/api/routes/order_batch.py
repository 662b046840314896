"""`POST /v1/orders/batch`: up to 1,000 orders in one request, each answered as `POST /v1/orders`
would answer it alone (app/ingest.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, SkipValidation, ValidationError

from kalem.api.context import Caller, Ctx
from kalem.api.error_bodies import INVALID_REQUEST, invalid_fields, kalem_error, native_error
from kalem.api.order_spec import spec_of
from kalem.api.routes.orders import IdempotencyKey
from kalem.api.schemas import OrderIn, Strict
from kalem.api.schemas_out import ERRORS, Out
from kalem.app import ingest
from kalem.app.orders import PlaceOrder

MAX_ORDERS = 1000
PATH = "/v1/orders/batch"   # its bodies may exceed KALEM_MAX_BODY_BYTES, up to KALEM_MAX_BATCH_BODY_BYTES

router = APIRouter(prefix="/v1/orders", tags=["orders"], responses=ERRORS)


class OrderBatchIn(Strict):
    # Each order is validated on its own (a refused order does not refuse the batch), so the list's
    # items are taken as they come and checked against `OrderIn` one by one.
    orders: Annotated[list[SkipValidation[OrderIn]], Field(min_length=1, max_length=MAX_ORDERS)]


class IntakeError(Out):
    """Why one order was refused: the error body `POST /v1/orders` would have sent, without a request id
    of its own (the batch's is in its `X-Request-ID` header)."""
    code: str = Field(description="stable and machine-readable; the message is for people")
    message: str
    details: dict[str, Any] = Field(description="a problem with one field: `errors[] = {field, problem}`")


class IntakeOut(BaseModel):
    index: int = Field(description="the order's position in the request")
    status: int = Field(description="what `POST /v1/orders` would have answered: 201 taken in, 200 the "
                                    "identical order was there already, else the error's status")
    order_number: str | None
    seller_id: str | None
    id: str | None = Field(description="the order's id, when it is stored")
    error: IntakeError | None


class OrderBatchOut(BaseModel):
    created: int
    existing: int
    refused: int
    results: list[IntakeOut]


@router.post(PATH.removeprefix("/v1/orders"), summary="Take in up to 1,000 orders at once",
             response_model=OrderBatchOut)
def place_batch(body: OrderBatchIn, ctx: Ctx, caller: Caller, idempotency_key: IdempotencyKey = None) -> Response:
    """Every order is validated and judged on its own, in request order; the orders taken in commit
    together, each with its events, entirely or not at all."""
    cmds: list[PlaceOrder] = []
    positions: list[int] = []
    invalid: dict[int, dict[str, Any]] = {}
    for index, raw in enumerate(body.orders):
        try:
            order = OrderIn.model_validate(raw)
            cmds.append(PlaceOrder(spec_of(order), caller, ctx.settings.intake_limits, new_seller=order.create_seller))
        except ValidationError as exc:
            message, details = invalid_fields(exc.errors(include_url=False, include_context=False))
            invalid[index] = _result(index, 422, raw, error=native_error(INVALID_REQUEST, message, details))
            continue
        positions.append(index)

    def render(outcomes: list[ingest.Intake]) -> tuple[int, dict[str, Any]]:
        results = dict(invalid)
        for index, outcome in zip(positions, outcomes, strict=True):
            results[index] = _intake(index, outcome)
        ordered = [results[i] for i in range(len(body.orders))]
        counts = {"created": sum(r["status"] == 201 for r in ordered),
                  "existing": sum(r["status"] == 200 for r in ordered)}
        return 200, {**counts, "refused": len(ordered) - sum(counts.values()), "results": ordered}

    return ctx.idempotency.run(idempotency_key, caller, ["POST /v1/orders/batch", body.orders],
                               lambda uow: ingest.place_orders(uow, cmds), render)


def _intake(index: int, outcome: ingest.Intake) -> dict[str, Any]:
    if outcome.error is not None:
        return {"index": index, "status": outcome.error.status, "order_number": outcome.order_number,
                "seller_id": outcome.seller_id, "id": None, "error": kalem_error(outcome.error)}
    return {"index": index, "status": 201 if outcome.created else 200, "order_number": outcome.order_number,
            "seller_id": outcome.seller_id, "id": outcome.order_id, "error": None}


def _result(index: int, status: int, raw: Any, *, error: dict[str, Any]) -> dict[str, Any]:
    given = raw if isinstance(raw, dict) else {}
    return {"index": index, "status": status, "order_number": _text(given.get("order_number")),
            "seller_id": _text(given.get("seller_id")), "id": None, "error": error}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
