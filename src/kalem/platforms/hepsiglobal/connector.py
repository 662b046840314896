"""kalem as a HepsiGlobal marketplace: the client of the HepsiGlobal Marketplace API (the HepsiGlobal
Marketplace API documentation), on the same models as the HepsiGlobal face (`wire.py`, `face/responses.py`).

HepsiGlobal's API is one a marketplace calls: the marketplace sells HG sellers' goods, creates each
order on HG, and cancels an order item on HG when its customer cancels; HG calls the marketplace's
webhooks when the seller cancels (`PUT /webhooks/order-cancel`). kalem plays the marketplace: the
account's seller is the HG seller whose goods it sells.

Credentials are the marketplace's `client_id` and `client_secret`: a token is asked with them
(`POST /v1/auth/token`, client credentials) and sent as `Authorization: Bearer`, kept until it expires
or HG refuses it. HG has no read of orders for a marketplace, so a pull only checks the credentials
(the account's health says when they are refused); what the seller changes arrives by its webhooks
(`face/inbound.py`).

Pushed: an order placed in kalem on the account's channel becomes "Create Order" (`POST /v1/orders`;
HG takes one order number once, so an attempt that reached it is not placed twice), and a cancel of an
item's every remaining unit becomes "Cancel order by marketplace"
(`PUT /v1/orders/{order_number}/order_items/{order_item_number}`, `{"reason"}`), which cancels every
unit HG has not shipped or cancelled yet. Sending it again after HG took it changes nothing: HG
answers that nothing is left to cancel, and the push is done. A cancel of some of an item's units
cannot be said in HG's documented call: it is a dead letter that says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from kalem.app.channel_connectors import (
    CREDENTIALS_REJECTED,
    PLATFORM_ERROR,
    REFUSED,
    UNREACHABLE,
    UNREADABLE_ANSWER,
    ChannelFailure,
    Done,
    Outcome,
    Pulled,
    PushRequest,
    Rejected,
    RetryLater,
    throttled,
)
from kalem.app.channel_tokens import BearerTokens
from kalem.domain.errors import LineNotFound, NothingToCancel, OrderNotFound
from kalem.domain.orders import Line, Order
from kalem.platforms.hepsiglobal import wire
from kalem.platforms.hepsiglobal.face.responses import HepsiGlobalError, HepsiGlobalResult, HepsiGlobalToken
from kalem.platforms.hepsiglobal.reasons import REASON_NAMES
from kalem.store.channel_accounts import ChannelAccount

TOKEN = "/v1/auth/token"
ORDERS = "/v1/orders"
CANCEL = "/v1/orders/{order_number}/order_items/{order_item_number}"
#: The one cancel reason HG documents for a marketplace's cancel; sent when kalem's reason has no HG name.
CUSTOMER_DEMAND = "customer_demand"
#: HG's answers (in `data.code`) that say the order is not on HG yet: its "Create Order" push is still
#: on its way, so the cancel waits for it.
_NOT_THERE_YET = frozenset({OrderNotFound.code, LineNotFound.code})
#: HG's answer to a cancel of an item with no unit left to cancel: an earlier attempt was taken.
_ALREADY = NothingToCancel.code

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _refusal(response: httpx.Response) -> tuple[str, str, str | None]:
    """(kind, message, body) of an answer that is not a success; HG's `{data: {code}, message}` says why."""
    status, body = response.status_code, response.text
    if status >= 500:
        return PLATFORM_ERROR, f"HepsiGlobal answered HTTP {status}", body
    if status in (401, 403):
        return CREDENTIALS_REJECTED, f"HepsiGlobal refused the client credentials (HTTP {status})", None
    try:
        error = HepsiGlobalError.model_validate_json(response.content)
    except ValidationError:
        return UNREADABLE_ANSWER, f"HepsiGlobal answered HTTP {status} in no form kalem knows", body
    return REFUSED, f"{error.data.code}: {error.message}", body


