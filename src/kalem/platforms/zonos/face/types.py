"""The Zonos GraphQL object and input types (the Zonos GraphQL API reference): the order as Zonos shows it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry

from kalem.app.billing import derived_billing
from kalem.domain.billing import OrderBilling
from kalem.domain.orders import Line
from kalem.domain.orders import Order as DomainOrder
from kalem.domain.refunds import Refund
from kalem.platforms.zonos.face import views
from kalem.platforms.zonos.face.scalars import DateTime

if TYPE_CHECKING:  # its members are made at run time, from views.STATUSES
    class OrderStatus(Enum): ...
else:
    OrderStatus = strawberry.enum(Enum("OrderStatus", {s: s for s in views.STATUSES}))


@strawberry.enum
class OrderRefundSubtotalType(Enum):
    ITEM = "ITEM"
    SHIPPING = "SHIPPING"
    DUTY_TAX_FEE = "DUTY_TAX_FEE"


@strawberry.enum
class ShipmentStatus(Enum):
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"


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
    def of(cls, order: DomainOrder, record: dict[str, Any]) -> LandedCost:
        amount = {k: float(Decimal(record[k])) for k in ("items", "shipping", "duties", "taxes", "fees")}
        return cls(id=strawberry.ID(views.landed_cost_id(order, record["id"])), currency_code=record["currency"],
                   amount_subtotals=LandedCostAmountSubtotals(**amount,
                                                              landed_cost_total=float(Decimal(record["total"]))),
                   created_at=DateTime(record["computed_at"] if isinstance(record["computed_at"], datetime)
                                       else datetime.fromisoformat(record["computed_at"])))


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
                 else [(t, a) for t, a in refund.parts().items() if a])
        return cls(id=strawberry.ID(refund.id), amount=float(refund.amount), currency_code=refund.currency,
                   note=refund.breakdown.get("note"),
                   subtotals=[OrderRefundSubtotal(amount=float(a), type=OrderRefundSubtotalType(t)) for t, a in parts],
                   created_at=DateTime(refund.created_at), created_by=views.user_id(refund.created_by), parent=parent)


@strawberry.type
class OrderAmountSubtotals:
    duties: float
    fees: float
    items: float
    shipping: float
    taxes: float
    variance: float = strawberry.field(description="Always 0: kalem bills exactly its landed cost")


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
        billing = derived_billing(self.domain, self.billing)
        return [LandedCost.of(self.domain, r) for r in billing.landed_costs] if billing else []

    @strawberry.field(description="The latest landed cost's subtotals; null for an order without one")
    def amount_subtotals(self) -> OrderAmountSubtotals | None:
        billing = derived_billing(self.domain, self.billing)
        if not billing or not billing.landed_costs:
            return None
        latest = billing.landed_costs[-1]
        return OrderAmountSubtotals(**{k: float(Decimal(latest[k])) for k in ("duties", "fees", "items", "shipping",
                                                                              "taxes")}, variance=0.0)

    @strawberry.field
    def shipments(self) -> list[Shipment]:
        return shipments(self.domain)

    @strawberry.field
    def tracking_numbers(self) -> list[str]:
        return [s.tracking_number for s in shipments(self.domain) if s.tracking_number]

    @strawberry.field
    def refunds(self) -> list[OrderRefund]:
        return [OrderRefund.of(r, self) for r in self.refund_records]

    @classmethod
    def of(cls, order: DomainOrder, billing: OrderBilling | None = None,
           actors: tuple[str | None, str | None] = (None, None), refunds: Sequence[Refund] = ()) -> Order:
        return cls(id=strawberry.ID(views.order_id(order)), account_order_number=order.account_order_number,
                   status=OrderStatus[views.status(order)], currency_code=order.currency,
                   created_at=DateTime(order.created_at), created_by=views.user_id(actors[0]),
                   updated_at=DateTime(order.updated_at), updated_by=views.user_id(actors[1]),
                   items=[Item.of(ln, order.currency) for ln in order.lines],
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


def shipments(order: DomainOrder) -> list[Shipment]:
    """The order's packages that left (shipped or delivered), as Zonos shipments."""
    lines = {ln.line_id: ln for ln in order.lines}
    return [Shipment(id=strawberry.ID(p.package_id), status=ShipmentStatus[views.SHIPMENT_STATUS[p.status]],
                     tracking_number=p.cargo_tracking_number,
                     items=[ShipmentItem(item=Item.of(lines[i.line_id], order.currency), quantity=i.quantity)
                            for i in p.items])
            for p in order.packages if p.status in views.SHIPMENT_STATUS]
