"""The Zonos order on the wire, as its client reads it (the Zonos GraphQL API reference): the `Order` and
`Item` fields the face serves (`face/views.py`: `order_dict`, `WEBHOOK_QUERY`), an `orders` page, a
GraphQL answer, and a webhook delivery's body `{"data": {"order": …}}`. The face's webhook bodies and
this module are held to the same shape by tests/channels."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from kalem.platforms.zonos.face.views import WEBHOOK_QUERY

#: The fields of an order a client asks for: those a webhook delivery's body holds (`WEBHOOK_QUERY`).
ORDER_FIELDS = ("{ id accountOrderNumber status currencyCode createdAt createdBy updatedAt updatedBy "
                "items { id productId sku name amount currencyCode quantity hsCode } }")

ORDERS = ("query ($first: Int!, $after: String) { orders(first: $first, after: $after) { edges { cursor node "
          + ORDER_FIELDS + " } pageInfo { hasNextPage endCursor } } }")
ORDER = WEBHOOK_QUERY
ITEM_UPDATE = ("mutation ($orderId: ID!, $itemId: ID!, $itemSku: String, $quantity: Int!) { orderItemUpdate("
               "orderId: $orderId, itemId: $itemId, itemSku: $itemSku, quantity: $quantity) { order "
               + ORDER_FIELDS + " } }")
CANCEL = "mutation ($id: ID!) { orderCancel(id: $id) " + ORDER_FIELDS + " }"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ZonosItem(_Wire):
    id: str
    productId: str | None = None  # noqa: N815 - Zonos' own field names
    sku: str | None = None
    name: str
    amount: float
    currencyCode: str  # noqa: N815
    quantity: int       # the units not removed
    hsCode: str | None = None  # noqa: N815


class ZonosOrder(_Wire):
    id: str
    accountOrderNumber: str | None = None  # noqa: N815
    status: str
    currencyCode: str  # noqa: N815
    createdAt: str  # noqa: N815
    updatedAt: str | None = None  # noqa: N815
    items: list[ZonosItem]


class OrderEdge(_Wire):
    cursor: str
    node: ZonosOrder


class PageInfo(_Wire):
    hasNextPage: bool  # noqa: N815
    endCursor: str | None = None  # noqa: N815


class OrderConnection(_Wire):
    edges: list[OrderEdge]
    pageInfo: PageInfo  # noqa: N815


class GraphQLError(_Wire):
    message: str
    extensions: dict[str, Any] | None = None

    @property
    def code(self) -> str:
        return str((self.extensions or {}).get("code", ""))


D = TypeVar("D", bound=BaseModel)


class Answer(_Wire, Generic[D]):
    """A GraphQL answer: `data` (null when the operation failed) and `errors`."""

    data: D | None = None
    errors: list[GraphQLError] | None = None


class OrdersData(_Wire):
    orders: OrderConnection


class OrderData(_Wire):
    order: ZonosOrder


class ItemUpdated(_Wire):
    order: ZonosOrder


class ItemUpdateData(_Wire):
    orderItemUpdate: ItemUpdated  # noqa: N815


class CancelData(_Wire):
    orderCancel: ZonosOrder  # noqa: N815


class HookBody(_Wire):
    """A webhook delivery: `{"data": {"order": {…}}}`."""

    data: OrderData