def _failure(response: httpx.Response) -> ChannelFailure:
    """A failed call: 429 (the token asked too often, a quota) waits as HG's `Retry-After` asks."""
    if response.status_code == 429:
        return throttled("HepsiGlobal", response.headers, response.text)
    return ChannelFailure(*_refusal(response))


def _code(body: str | None) -> str | None:
    if body is None:
        return None
    try:
        return HepsiGlobalError.model_validate_json(body).data.code
    except ValidationError:
        return None


def order_body(order: Order, marketplace: str) -> wire.OrderIn:
    """kalem's order as the marketplace creates it on HG: one item per line, numbered with the line id
    (so that HG's `order_item_number` is kalem's line id), the quantities as placed."""
    return wire.OrderIn.model_validate({
        "order_number": order.order_number, "marketplace": marketplace,
        "order_date": order.created_at.isoformat(), "currency": order.currency,
        "shipping_amount": order.shipping_amount,
        "items": [_item(line, order.currency) for line in order.lines]})


def _item(line: Line, currency: str) -> dict[str, Any]:
    item: dict[str, Any] = {"item_number": line.line_id, "sku": line.sku, "product_name": line.name,
                            "quantity": line.quantity, "unit_product_price": line.unit_price,
                            "total_discount_amount": line.discount, "currency": currency}
    if line.tax_rate:
        net = line.unit_price * line.quantity - line.discount
        vat = (net * line.tax_rate / 100).quantize(Decimal("0.0001"))
        item |= {"total_amount_excl_vat": net, "vat_amount": vat, "total_amount": net + vat}
    return item


def _reason(data: Mapping[str, Any], line_id: str) -> str:
    for item in data.get("items") or ():
        if isinstance(item, Mapping) and item.get("line_id") == line_id:
            reason_id = item.get("reason_id")
            return REASON_NAMES.get(reason_id, CUSTOMER_DEMAND) if isinstance(reason_id, int) else CUSTOMER_DEMAND
    return CUSTOMER_DEMAND


def _lines_of(data: Mapping[str, Any]) -> list[str]:
    """The lines an event cancelled units of, in its order."""
    found: list[str] = []
    for item in data.get("items") or ():
        if isinstance(item, Mapping) and isinstance(item.get("line_id"), str) and item["line_id"] not in found:
            if item.get("approved", item.get("quantity", 0)):
                found.append(item["line_id"])
    return found


