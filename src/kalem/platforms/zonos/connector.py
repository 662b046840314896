"""kalem as a Zonos merchant: the client of the Zonos GraphQL API (the Zonos GraphQL API reference and
Zonos' "Update orders" guide), on the same order shape as the Zonos face (`wire.py`).

Pulled: `orders` (newest first, Relay pages), down to a little before the newest `createdAt` seen last
time (orders committed late are not missed; taking one again changes nothing). A Zonos order becomes
one kalem order whose number is the Zonos order id (`order_…`) and whose line ids are the Zonos item
ids (`item_…`), so that it is found again by the platform's own ids; `accountOrderNumber` is kept.
Zonos shows how many units of an item are left (`quantity`), not how many were removed: kalem cancels
the open units it holds beyond that (`InboundOrder.remaining`). Changes made on Zonos to older orders
arrive by its `ORDER_UPDATED` webhook (`inbound.py`).

Pushed: a cancel decided in kalem becomes `orderItemUpdate` (remove `quantity` units of an item), a
whole order cancelled `orderCancel`. Zonos has no idempotency key, so every push starts from a read of
the order (`order(orderId)`) and removes only the units Zonos still shows beyond what kalem keeps: an
attempt that reached Zonos before the sync was stopped is never applied again.

Read (reconciliation): `order(orderId)`; Zonos shows the units left of each item (none when the order
is `CANCELED`), which kalem compares with the units it keeps alive. An order Zonos does not hold is the
GraphQL error whose `extensions.code` is `ORDER_NOT_FOUND` (errors as the Zonos GraphQL API reference
gives them: `{"errors": [{"message", "extensions": {"code"}}]}`); any other error is a failure to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from kalem.app.channel_connectors import (
    CREDENTIALS_REJECTED,
    PLATFORM_ERROR,
    REFUSED,
    THROTTLED,
    UNREACHABLE,
    UNREADABLE_ANSWER,
    ChannelFailure,
    ChannelView,
    Done,
    InboundOrder,
    LineView,
    Outcome,
    Pulled,
    PushRequest,
    Rejected,
    RetryLater,
    http_client,
    throttled,
)
from kalem.domain.errors import AuthenticationFailed, OrderNotFound, PermissionDenied
from kalem.domain.orders import LineSpec, Order, OrderSpec
from kalem.platforms.zonos import wire
from kalem.store.channel_accounts import ChannelAccount

PATH = "/graphql"
PAGE_SIZE = 100
FIRST_LOOK = timedelta(days=30)   # how far back the first pull of an account reads
OVERLAP = timedelta(minutes=2)    # read again before the newest order seen: orders committed late
#: The face's codes (`extensions.code`) that mean the credential was refused.
_CREDENTIAL_CODES = {AuthenticationFailed.code.upper(), PermissionDenied.code.upper()}
#: The code of the error that says Zonos holds no such order (the face's `order_not_found`, upper case).
ORDER_NOT_FOUND = OrderNotFound.code.upper()

D = TypeVar("D", bound=BaseModel)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def inbound_order(order: wire.ZonosOrder) -> InboundOrder | None:
    """The Zonos order as kalem takes it in (None: nothing is left of it to hold)."""
    lines = tuple(LineSpec(line_id=item.id, sku=item.sku or item.productId or item.id, name=item.name,
                           quantity=item.quantity, unit_price=Decimal(str(item.amount)), product_id=item.productId,
                           hs_code=item.hsCode)
                  for item in order.items if item.quantity > 0)
    if not lines:
        return None
    spec = OrderSpec(seller_id="", order_number=order.id, currency=order.currencyCode, lines=lines,
                     account_order_number=order.accountOrderNumber)
    return InboundOrder(spec, remaining={item.id: item.quantity for item in order.items})


class _Refused(Exception):
    def __init__(self, kind: str, message: str, body: str | None = None, code: str = "",
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.body, self.code, self.retry_after = kind, message, body, code, retry_after


@dataclass
class ZonosConnector:
    platform: str = "zonos"
    credential_names: tuple[str, ...] = ("credentialToken", "webhookSecret")
    pushes: frozenset[str] = frozenset({"lines.cancelled", "cancel_request.approved", "order.cancelled"})
    timeout: float = 10.0
    transport: httpx.BaseTransport | None = None   # how calls travel; None: the network

    def _client(self, account: ChannelAccount) -> httpx.Client:
        token = (account.credentials or {}).get("credentialToken", "")
        return http_client(account.base_url, timeout=self.timeout, headers={"credentialToken": token},
                           transport=self.transport)

    def _call(self, client: httpx.Client, model: type[D], query: str, variables: Mapping[str, Any]) -> D:
        """One GraphQL operation; its `data`, or `_Refused` saying what kind of failure it was."""
        try:
            response = client.post(PATH, json={"query": query, "variables": dict(variables)})
        except httpx.HTTPError as error:
            raise _Refused(UNREACHABLE, f"Zonos did not answer: {type(error).__name__}") from None
        if response.status_code == 429:
            limited = throttled("Zonos", response.headers, response.text)
            raise _Refused(limited.kind, limited.message, limited.body, retry_after=limited.retry_after)
        if response.status_code >= 500:
            raise _Refused(PLATFORM_ERROR, f"Zonos answered HTTP {response.status_code}", response.text)
        try:
            answer = wire.Answer[model].model_validate_json(response.content)  # type: ignore[valid-type]
        except ValidationError:
            raise _Refused(UNREADABLE_ANSWER, f"Zonos answered HTTP {response.status_code} in no form kalem knows",
                           response.text) from None
        if answer.errors:
            first = answer.errors[0]
            if response.status_code in (401, 403) or first.code in _CREDENTIAL_CODES:
                raise _Refused(CREDENTIALS_REJECTED, f"Zonos refused the credentialToken ({first.code})")
            raise _Refused(REFUSED, f"{first.code or 'error'}: {first.message}", response.text, first.code)
        if answer.data is None:
            raise _Refused(UNREADABLE_ANSWER, "Zonos answered no data and no error", response.text)
        return answer.data

    # --- reading ---------------------------------------------------------------------------------

    def pull(self, account: ChannelAccount, since: str | None) -> Pulled:
        now = datetime.now(UTC)
        floor = _time(since) - OVERLAP if since else now - FIRST_LOOK
        newest = since
        found: dict[str, InboundOrder] = {}
        after: str | None = None
        with self._client(account) as client:
            while True:
                try:
                    page = self._call(client, wire.OrdersData, wire.ORDERS, {"first": PAGE_SIZE, "after": after})
                except _Refused as refused:
                    raise ChannelFailure(refused.kind, refused.message, refused.body, refused.retry_after) from None
                reached_floor = False
                for edge in page.orders.edges:
                    created = _time(edge.node.createdAt)
                    if created < floor:
                        reached_floor = True
                        break
                    if newest is None or created > _time(newest):
                        newest = edge.node.createdAt
                    inbound = inbound_order(edge.node)
                    if inbound is not None:
                        found.setdefault(edge.node.id, inbound)
                if reached_floor or not page.orders.pageInfo.hasNextPage or not page.orders.edges:
                    break
                after = page.orders.pageInfo.endCursor
        # Oldest first, as they were placed.
        return Pulled(list(reversed(found.values())), newest)

    def read(self, account: ChannelAccount, order: Order) -> ChannelView | None:
        with self._client(account) as client:
            try:
                shown = self._call(client, wire.OrderData, wire.ORDER, {"orderId": order.order_number}).order
            except _Refused as refused:
                if refused.kind == REFUSED and refused.code == ORDER_NOT_FOUND:
                    return None
                raise ChannelFailure(refused.kind, refused.message, refused.body, refused.retry_after) from None
        cancelled = shown.status == "CANCELED"
        inbound = inbound_order(shown) or InboundOrder(
            OrderSpec(seller_id="", order_number=shown.id, currency=shown.currencyCode, lines=()))
        if cancelled:
            inbound = replace(inbound, remaining={item.id: 0 for item in shown.items})
        return ChannelView({item.id: LineView(alive=0 if cancelled else item.quantity) for item in shown.items},
                           inbound)

    # --- writing ---------------------------------------------------------------------------------

    def push(self, account: ChannelAccount, request: PushRequest) -> Outcome:
        order = request.order
        with self._client(account) as client:
            try:
                shown = self._call(client, wire.OrderData, wire.ORDER, {"orderId": order.order_number}).order
                if request.event_type == "order.cancelled":
                    return self._cancel(client, order, shown)
                return self._remove(client, order, shown)
            except _Refused as refused:
                if refused.kind in (UNREACHABLE, PLATFORM_ERROR, CREDENTIALS_REJECTED, THROTTLED):
                    return RetryLater(refused.kind, refused.message, refused.retry_after)
                return Rejected(refused.kind, refused.message, refused.body)

    def _remove(self, client: httpx.Client, order: Order, shown: wire.ZonosOrder) -> Outcome:
        """Removes from each item the units Zonos shows beyond what kalem keeps alive."""
        held = {item.id: item for item in shown.items}
        unknown = [ln.line_id for ln in order.lines if ln.line_id not in held]
        if unknown:
            return Rejected(REFUSED, f"Zonos shows no item {', '.join(unknown)} on order {shown.id}")
        sent = 0
        for line in order.lines:
            extra = held[line.line_id].quantity - line.ledger.alive
            if extra > 0:
                self._call(client, wire.ItemUpdateData, wire.ITEM_UPDATE,
                           {"orderId": shown.id, "itemId": line.line_id, "itemSku": line.sku, "quantity": extra})
                sent += extra
        return Done(f"{sent} units removed" if sent else "Zonos shows these units removed already")

    def _cancel(self, client: httpx.Client, order: Order, shown: wire.ZonosOrder) -> Outcome:
        if shown.status == "CANCELED":
            return Done("Zonos shows the order cancelled already")
        self._call(client, wire.CancelData, wire.CANCEL, {"id": shown.id})
        return Done()


def connector() -> ZonosConnector:
    return ZonosConnector()
