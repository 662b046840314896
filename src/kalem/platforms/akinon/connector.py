"""kalem as an Akinon Omnitron integrator: the client of Omnitron's API (Akinon Omnitron's API reference,
"Order Cancellation"), on the same models as the Akinon face (`wire.py`, `face/schemas.py`).

Credentials are a user's `username` and `password`: the connector logs in (`POST /api/v1/auth/login/`,
then `Authorization: Token <key>`, as Omnitron's SDK does) and keeps the key until Omnitron refuses it
(app/channel_tokens.py), since Omnitron's login answer does not say when a key ends.

Pulled: the order list (`GET /api/v1/orders/`), from the second pull on only the orders changed
since a little before the last one (`modified_date__gte`), every page, following the DRF `next` links
(their path and query, taken against the account's base URL). Omnitron keeps one order item per unit: the
items of one `remote_id` are one kalem line (its line id), their count its quantity, and the items in
status 100 (`cancelled`) its cancelled units. An order not changed (`modified_date`) since a little
before the last pull is not taken in again.

Pushed: a cancel decided in kalem becomes `POST /api/i1/orders/{pk}/cancel/` naming the order items
to cancel (open ones, status 400, of each line), a reason per item, and the refund fields. The reason
is Omnitron's pk for kalem's reason: Omnitron's reasons are the tenant's own, so an account may carry a
`reason_map` (kalem reason code → the tenant's reason pk); a reason it does not map is sent as kalem's
id. Omnitron documents no idempotency key, so every push starts from a read of the order (`?number=`)
and cancels only what Omnitron does not show cancelled yet: an attempt that reached Omnitron before the
sync was stopped is never applied again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from kalem.app.channel_connectors import (
    CREDENTIALS_REJECTED,
    PLATFORM_ERROR,
    REFUSED,
    UNREACHABLE,
    UNREADABLE_ANSWER,
    ChannelFailure,
    Done,
    InboundOrder,
    Outcome,
    Pulled,
    PushRequest,
    Rejected,
    RetryLater,
    UnreadableAnswer,
    parse_answer,
    throttled,
)
from kalem.app.channel_tokens import BearerTokens
from kalem.domain.orders import LineSpec, Order, OrderSpec
from kalem.domain.reasons import shared_code
from kalem.platforms.akinon import wire
from kalem.platforms.akinon.face.schemas import AkinonCancelAnswer, AkinonLoginOut, AkinonOrder, AkinonOrderPage
from kalem.store.channel_accounts import ChannelAccount

LOGIN = "/api/v1/auth/login/"
ORDERS = "/api/v1/orders/"
CANCEL = "/api/i1/orders/{pk}/cancel/"
PAGE_SIZE = 100                   # the face's largest `limit`
OPEN = "400"                      # Omnitron's `approved`: an item that may still be cancelled
CANCELLED = "100"
#: Orders changed this long before the newest change last seen are taken in again: a change committed
#: on Omnitron while a pull was reading may carry an earlier `modified_date` than one the pull saw.
OVERLAP = timedelta(minutes=10)
SELLER_REQUEST = 137              # kalem's `seller_request`: Omnitron's order items show no cancel reason

T = TypeVar("T")


def _refusal(response: httpx.Response, *, login: bool = False) -> tuple[str, str, str]:
    """(kind, message, body) of an answer that is not a success; DRF's error shapes carry the reason."""
    body = response.text
    status = response.status_code
    if status >= 500:
        return PLATFORM_ERROR, f"Omnitron answered HTTP {status}", body
    if status in (401, 403) or (login and status == 400):   # Omnitron answers a bad login with 400
        return CREDENTIALS_REJECTED, f"Omnitron refused the username/password (HTTP {status})", body
    if not body.lstrip().startswith("{"):
        return UNREADABLE_ANSWER, f"Omnitron answered HTTP {status} in no form kalem knows", body
    return REFUSED, f"Omnitron refused the call (HTTP {status}): {body[:500]}", body


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _relative(url: str) -> str:
    """A `next` link's path and query, to be asked of the account's base URL (which may be a proxy's)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class AkinonConnector:
    platform: str = "akinon"
    credential_names: tuple[str, ...] = ("username", "password")
    pushes: frozenset[str] = frozenset({"lines.cancelled", "cancel_request.approved"})
    timeout: float = 10.0
    #: The key Omnitron answered, per account: logging in once, not at every pull, keeps clear of
    #: Omnitron's limits on logins; a key refused is forgotten and asked again.
    _tokens: BearerTokens = field(default_factory=lambda: BearerTokens("username", "password", scheme="Token"),
                                  repr=False)

    def _login(self, client: httpx.Client, account: ChannelAccount) -> str:
        creds = account.credentials or {}
        login = wire.AkinonLogin(username=creds.get("username") or "-", password=creds.get("password") or "-")
        try:
            response = client.post(LOGIN, json=login.model_dump(mode="json"))
        except httpx.HTTPError as error:
            raise ChannelFailure(UNREACHABLE, f"Omnitron did not answer: {type(error).__name__}") from None
        if response.status_code == 429:   # e.g. a login locked after failed attempts: wait as asked
            raise throttled("Omnitron", response.headers, response.text)
        if response.status_code != 200:
            raise ChannelFailure(*_refusal(response, login=True))
        try:
            key = parse_answer(AkinonLoginOut, response).key
        except UnreadableAnswer as unreadable:
            raise ChannelFailure(UNREADABLE_ANSWER, "Omnitron's login answer is not one kalem knows",
                                 unreadable.body) from None
        return self._tokens.keep(account, key)   # Omnitron does not say when a key ends

    def _logged_in(self, account: ChannelAccount, work: Callable[[httpx.Client], T]) -> T:
        """`work` with a client logged in as the account's user (`Authorization: Token <key>`); a kept
        key refused (it expired) is replaced once by a fresh login."""
        return self._tokens.authorized(account, self._login, work, timeout=self.timeout)

    # --- reading ---------------------------------------------------------------------------------

    def _get(self, client: httpx.Client, path: str, params: Mapping[str, Any] | None = None) -> AkinonOrderPage:
        try:
            response = client.get(path, params=dict(params) if params else None)
        except httpx.HTTPError as error:
            raise ChannelFailure(UNREACHABLE, f"Omnitron did not answer: {type(error).__name__}") from None
        if response.status_code == 429:   # e.g. a login locked after failed attempts: wait as asked
            raise throttled("Omnitron", response.headers, response.text)
        if response.status_code != 200:
            raise ChannelFailure(*_refusal(response))
        try:
            return parse_answer(AkinonOrderPage, response)
        except UnreadableAnswer as unreadable:
            raise ChannelFailure(UNREADABLE_ANSWER, "Omnitron's order list is not one kalem knows",
                                 unreadable.body) from None

    def _orders(self, client: httpx.Client, changed_since: datetime | None = None) -> Iterator[AkinonOrder]:
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if changed_since is not None:
            params["modified_date__gte"] = changed_since.isoformat()
        page = self._get(client, ORDERS, params)
        seen: set[str] = set()
        while True:
            yield from page.results
            if not page.next or not page.results or page.next in seen:
                return
            seen.add(page.next)
            page = self._get(client, _relative(page.next))

    def _order(self, client: httpx.Client, number: str) -> AkinonOrder | None:
        found = self._get(client, ORDERS, {"number": number})
        return next((o for o in found.results if o.number == number), None)

    def pull(self, account: ChannelAccount, since: str | None) -> Pulled:
        return self._logged_in(account, lambda client: self._pull(client, since))

    def _pull(self, client: httpx.Client, since: str | None) -> Pulled:
        after = _time(since)
        newest = after
        orders: list[InboundOrder] = []
        # Only the orders changed since a little before the last pull are asked for (the list's
        # `modified_date__gte` filter); the check below stays for a server that ignores the filter.
        for order in self._orders(client, None if after is None else after - OVERLAP):
            modified = _time(order.modified_date) or _time(order.created_date)
            if modified is not None:
                newest = modified if newest is None else max(newest, modified)
                if after is not None and modified < after - OVERLAP:
                    continue
            inbound = inbound_order(order)
            if inbound is not None:
                orders.append(inbound)
        return Pulled(orders, newest.isoformat() if newest is not None else since)

    # --- writing ---------------------------------------------------------------------------------

    def push(self, account: ChannelAccount, request: PushRequest) -> Outcome:
        try:
            return self._logged_in(account, lambda client: self._push(client, request, reason_map(account)))
        except ChannelFailure as failure:
            if failure.kind == UNREADABLE_ANSWER:
                return Rejected(failure.kind, failure.message, failure.body)
            return RetryLater(failure.kind, failure.message, failure.retry_after)

    def _push(self, client: httpx.Client, request: PushRequest, reasons: Mapping[str, int]) -> Outcome:
        order = request.order
        shown = self._order(client, order.order_number)
        if shown is None:
            return RetryLater(REFUSED, f"Omnitron shows no order {order.order_number} yet")
        body = cancel_body(order, shown, omnitron_reason(_first_reason(request.data), reasons))
        if isinstance(body, Done | Rejected):
            return body
        return self._send(client, shown.pk, body)

    def _send(self, client: httpx.Client, pk: int, body: wire.CancelIn) -> Outcome:
        try:
            response = client.post(CANCEL.format(pk=pk), json=body.model_dump(mode="json"))
        except httpx.HTTPError as error:
            return RetryLater(UNREACHABLE, f"Omnitron did not answer: {type(error).__name__}")
        if response.status_code == 429:
            limited = throttled("Omnitron", response.headers, response.text)
            return RetryLater(limited.kind, limited.message, limited.retry_after)
        if response.status_code != 200:
            kind, message, text = _refusal(response)
            if kind == CREDENTIALS_REJECTED:
                raise ChannelFailure(kind, message)   # a fresh login, then a read before sending again
            if kind == PLATFORM_ERROR:
                return RetryLater(kind, message)
            return Rejected(kind, message, text)
        try:
            parse_answer(AkinonCancelAnswer, response)
        except UnreadableAnswer as unreadable:
            return Rejected(UNREADABLE_ANSWER, "Omnitron's answer to the cancel is not one kalem knows",
                            unreadable.body)
        return Done(f"cancelled order items {', '.join(str(i) for i in body.cancel_items)}")


def reason_map(account: ChannelAccount) -> dict[str, int]:
    """The account's map of kalem reason codes to the tenant's reason pks (empty: none)."""
    found = account.settings.get("reason_map") or {}
    return {str(code): int(pk) for code, pk in found.items()}


def omnitron_reason(kalem_reason_id: int | None, reasons: Mapping[str, int]) -> int:
    """The Omnitron reason pk for kalem's reason: the account's map of its code, else kalem's own id
    (the seller's request when the event names none)."""
    kalem_id = kalem_reason_id or SELLER_REQUEST
    return reasons.get(shared_code(kalem_id) or "", kalem_id)


def _first_reason(data: Mapping[str, Any]) -> int | None:
    for item in data.get("items") or ():
        if isinstance(item, Mapping) and isinstance(item.get("reason_id"), int):
            return int(item["reason_id"])
    return None


def _line_id(order_number: str, item: Any) -> str:
    return item.remote_id or f"{order_number}-{item.product.sku}"


def cancelled_by_line(order: AkinonOrder) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for item in order.orderitem_set:
        if item.status == CANCELLED:
            found[_line_id(order.number, item)] += 1
    return dict(found)


def cancel_body(order: Order, shown: AkinonOrder, reason_id: int) -> wire.CancelIn | Done | Rejected:
    """The cancel that brings Omnitron's order to kalem's cancelled units, or why none is sent."""
    on_omnitron = cancelled_by_line(shown)
    missing = {ln.line_id: ln.ledger.cancelled - on_omnitron.get(ln.line_id, 0) for ln in order.lines}
    missing = {line_id: n for line_id, n in missing.items() if n > 0}
    if not missing:
        return Done("Omnitron shows these units cancelled already")
    items: list[int] = []
    for item in shown.orderitem_set:
        line_id = _line_id(shown.number, item)
        if item.status == OPEN and missing.get(line_id, 0) > 0:
            items.append(item.pk)
            missing[line_id] -= 1
    short = {line_id: n for line_id, n in missing.items() if n > 0}
    if short:
        return Rejected(REFUSED, "Omnitron shows no open order item left to cancel: "
                                 + ", ".join(f"{line_id} x{n}" for line_id, n in short.items()))
    whole = all(item.status == CANCELLED or item.pk in items for item in shown.orderitem_set)
    # `forced_refund_amount` is Omnitron's internal override, null as its documentation asks; the
    # refund itself is Omnitron's, after its cancellation strategy.
    return wire.CancelIn(
        order=shown.pk, is_all=False, cancel_items=items, forced_refund_amount=None,
        reasons={str(pk): reason_id for pk in items},
        is_cargo_refund=whole,           # nothing of the order left to ship: its shipping is refunded too
        return_details=False)


def inbound_order(order: AkinonOrder) -> InboundOrder | None:
    """The Omnitron order as kalem takes it in: one line per `remote_id`, a unit per order item."""
    if not order.orderitem_set:
        return None
    quantity: dict[str, int] = defaultdict(int)
    discount: dict[str, Decimal] = defaultdict(Decimal)
    first: dict[str, Any] = {}
    for item in order.orderitem_set:
        line_id = _line_id(order.number, item)
        first.setdefault(line_id, item)
        quantity[line_id] += 1
        discount[line_id] += Decimal(item.discount_amount)
    lines = tuple(
        LineSpec(line_id=line_id, sku=item.product.sku, name=item.product.name, quantity=quantity[line_id],
                 unit_price=Decimal(item.retail_price), discount=discount[line_id], tax_rate=Decimal(item.tax_rate),
                 product_id=item.product.product_id, barcode=item.product.barcode)
        for line_id, item in first.items())
    spec = OrderSpec(seller_id="", order_number=order.number, currency=order.currency, lines=lines,
                     shipping_amount=Decimal(order.shipping_amount))
    return InboundOrder(spec, cancelled_by_line(order), reason_id=SELLER_REQUEST)


def connector() -> AkinonConnector:
    return AkinonConnector()
