"""The Zonos GraphQL schema (PLATFORMS.md §5): types, queries and mutations over kalem's use cases.

Resolvers are async and run each use case in the thread pool (the store is synchronous). Every
error a caller can cause leaves as a GraphQL error whose `extensions.code` is the kalem code in
upper case (`QUANTITY_EXCEEDS_CANCELLABLE`, `AUTHENTICATION_FAILED`, …); see docs/graphql.md.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, NewType, TypeVar

import strawberry
from graphql import GraphQLError
from starlette.concurrency import run_in_threadpool
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from kalem.api import errors
from kalem.app import billing as app
from kalem.app.principals import Principal
from kalem.dialects.zonos import views
from kalem.dialects.zonos.limits import MAX_PAGE
from kalem.domain.errors import InvalidInput, KalemError
from kalem.domain.order_billing import OrderBilling
from kalem.domain.refund_account import parts_of
from kalem.domain.refund_records import Refund
from kalem.domain.orders import Line, Order as DomainOrder

log = logging.getLogger("kalem.api")
T = TypeVar("T")

DateTime = NewType("DateTime", datetime)
SCALARS = {DateTime: strawberry.scalar(name="DateTime", serialize=views.time, parse_value=datetime.fromisoformat,
                                       description="ISO-8601 UTC, e.g. 2024-06-01T12:00:00Z")}

OrderStatus = strawberry.enum(Enum("OrderStatus", {s: s for s in views.STATUSES}))  # type: ignore[misc]


@strawberry.enum
class OrderRefundSubtotalType(Enum):
    ITEM = "ITEM"
    SHIPPING = "SHIPPING"
    DUTY_TAX_FEE = "DUTY_TAX_FEE"


@strawberry.enum
class ShipmentStatus(Enum):
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"


def zonos_error(exc: KalemError) -> GraphQLError:
    return GraphQLError(exc.message, extensions={"code": exc.code.upper(), "status": exc.status})


@strawberry.type
class Item:
    id: strawberry.ID
    product_id: str | None
    sku: str | None
    name: str
    amount: float
    currency_code: str
    quantity: int
    hs_code: str | None

    @classmethod
    def of(cls, line: Line, currency: str) -> Item:
        d = views.item_dict(line, currency)
        return cls(id=strawberry.ID(d["id"]), product_id=d["productId"], sku=d["sku"], name=d["name"],
                   amount=d["amount"], currency_code=d["currencyCode"], quantity=d["quantity"], hs_code=d["hsCode"])


@strawberry.type
class LandedCostAmountSubtotals:
    items: float
    shipping: float
    duties: float
    taxes: float
    fees: float
    landed_cost_total: float


@strawberry.type
class LandedCost:
    id: strawberry.ID
    currency_code: str
    amount_subtotals: LandedCostAmountSubtotals
    created_at: DateTime

    @classmethod
    def of(cls, record: dict[str, Any]) -> LandedCost:
        amount = {k: float(Decimal(record[k])) for k in ("items", "shipping", "duties", "taxes", "fees")}
        return cls(id=strawberry.ID(record["id"]), currency_code=record["currency"],
                   amount_subtotals=LandedCostAmountSubtotals(**amount, landed_cost_total=float(Decimal(record["total"]))),
                   created_at=record["computed_at"] if isinstance(record["computed_at"], datetime)
                   else datetime.fromisoformat(record["computed_at"]))


@strawberry.type
class OrderRefundSubtotal:
    amount: float
    type: OrderRefundSubtotalType


@strawberry.type
class OrderRefund:
    id: strawberry.ID
    amount: float
    currency_code: str
    note: str | None
    subtotals: list[OrderRefundSubtotal]
    created_at: DateTime
    created_by: str
    parent: strawberry.Private[Order]

    @strawberry.field
    def order(self) -> Order:
        return self.parent

    @classmethod
    def of(cls, refund: Refund, parent: Order) -> OrderRefund:
        """Any refund of the order: one of amounts keeps its subtotals, one of units shows its parts."""
        named = refund.breakdown.get("subtotals")
        parts = ([(p["type"], Decimal(p["amount"])) for p in named] if named is not None
                 else [(t, a) for t, a in parts_of(refund).items() if a])
        return cls(id=strawberry.ID(refund.id), amount=float(refund.amount), currency_code=refund.currency,
                   note=refund.breakdown.get("note"),
                   subtotals=[OrderRefundSubtotal(amount=float(a), type=OrderRefundSubtotalType(t)) for t, a in parts],
                   created_at=refund.created_at, created_by=refund.created_by, parent=parent)


@strawberry.type
class Order:
    id: strawberry.ID
    account_order_number: str | None
    status: OrderStatus
    currency_code: str
    created_at: DateTime
    created_by: str | None
    updated_at: DateTime
    updated_by: str | None
    items: list[Item]
    domain: strawberry.Private[DomainOrder]
    billing: strawberry.Private[OrderBilling | None]
    refund_records: strawberry.Private[Sequence[Refund]]

    @strawberry.field
    def landed_costs(self) -> list[LandedCost]:
        billing = app.derived_billing(self.domain, self.billing)
        return [LandedCost.of(r) for r in billing.landed_costs] if billing else []

    @strawberry.field
    def refunds(self) -> list[OrderRefund]:
        return [OrderRefund.of(r, self) for r in self.refund_records]

    @classmethod
    def of(cls, order: DomainOrder, billing: OrderBilling | None = None,
           actors: tuple[str | None, str | None] = (None, None), refunds: Sequence[Refund] = ()) -> Order:
        return cls(id=strawberry.ID(views.order_id(order)), account_order_number=order.account_order_number,
                   status=OrderStatus[views.status(order)], currency_code=order.currency,
                   created_at=order.created_at, created_by=actors[0], updated_at=order.updated_at,
                   updated_by=actors[1], items=[Item.of(ln, order.currency) for ln in order.lines],
                   domain=order, billing=billing, refund_records=refunds)


@strawberry.type
class OrderItemUpdatePayload:
    order: Order


@strawberry.type
class ShipmentItem:
    item: Item
    quantity: int


@strawberry.type
class Shipment:
    id: strawberry.ID
    status: ShipmentStatus
    tracking_number: str | None
    items: list[ShipmentItem]


@strawberry.type
class NotFulfilledItem:
    item: Item
    quantity: int


@strawberry.type
class OrderFulfillmentProgress:
    fulfilled: list[Shipment]
    not_fulfilled: list[NotFulfilledItem]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo


@strawberry.input
class OrderFilter:
    account_order_number: str | None = None
    status: OrderStatus | None = None


@strawberry.input
class OrderRefundSubtotalInput:
    amount: float
    type: OrderRefundSubtotalType


@strawberry.input
class OrderRefundCreateInput:
    id: strawberry.ID
    currency_code: str
    note: str | None = None
    subtotals: list[OrderRefundSubtotalInput]


# --- plumbing ------------------------------------------------------------------------------------

def _principal(info: Info) -> Principal:
    context = info.context
    if "principal" not in context:
        context["principal"] = context["kalem"].auth.bearer(context["request"].headers.get("credentialToken"))
    return context["principal"]


async def _run(info: Info, work: Callable[[Principal, Any], T]) -> T:
    """Authenticate and run `work(principal, kalem_context)` off the event loop; typed errors out."""
    def call() -> T:
        return work(_principal(info), info.context["kalem"])
    try:
        return await run_in_threadpool(call)
    except KalemError as exc:
        raise zonos_error(exc) from exc
    except Exception as exc:
        if not errors.is_database_unavailable(exc):
            raise
        # Server trouble, not an answer: HTTP 503 with Retry-After, as every other face gives.
        log.warning("database unavailable: %s", exc.__class__.__name__)
        info.context["response"].status_code = 503
        info.context["response"].headers["Retry-After"] = str(errors.RETRY_AFTER_SECONDS)
        raise GraphQLError(errors.DATABASE_UNAVAILABLE_MESSAGE, extensions={
            "code": errors.DATABASE_UNAVAILABLE.upper(), "status": 503}) from exc


def _text(value: str | None, field: str, max_length: int = 255) -> str | None:
    """Strings go to the database: no NUL (PostgreSQL refuses it), nothing unbounded."""
    if value is not None and ("\x00" in value or len(value) > max_length):
        raise InvalidInput(f"{field} must be at most {max_length} characters, without NUL", field=field)
    return value


def _ref(order_id: str | None, account_order_number: str | None = None) -> app.OrderRef:
    order_id, account_order_number = _text(order_id, "orderId"), _text(account_order_number, "accountOrderNumber")
    return app.OrderRef(views.kalem_order_id(order_id) if order_id is not None else None, account_order_number)


def _viewed(page: app.OrderPage) -> Order:
    order = page.orders[0]
    return Order.of(order, page.billing.get(order.id), page.actors[order.id], page.refunds.get(order.id, ()))


def _one(principal: Principal, kalem: Any, ref: app.OrderRef) -> Order:
    return _viewed(app.read_orders(kalem.uow(write=False), principal, ref=ref))


def _changed(kalem: Any, done: app.Billed) -> Order:
    """The order as the mutation committed it, with who created and changed it."""
    return _viewed(app.view_of_change(kalem.uow(write=False), done))


def _cursor(order: DomainOrder) -> str:
    return base64.urlsafe_b64encode(f"{order.created_at.isoformat()}|{order.id}".encode()).decode()


def _after(cursor: str | None) -> tuple[str, str] | None:
    if cursor is None:
        return None
    try:
        created, order_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        datetime.fromisoformat(created)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the cursor is not valid", field="after") from exc
    return created, order_id


def _amount(value: float) -> Decimal:
    try:
        return Decimal(repr(value))  # the literal the client wrote, not the binary float
    except InvalidOperation as exc:  # pragma: no cover - GraphQL Float is always finite
        raise InvalidInput("amount is not a number") from exc


# --- operations ----------------------------------------------------------------------------------

@strawberry.type
class Query:
    @strawberry.field
    async def order(self, info: Info, order_id: strawberry.ID) -> Order:
        return await _run(info, lambda p, k: _one(p, k, _ref(order_id)))

    @strawberry.field
    async def orders(self, info: Info, first: int = 20, after: str | None = None,
                     filter: OrderFilter | None = None) -> OrderConnection:
        def work(principal: Principal, kalem: Any) -> OrderConnection:
            if not 1 <= first <= MAX_PAGE:
                raise InvalidInput(f"first must be between 1 and {MAX_PAGE}", field="first")
            wanted = filter.status.value if filter and filter.status else None
            aon = _text(filter.account_order_number, "accountOrderNumber") if filter else None
            page = app.read_orders(
                kalem.uow(write=False), principal, limit=first, after=_after(after),
                statuses=views.KALEM_STATUSES.get(wanted, set()) if wanted else None, account_order_number=aon,
                keep=lambda o: wanted is None or views.status(o) == wanted)
            edges = [OrderEdge(cursor=_cursor(o), node=Order.of(o, page.billing.get(o.id), page.actors[o.id],
                                                                page.refunds.get(o.id, ())))
                     for o in page.orders]
            return OrderConnection(edges=edges, page_info=PageInfo(
                has_next_page=page.has_next, has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))
        return await _run(info, work)

    @strawberry.field
    async def order_fulfillment_progress(self, info: Info, order_id: strawberry.ID) -> OrderFulfillmentProgress:
        def work(principal: Principal, kalem: Any) -> OrderFulfillmentProgress:
            order = app.read_orders(kalem.uow(write=False), principal, ref=_ref(order_id)).orders[0]
            lines = {ln.line_id: ln for ln in order.lines}
            fulfilled = [Shipment(id=strawberry.ID(p.package_id), status=ShipmentStatus[views.SHIPMENT_STATUS[p.status]],
                                  tracking_number=p.cargo_tracking_number,
                                  items=[ShipmentItem(item=Item.of(lines[i.line_id], order.currency), quantity=i.quantity)
                                         for i in p.items])
                         for p in order.packages if p.status in views.SHIPMENT_STATUS]
            waiting = [NotFulfilledItem(item=Item.of(ln, order.currency), quantity=ln.ledger.unshipped)
                       for ln in order.lines if ln.ledger.unshipped]
            return OrderFulfillmentProgress(fulfilled=fulfilled, not_fulfilled=waiting)
        return await _run(info, work)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Remove `quantity` unshipped units of an item; the item stays with "
                                     "fewer units, the landed cost is recomputed and the invoice follows.")
    async def order_item_update(self, info: Info, *, order_id: strawberry.ID | None = None,
                                account_order_number: str | None = None, item_id: strawberry.ID | None = None,
                                item_sku: str | None = None, quantity: int) -> OrderItemUpdatePayload:
        def work(principal: Principal, kalem: Any) -> OrderItemUpdatePayload:
            cmd = app.RemoveItems(_ref(order_id, account_order_number),
                                  views.kalem_line_id(item_id) if _text(item_id, "itemId") is not None else None,
                                  _text(item_sku, "itemSku"), quantity, principal)
            done = app.remove_items(kalem.uow(), cmd)
            return OrderItemUpdatePayload(order=_changed(kalem, done))
        return await _run(info, work)

    @strawberry.mutation
    async def order_cancel(self, info: Info, id: strawberry.ID) -> Order:
        def work(principal: Principal, kalem: Any) -> Order:
            done = app.cancel_order(kalem.uow(), _ref(id), principal)
            return _changed(kalem, done)
        return await _run(info, work)

    @strawberry.mutation
    async def order_refund_create(self, info: Info, input: OrderRefundCreateInput) -> OrderRefund:
        def work(principal: Principal, kalem: Any) -> OrderRefund:
            cmd = app.RecordRefund(_ref(input.id), input.currency_code,
                                   tuple((s.type.value, _amount(s.amount)) for s in input.subtotals), principal,
                                   _text(input.note, "note", 1000))
            done, refund = app.record_refund(kalem.uow(), cmd)
            return OrderRefund.of(refund, _changed(kalem, done))
        return await _run(info, work)


class ZonosSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Errors a caller caused are answers, not incidents: log only the unexpected ones.
        unexpected = [e for e in errors if e.original_error is not None
                      and not isinstance(e.original_error, (KalemError, GraphQLError))]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema() -> strawberry.Schema:
    # Parsing, validation and its limits run where requests are served (execution.py), once per document.
    return ZonosSchema(query=Query, mutation=Mutation, config=StrawberryConfig(scalar_map=SCALARS))
