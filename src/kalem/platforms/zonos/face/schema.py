"""The Zonos GraphQL schema (the Zonos GraphQL API reference): types, queries and mutations over kalem's
use cases.

Resolvers are async and run each use case in the thread pool (the store is synchronous). Every
error a caller can cause leaves as a GraphQL error whose `extensions.code` is the kalem code the
faces show (`face_code`) in upper case (`QUANTITY_EXCEEDS_CANCELLABLE`, `AUTHENTICATION_FAILED`, …);
see docs/graphql.md.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from starlette.concurrency import run_in_threadpool
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from kalem.api import errors
from kalem.app.billing import Billed
from kalem.app.principals import Principal
from kalem.domain.errors import CursorInvalid, InvalidInput, KalemError
from kalem.domain.orders import Order as DomainOrder
from kalem.platforms.zonos import billing
from kalem.platforms.zonos.face import views, webhooks
from kalem.platforms.zonos.face.limits import MAX_PAGE, PageSizeOutOfRange
from kalem.platforms.zonos.face.scalars import SCALARS
from kalem.platforms.zonos.face.types import (
    Item,
    NotFulfilledItem,
    Order,
    OrderConnection,
    OrderEdge,
    OrderFilter,
    OrderFulfillmentProgress,
    OrderItemUpdatePayload,
    OrderRefund,
    OrderRefundCreateInput,
    PageInfo,
    shipments,
)
from kalem.store import on_loop
from kalem.store.optimistic import optimistically
from kalem.store.uow import UnitOfWork

log = logging.getLogger("kalem.api")
T = TypeVar("T")
R = TypeVar("R")
#: The Order fields shown from the order's events (who created it and who changed it last).
_ACTORS = frozenset({"createdBy", "updatedBy"})

class TextNotStorable(InvalidInput):
    """A string argument over its length, or holding NUL (which the database cannot store)."""
    code = "text_not_storable"
    face_code = InvalidInput.code


class AmountNotANumber(InvalidInput):
    code = "amount_not_a_number"
    face_code = InvalidInput.code


def zonos_error(exc: KalemError) -> GraphQLError:
    return GraphQLError(exc.message, extensions={"code": exc.face_code.upper(), "status": exc.status})


# --- plumbing ------------------------------------------------------------------------------------

def _principal(context: dict[str, Any]) -> Principal:
    if "principal" not in context:
        # Zonos's client sees the orders sold through Zonos only, never another channel's.
        context["principal"] = context["kalem"].auth.bearer(
            context["request"].headers.get("credentialToken")).within(views.FACE)
    return context["principal"]


async def _run(context: dict[str, Any], work: Callable[[Principal, Any], T], *, hot: bool = False) -> T:
    """Authenticate and run `work(principal, kalem_context)` off the event loop — or, for a `hot` write
    on PostgreSQL, on it, its transaction waiting on the loop's connections (kalem.store.on_loop);
    typed errors out."""
    def call() -> T:
        return work(_principal(context), context["kalem"])
    try:
        if hot and context["kalem"].on_loop:
            return await on_loop.run(call)
        return await run_in_threadpool(call)
    except KalemError as exc:
        raise zonos_error(exc) from exc
    except Exception as exc:
        if not errors.is_database_unavailable(exc):
            raise
        # Server trouble, not an answer: HTTP 503 with Retry-After, as every other face gives.
        log.warning("database unavailable: %s", exc.__class__.__name__)
        context["response"].status_code = 503
        context["response"].headers["Retry-After"] = str(errors.RETRY_AFTER_SECONDS)
        raise GraphQLError(errors.DATABASE_UNAVAILABLE_MESSAGE, extensions={
            "code": errors.DATABASE_UNAVAILABLE.upper(), "status": 503}) from exc


def _text(value: str | None, field: str, max_length: int = 255) -> str | None:
    """Strings go to the database: no NUL (PostgreSQL refuses it), nothing unbounded."""
    if value is not None and ("\x00" in value or len(value) > max_length):
        raise TextNotStorable(f"{field} must be at most {max_length} characters, without NUL", field=field)
    return value


def _ref(order_id: str | None, account_order_number: str | None = None) -> billing.OrderRef:
    order_id, account_order_number = _text(order_id, "orderId"), _text(account_order_number, "accountOrderNumber")
    return billing.OrderRef(views.kalem_order_id(order_id) if order_id is not None else None, account_order_number)


def _viewed(page: billing.OrderPage) -> Order:
    order = page.orders[0]
    return Order.of(order, page.billing.get(order.id), page.actors[order.id], page.refunds.get(order.id, ()))


def _one(principal: Principal, kalem: Any, ref: billing.OrderRef) -> Order:
    return _viewed(billing.read_orders(kalem.uow(write=False), principal, ref=ref))


def _selected(info: Info) -> frozenset[str]:
    """Every field name in the resolver's selection, at any depth, fragments included: what the answer
    may show (a superset when a directive skips some)."""
    names: set[str] = set()
    todo: list[Any] = list(info.selected_fields)
    while todo:
        node = todo.pop()
        if isinstance(node, SelectedField):
            names.add(node.name)
        todo.extend(node.selections)
    return frozenset(names)


def _changed(kalem: Any, shown: frozenset[str], change: Callable[[UnitOfWork], R],
             billed: Callable[[Any], Billed] = lambda result: result) -> tuple[R, Order]:
    """Run a change and read what the answer shows of the order beyond the change's result — its
    refunds, who created and last changed it — in the change's own transaction, and only when the
    selection names it. On the event loop the change is a compare-and-swap where it can be one
    (store/uow.py): the order with its bill and who created it are read in one statement, and
    written in one."""
    def run(uow: UnitOfWork) -> tuple[R, Order]:
        pages: list[billing.OrderPage] = []
        uow.before_commit(lambda result: pages.append(billing.view_of_change(
            uow, billed(result), refunds="refunds" in shown, actors=not _ACTORS.isdisjoint(shown))))
        result = change(uow)
        return result, _viewed(pages[0])
    return optimistically(lambda: run(kalem.uow(optimistic=True)), lambda: run(kalem.uow()))


async def item_update(context: dict[str, Any], shown: frozenset[str], *, quantity: int,
                      order_id: str | None = None, account_order_number: str | None = None,
                      item_id: str | None = None, item_sku: str | None = None,
                      product_id: str | None = None) -> OrderItemUpdatePayload:
    """`orderItemUpdate` as its resolver and its lean plan (lean.py) run it: the arguments by their
    Python names, `shown` the field names selected."""
    def work(principal: Principal, kalem: Any) -> OrderItemUpdatePayload:
        cmd = billing.RemoveItems(_ref(order_id, account_order_number),
                              views.kalem_line_id(text) if (text := _text(item_id, "itemId")) is not None else None,
                              _text(item_sku, "itemSku"), quantity, principal, via=views.FACE,
                              product_id=_text(product_id, "productId"))
        return OrderItemUpdatePayload(order=_changed(kalem, shown, lambda uow: billing.remove_items(uow, cmd))[1])
    return await _run(context, work, hot=True)


def _cursor(order: DomainOrder) -> str:
    return base64.urlsafe_b64encode(f"{order.created_at.isoformat()}|{order.id}".encode()).decode()


def _after(cursor: str | None) -> tuple[str, str] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if "\x00" in raw:  # no id holds one, and PostgreSQL could not compare it
            raise ValueError("NUL in a cursor")
        created, order_id = raw.split("|", 1)
        datetime.fromisoformat(created)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CursorInvalid("the cursor is not valid", field="after") from exc
    return created, order_id


def _amount(value: float) -> Decimal:
    try:
        return Decimal(repr(value))  # the literal the client wrote, not the binary float
    except InvalidOperation as exc:  # pragma: no cover - GraphQL Float is always finite
        raise AmountNotANumber("amount is not a number") from exc


# --- operations ----------------------------------------------------------------------------------

@strawberry.type
class Query:
    @strawberry.field
    async def order(self, info: Info, order_id: strawberry.ID) -> Order:
        return await _run(info.context, lambda p, k: _one(p, k, _ref(order_id)))

    @strawberry.field
    async def orders(self, info: Info, first: int = 20, after: str | None = None,
                     filter: OrderFilter | None = None) -> OrderConnection:
        def work(principal: Principal, kalem: Any) -> OrderConnection:
            if not 1 <= first <= MAX_PAGE:
                raise PageSizeOutOfRange(f"first must be between 1 and {MAX_PAGE}", field="first")
            wanted = filter.status.value if filter and filter.status else None
            aon = _text(filter.account_order_number, "accountOrderNumber") if filter else None
            page = billing.read_orders(
                kalem.uow(write=False), principal, limit=first, after=_after(after),
                statuses=views.KALEM_STATUSES.get(wanted, set()) if wanted else None, account_order_number=aon,
                keep=lambda o: wanted is None or views.status(o) == wanted)
            edges = [OrderEdge(cursor=_cursor(o), node=Order.of(o, page.billing.get(o.id), page.actors[o.id],
                                                                page.refunds.get(o.id, ())))
                     for o in page.orders]
            return OrderConnection(edges=edges, page_info=PageInfo(
                has_next_page=page.has_next, has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))
        return await _run(info.context, work)

    @strawberry.field
    async def order_fulfillment_progress(self, info: Info, order_id: strawberry.ID) -> OrderFulfillmentProgress:
        def work(principal: Principal, kalem: Any) -> OrderFulfillmentProgress:
            order = billing.read_orders(kalem.uow(write=False), principal, ref=_ref(order_id)).orders[0]
            waiting = [NotFulfilledItem(item=Item.of(ln, order.currency), quantity=ln.ledger.unshipped)
                       for ln in order.lines if ln.ledger.unshipped]
            return OrderFulfillmentProgress(fulfilled=shipments(order), not_fulfilled=waiting)
        return await _run(info.context, work)

    @strawberry.field(description="Deliveries of the caller's webhooks, newest first")
    async def webhook_logs(self, info: Info, filter: webhooks.WebhookLogFilter | None = None,
                           first: int = 20) -> list[webhooks.WebhookLog]:
        return await _run(info.context, lambda p, k: webhooks.logs(p, k, filter, first))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Remove `quantity` unshipped units of an item (named by itemId, productId "
                                     "and/or itemSku); the item stays with fewer units, the landed cost is "
                                     "recomputed and the invoice follows.")
    async def order_item_update(self, info: Info, *, order_id: strawberry.ID | None = None,
                                account_order_number: str | None = None, item_id: strawberry.ID | None = None,
                                item_sku: str | None = None, product_id: str | None = None,
                                quantity: int) -> OrderItemUpdatePayload:
        return await item_update(info.context, _selected(info), order_id=order_id,
                                 account_order_number=account_order_number, item_id=item_id,
                                 item_sku=item_sku, product_id=product_id, quantity=quantity)

    @strawberry.mutation
    async def order_cancel(self, info: Info, id: strawberry.ID) -> Order:
        shown = _selected(info)

        def work(principal: Principal, kalem: Any) -> Order:
            return _changed(kalem, shown, lambda uow: billing.cancel_order(uow, _ref(id), principal, via=views.FACE))[1]
        return await _run(info.context, work)

    @strawberry.mutation
    async def order_refund_create(self, info: Info, input: OrderRefundCreateInput) -> OrderRefund:
        shown = _selected(info)

        def work(principal: Principal, kalem: Any) -> OrderRefund:
            cmd = billing.RecordRefund(_ref(input.id), input.currency_code,
                                   tuple((s.type.value, _amount(s.amount)) for s in input.subtotals), principal,
                                   _text(input.note, "note", 1000), via=views.FACE)
            (_, refund), order = _changed(kalem, shown, lambda uow: billing.record_refund(uow, cmd),
                                          lambda result: result[0])
            return OrderRefund.of(refund, order)
        return await _run(info.context, work)


    @strawberry.mutation(description="Register a webhook for the caller's orders")
    async def webhook_create(self, info: Info, input: webhooks.WebhookCreateInput) -> webhooks.Webhook:
        return await _run(info.context, lambda p, k: webhooks.create(p, k, input))

    @strawberry.mutation(description="Change a webhook's url, type or status")
    async def webhook_update(self, info: Info, input: webhooks.WebhookUpdateInput) -> webhooks.Webhook:
        return await _run(info.context, lambda p, k: webhooks.update(p, k, input))


class ZonosSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Errors a caller caused are answers, not incidents: log only the unexpected ones.
        unexpected = [e for e in errors if e.original_error is not None
                      and not isinstance(e.original_error, (KalemError, GraphQLError))]
        if unexpected:
            super().process_errors(unexpected, execution_context)


#: The mutations a lean plan may run (lean.py), by field name.
HOT_MUTATIONS = {"orderItemUpdate": item_update}


def build_schema() -> strawberry.Schema:
    # Parsing, validation and its limits run where requests are served (execution.py), once per document.
    return ZonosSchema(query=Query, mutation=Mutation, config=StrawberryConfig(scalar_map=SCALARS))