@dataclass
class HepsiGlobalConnector:
    platform: str = "hepsiglobal"
    credential_names: tuple[str, ...] = ("client_id", "client_secret", "webhookSecret")
    pushes: frozenset[str] = frozenset({"order.placed", "lines.cancelled", "cancel_request.approved"})
    timeout: float = 10.0
    _tokens: BearerTokens = field(default_factory=lambda: BearerTokens("client_id", "client_secret"), repr=False)

    def _token(self, client: httpx.Client, account: ChannelAccount) -> str:
        creds = account.credentials or {}
        grant = wire.TokenIn(grant_type="client_credentials", client_id=creds.get("client_id") or "-",
                             client_secret=creds.get("client_secret") or "-")
        try:
            response = client.post(TOKEN, json=grant.model_dump(mode="json"))
        except httpx.HTTPError as error:
            raise ChannelFailure(UNREACHABLE, f"HepsiGlobal did not answer: {type(error).__name__}") from None
        if response.status_code != 200:
            raise _failure(response)
        try:
            token = HepsiGlobalToken.model_validate_json(response.content)
        except ValidationError:
            raise ChannelFailure(UNREADABLE_ANSWER, "HepsiGlobal's token answer is not one kalem knows",
                                 response.text) from None
        return self._tokens.keep(account, token.access_token, token.expires_in)

    def _authorized(self, account: ChannelAccount, work: Callable[[httpx.Client], T]) -> T:
        return self._tokens.authorized(account, self._token, work, timeout=self.timeout)

    # --- reading ---------------------------------------------------------------------------------

    def pull(self, account: ChannelAccount, since: str | None) -> Pulled:
        """HG shows a marketplace no orders to read: a pull asks a fresh token, so that the account's
        health says whether HG answers and takes the credentials."""
        self._tokens.forget(account)
        self._authorized(account, lambda client: None)
        return Pulled([], since)

    # --- writing ---------------------------------------------------------------------------------

    def push(self, account: ChannelAccount, request: PushRequest) -> Outcome:
        try:
            if request.event_type == "order.placed":
                return self._authorized(account, lambda client: self._place(client, account, request.order))
            return self._authorized(account, lambda client: self._cancel(client, request))
        except ChannelFailure as failure:
            if failure.kind == UNREADABLE_ANSWER:
                return Rejected(failure.kind, failure.message, failure.body)
            return RetryLater(failure.kind, failure.message, failure.retry_after)

    def _send(self, client: httpx.Client, method: str, path: str, body: BaseModel) -> httpx.Response:
        try:
            response = client.request(method, path, json=body.model_dump(mode="json", exclude_none=True))
        except httpx.HTTPError as error:
            raise ChannelFailure(UNREACHABLE, f"HepsiGlobal did not answer: {type(error).__name__}") from None
        if response.status_code in (401, 403) or response.status_code == 429 or response.status_code >= 500:
            raise _failure(response)   # credentials: a fresh token, then the same call again
        return response

    def _place(self, client: httpx.Client, account: ChannelAccount, order: Order) -> Outcome:
        response = self._send(client, "POST", ORDERS, order_body(order, account.channel))
        if response.status_code not in (200, 201):
            kind, message, body = _refusal(response)
            return Rejected(kind, message, body)
        try:
            wire.Answer.model_validate_json(response.content)
        except ValidationError:
            return Rejected(UNREADABLE_ANSWER, "HepsiGlobal's answer to Create Order is not one kalem knows",
                            response.text)
        return Done("order created" if response.status_code == 201 else "HepsiGlobal holds the order already")

    def _cancel(self, client: httpx.Client, request: PushRequest) -> Outcome:
        order = request.order
        sent: list[str] = []
        partial: list[str] = []
        for line_id in _lines_of(request.data):
            line = order.line(line_id)
            if line.cancellable or line.ledger.pending_cancel:
                partial.append(f"{line_id} ({line.cancellable + line.ledger.pending_cancel} units left)")
                continue
            path = CANCEL.format(order_number=order.order_number, order_item_number=line_id)
            response = self._send(client, "PUT", path, wire.CancelItemIn(reason=_reason(request.data, line_id)))
            if response.status_code == 200:
                try:
                    HepsiGlobalResult.model_validate_json(response.content)
                except ValidationError:
                    return Rejected(UNREADABLE_ANSWER, "HepsiGlobal's answer to the cancel is not one kalem knows",
                                    response.text)
                sent.append(line_id)
                continue
            kind, message, body = _refusal(response)
            code = _code(body)
            if code == _ALREADY:
                sent.append(line_id)   # an earlier attempt reached HG: nothing is left there to cancel
            elif code in _NOT_THERE_YET:
                return RetryLater(REFUSED, f"HepsiGlobal does not hold order {order.order_number} yet ({code})")
            else:
                return Rejected(kind, message, body)
        if partial:
            return Rejected(REFUSED, "HepsiGlobal's cancel by marketplace cancels every remaining unit of an item; "
                                     "kalem keeps units of " + ", ".join(partial) + " (cancel them on HepsiGlobal "
                                     "or cancel the whole item)"
                                     + (f"; cancelled on HepsiGlobal: {', '.join(sent)}" if sent else ""))
        return Done(f"order items cancelled: {', '.join(sent)}" if sent else "nothing to cancel on HepsiGlobal")


def connector() -> HepsiGlobalConnector:
    return HepsiGlobalConnector()
