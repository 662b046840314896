"""`/v1/orders`: intake, reads, direct cancellation, the event history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from kalem.api import views
from kalem.api.context import Caller, Ctx
from kalem.api.intake import BodyShapeRoute
from kalem.api.order_spec import spec_of
from kalem.api.schemas import CancellationIn, OrderIn
from kalem.api.schemas_out import ERRORS, EventPage, OrderOut, OrderPage
from kalem.app import orders as app_orders
from kalem.app.cancellation import CancelLines, cancel_lines
from kalem.domain.errors import IfMatchMalformed
from kalem.domain.orders import CancelItem

# BodyShapeRoute: `POST /v1/orders` may be claimed by a face on its body's shape (HepsiGlobal's
# intake, api/intake.py); every body that is not claimed meets the native contract unchanged.
router = APIRouter(prefix="/v1/orders", tags=["orders"], responses=ERRORS, route_class=BodyShapeRoute)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
SellerScope = Annotated[str | None,
                        Query(max_length=64, description="operators: the seller, if the number is ambiguous")]
ChannelFilter = Annotated[str | None, Query(max_length=40, description="only the orders of this channel")]


@router.post("", status_code=201, summary="Take in an order", response_model=OrderOut,
             responses={201: {"description": "Taken in"}, 200: {"model": OrderOut,
                              "description": "The same order was already taken in with an identical body"}})
def place(body: OrderIn, ctx: Ctx, caller: Caller, idempotency_key: IdempotencyKey = None) -> Response:
    cmd = app_orders.PlaceOrder(spec_of(body), caller, ctx.settings.intake_limits, new_seller=body.create_seller)
    # The body's fingerprint is only needed to hold a key to it: dumping a whole order costs.
    fingerprint = ["POST /v1/orders", body.model_dump(mode="json")] if idempotency_key else None
    return ctx.idempotency.run(
        idempotency_key, caller, fingerprint,
        lambda uow: app_orders.place_order(uow, cmd),
        lambda placed: (201 if placed.created else 200, views.order_view(placed.order)), optimistic=True)


@router.get("", summary="List orders, newest first", response_model=OrderPage, name="list")
def list_orders(ctx: Ctx, caller: Caller, seller_id: SellerScope = None,
                status: Annotated[str | None, Query(max_length=32)] = None,
                limit: Annotated[int, Query(ge=1, le=100)] = 50,
                cursor: Annotated[str | None, Query(max_length=200)] = None, channel: ChannelFilter = None) -> dict:
    found = app_orders.list_orders(ctx.listing_uow(), caller, seller_id=seller_id, status=status,
                                   limit=limit + 1, after=views.decode_cursor(cursor), channel=channel)
    page = found[:limit]
    next_cursor = views.encode_cursor(page[-1].created_at, page[-1].id) if len(found) > limit else None
    return {"data": [views.order_view(o) for o in page], "next_cursor": next_cursor}


@router.get("/{order_number}", summary="An order with its lines' ledgers and packages", response_model=OrderOut)
def get(order_number: str, ctx: Ctx, caller: Caller, response: Response, seller_id: SellerScope = None) -> dict:
    order = app_orders.get_order(ctx.uow(write=False), order_number, caller, seller_id)
    response.headers["ETag"] = f'W/"{order.version}"'
    return views.order_view(order)


@router.post("/{order_number}/cancellations", summary="Cancel quantities of lines at once", response_model=OrderOut)
def cancel(order_number: str, body: CancellationIn, ctx: Ctx, caller: Caller,
           idempotency_key: IdempotencyKey = None, seller_id: SellerScope = None,
           if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> Response:
    cmd = CancelLines(order_number,
                      tuple(CancelItem(i.line_id, i.quantity, i.reason_id, i.note, tuple(i.units)) for i in body.lines),
                      caller, seller_id, _version(if_match))
    return ctx.idempotency.run(
        idempotency_key, caller, [f"POST /v1/orders/{order_number}/cancellations", body.model_dump(mode="json")],
        lambda uow: cancel_lines(uow, cmd), lambda order: (200, views.order_view(order)), optimistic=True)


@router.get("/{order_number}/events", summary="The order's history, in sequence", response_model=EventPage)
def events(order_number: str, ctx: Ctx, caller: Caller, seller_id: SellerScope = None,
           after: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 1000) -> dict:
    order, found = app_orders.order_events(ctx.uow(write=False), order_number, caller, seller_id=seller_id,
                                           after=after, limit=limit)
    return {"data": [views.event_view(e, order) for e in found]}


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    digits = if_match.strip().removeprefix("W/").strip('"')
    if not digits.isdigit():
        raise IfMatchMalformed('If-Match must be an ETag of this API, like W/"3"', field="If-Match")
    return int(digits)
