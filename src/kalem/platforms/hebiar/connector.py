"""kalem as a Hebiar OMS operator: the client of Hebiar OMS's API (Hebiar OMS's API documentation), on the
same models as the Hebiar face (`wire.py`, `face/responses.py`).

The operator is the sales channel that hands its orders to the OMS, where the sellers work them. kalem
plays it: it reads the OMS's packages, asks the seller to cancel unit lines, and reports the unit lines
it cancelled itself; the seller's decisions come back by the OMS's webhooks (`face/inbound.py`).

Credentials are an OMS user's `UserName` and `Password` (`POST /Auth/login`, then
`Authorization: Bearer <token>` until the token expires or is refused), and `webhookSecret`, what the
OMS sends to authenticate its webhooks to kalem.

Pulled: `GET /orders/GetOrderPackages`, oldest first from a little before the newest order date seen
(`StartDate`, Unix milliseconds), page by page. The OMS numbers one unit per unit line
(`<sourceOrderItemId>-<n>`): the unit lines of one `sourceOrderItemId` are one kalem line, their count
its quantity, those with `isCancel` its cancelled units; each unit's package status is what kalem's
package follows (Picked, Shipped, Delivered).

Read (reconciliation): the order's packages, as a pull reads them; besides the counts, what the OMS
shows decided of the units kalem's pending cancel requests hold, so that a decision whose hook was lost
is taken (`ChannelView.decided`).

Pushed: a cancel request asked in kalem becomes `POST /Orders/CreateOrderItemLineCancelRequest`; a
cancel decided in kalem, `POST /Orders/CancelOrderItemLineList`. The OMS documents no idempotency, so
every push starts from a read of the order's packages (`OrderNumber`) and sends only what the OMS does
not show yet: an attempt that reached the OMS before the sync was stopped is never applied again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    ChannelView,
    Decided,
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
from kalem.app.channel_tokens import BearerTokens
from kalem.domain.money import quantize
from kalem.domain.orders import LineSpec, Order, OrderSpec, PackageStatus, UnitState
from kalem.domain.reasons import StatusType, reasons
from kalem.platforms.hebiar import wire
from kalem.platforms.hebiar.face.responses import (
    HebiarItemLine,
    HebiarLoginResult,
    HebiarPackage,
    HebiarPackagePage,
    HebiarResult,
)
from kalem.platforms.hebiar.history import numbers
from kalem.platforms.hebiar.units import PACKAGE_STATUS_NAMES, parse_unit_line, unit_line_id
from kalem.store.channel_accounts import ChannelAccount

LOGIN = "/Auth/login"
PACKAGES = "/orders/GetOrderPackages"
CANCEL_REQUEST = "/Orders/CreateOrderItemLineCancelRequest"
CANCEL = "/Orders/CancelOrderItemLineList"
PAGE_SIZE = 100                  # the OMS face's largest `size`
#: Orders dated this long before the newest order date seen are read again: an order committed while a
#: pull was reading may carry an earlier date than one the pull saw.
OVERLAP = timedelta(minutes=10)
FIRST_WINDOW = timedelta(days=30)
SELLER_REQUEST = 137             # kalem's `seller_request`: the OMS shows no reason code on a unit line
SHIPPED = frozenset({"Shipped", "Delivered", "Returned"})
#: The OMS's package statuses kalem's packages follow (app/channel_packages.py), by their OMS names.
FOLLOWED = {PACKAGE_STATUS_NAMES[s]: s for s in (PackageStatus.CREATED, PackageStatus.PICKING,
                                                  PackageStatus.SHIPPED, PackageStatus.DELIVERED)}

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _refusal(response: httpx.Response) -> tuple[str, str, str]:
    """(kind, message, body) of an answer that is not a success; the OMS's envelope carries the reason."""
    status, body = response.status_code, response.text
    if status >= 500:
        return PLATFORM_ERROR, f"the OMS answered HTTP {status}", body
    if status in (401, 403):
        return CREDENTIALS_REJECTED, f"the OMS refused the user's credentials (HTTP {status})", body
    if not body.lstrip().startswith("{"):
        return UNREADABLE_ANSWER, f"the OMS answered HTTP {status} in no form kalem knows", body
    return REFUSED, f"the OMS refused the call (HTTP {status}): {body[:500]}", body


def _parse(model: type[M], response: httpx.Response, what: str) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        raise ChannelFailure(UNREADABLE_ANSWER, f"the OMS's {what} is not one kalem knows", response.text) from None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class HebiarConnector:
    platform: str = "hebiar"
    credential_names: tuple[str, ...] = ("UserName", "Password", "webhookSecret")
    pushes: frozenset[str] = frozenset({"lines.cancelled", "cancel_request.created"})
    timeout: float = 10.0
    _tokens: BearerTokens = field(default_factory=lambda: BearerTokens("UserName", "Password"), repr=False)

    def _login(self, client: httpx.Client, account: ChannelAccount) -> str:
        creds = account.credentials or {}
        login = wire.HebiarLogin(UserName=creds.get("UserName") or "-", Password=creds.get("Password") or "-")
        response = self._call(client, "POST", LOGIN, login.model_dump(mode="json"))
        if response.status_code == 400:   # a login refused: the OMS documents no status for it
            raise ChannelFailure(CREDENTIALS_REJECTED, "the OMS refused the user's credentials (HTTP 400)")
        if response.status_code != 200:
            raise ChannelFailure(*_refusal(response))
        answer = _parse(HebiarLoginResult, response, "login answer")
        expires = _time(answer.expire)
        left = (expires - datetime.now(UTC)).total_seconds() if expires else 0.0
        return self._tokens.keep(account, answer.token, left)

    @staticmethod
    def _call(client: httpx.Client, method: str, path: str, body: Any = None,
              params: Mapping[str, Any] | None = None) -> httpx.Response:
        try:
            response = client.request(method, path, json=body, params=dict(params) if params else None,
                                      headers={"accept": "text/plain"})
        except httpx.HTTPError as error:
            raise ChannelFailure(UNREACHABLE, f"the OMS did not answer: {type(error).__name__}") from None
        if response.status_code == 429:   # e.g. the login locked after failed attempts: wait as asked
            raise throttled("the OMS", response.headers, response.text)
        return response

    def _authorized(self, account: ChannelAccount, work: Callable[[httpx.Client], T]) -> T:
        return self._tokens.authorized(account, self._login, work, timeout=self.timeout)

    # --- reading ---------------------------------------------------------------------------------

    def _page(self, client: httpx.Client, params: Mapping[str, Any]) -> HebiarPackagePage:
        response = self._call(client, "GET", PACKAGES, params=params)
        if response.status_code != 200:
            raise ChannelFailure(*_refusal(response))
        return _parse(HebiarPackagePage, response, "package list")

    def _packages(self, client: httpx.Client, start: datetime) -> Iterator[HebiarPackage]:
        params: dict[str, Any] = {"StartDate": str(int(start.timestamp() * 1000)), "orderByField": "orderDate",
                                  "orderByDirection": "ASC", "size": PAGE_SIZE}
        page = 0
        while True:
            found = self._page(client, params | {"page": page})
            yield from found.data
            page += 1
            if not found.data or page >= found.totalPages:
                return

    def _order(self, client: httpx.Client, number: str) -> list[HebiarPackage]:
        """Every package of one order (the OMS pages them like any listing)."""
        packages: list[HebiarPackage] = []
        page = 0
        while True:
            found = self._page(client, {"OrderNumber": number, "size": PAGE_SIZE, "page": page})
            packages.extend(p for p in found.data if p.orderNumber == number)
            page += 1
            if not found.data or page >= found.totalPages:
                return packages

    def pull(self, account: ChannelAccount, since: str | None) -> Pulled:
        """A streamed pull: the OMS is read a page at a time while the sync takes each order in."""
        after = _time(since)
        start = after - OVERLAP if after is not None else datetime.now(UTC) - FIRST_WINDOW
        newest: list[datetime | None] = [after]
        # The first page is read now, so that refused credentials fail the pull before the stream starts.
        token = self._authorized(account, lambda client: client.headers["Authorization"])

        def orders() -> Iterator[InboundOrder]:
            with http_client(account.base_url, timeout=self.timeout, headers={"Authorization": token}) as client:
                group: list[HebiarPackage] = []
                for package in self._packages(client, start):
                    if group and group[0].orderNumber != package.orderNumber:
                        yield from _taken(group, newest)
                        group = []
                    group.append(package)
                if group:
                    yield from _taken(group, newest)

        def watermark() -> str | None:
            return newest[0].isoformat() if newest[0] is not None else since

        return Pulled(orders(), watermark_read=watermark)

    def read(self, account: ChannelAccount, order: Order) -> ChannelView | None:
        packages = self._authorized(account, lambda client: self._order(client, order.order_number))
        inbound = inbound_order(packages)
        if inbound is None:
            return None
        views: dict[str, LineView] = {}
        decided: dict[str, Decided] = {}
        for line_id, units in _units(packages).items():
            cancelled = sum(1 for unit, _ in units if unit.isCancel)
            shipped = sum(1 for unit, status in units if not unit.isCancel and status in SHIPPED)
            # A unit neither cancelled, shipped nor offered for a cancel request waits on one.
            pending = sum(1 for unit, status in units
                          if not unit.isCancel and status not in SHIPPED and not unit.isAvaibleCancelRequest)
            views[line_id] = LineView(cancelled=cancelled, alive=len(units) - cancelled, shipped=shipped,
                                      pending_cancel=pending)
            decided[line_id] = _decided(units)
        return ChannelView(views, inbound, decided)

    # --- writing ---------------------------------------------------------------------------------

    def push(self, account: ChannelAccount, request: PushRequest) -> Outcome:
        try:
            return self._authorized(account, lambda client: self._push(client, request))
        except ChannelFailure as failure:
            if failure.kind in (UNREADABLE_ANSWER, REFUSED):
                return Rejected(failure.kind, failure.message, failure.body)
            return RetryLater(failure.kind, failure.message, failure.retry_after)

    def _push(self, client: httpx.Client, request: PushRequest) -> Outcome:
        order = request.order
        packages = self._order(client, order.order_number)
        if not packages:
            return RetryLater(REFUSED, f"the OMS shows no order {order.order_number} yet")
        shown = _units(packages)
        if request.event_type == "cancel_request.created":
            body = request_body(order, shown, request.data)
            path, what = CANCEL_REQUEST, "cancel request"
        else:
            body = cancel_body(order, shown, request.data)
            path, what = CANCEL, "cancel"
        if isinstance(body, Done | Rejected):
            return body
        response = self._call(client, "POST", path, [line.model_dump(mode="json") for line in body])
        if response.status_code != 200:
            kind, message, text = _refusal(response)
            if kind in (CREDENTIALS_REJECTED, PLATFORM_ERROR):
                raise ChannelFailure(kind, message)   # a fresh login (or a later attempt), then a read first
            return Rejected(kind, message, text)
        answer = _parse(HebiarResult, response, f"answer to the {what}")
        if not answer.isSuccess:
            return Rejected(REFUSED, f"the OMS refused the {what}: {response.text[:500]}", response.text)
        return Done(f"{what}: {', '.join(line.sourceOrderItemLineId for line in body)}")


def _taken(group: Sequence[HebiarPackage], newest: list[datetime | None]) -> Iterator[InboundOrder]:
    dated = _time(group[0].orderDate)
    if dated is not None and (newest[0] is None or dated > newest[0]):
        newest[0] = dated
    inbound = inbound_order(group)
    if inbound is not None:
        yield inbound


Shown = dict[str, list[tuple[HebiarItemLine, str]]]   # line id → its unit lines, each with its package's status


def _units(packages: Sequence[HebiarPackage]) -> Shown:
    """Every unit line of the order once (a unit shows in one package), by kalem line, numbered."""
    found: dict[str, dict[int, tuple[HebiarItemLine, str]]] = defaultdict(dict)
    for package in packages:
        for line in package.lines:
            for unit in line.itemLines:
                line_id, n = parse_unit_line(unit.sourceOrderItemLineId)
                found[line_id].setdefault(n, (unit, package.status))
    return {line_id: [units[n] for n in sorted(units)] for line_id, units in found.items()}


def _decided(units: list[tuple[HebiarItemLine, str]]) -> Decided:
    """What the OMS shows of a line's units as to a cancel request: cancelled (`isCancel`), or open with
    no request waiting (offered for a cancel request again: the seller refused it, or approved fewer
    units). A refusal's reason is the seller's `rejectReason` (the reason's Turkish name: kalem's
    denial reason of that name, or its first)."""
    refused = [unit for unit, _ in units if not unit.isCancel and unit.isAvaibleCancelRequest]
    denials = reasons(StatusType.CANCEL_REQUEST_DENIED)
    named = {r.name_tr: r.id for r in denials}
    why = next((named.get(unit.rejectReason, denials[0].id) for unit in refused if unit.rejectReason), None)
    return Decided(cancelled=frozenset(parse_unit_line(u.sourceOrderItemLineId)[1] for u, _ in units if u.isCancel),
                   refused=frozenset(parse_unit_line(u.sourceOrderItemLineId)[1] for u in refused), reason_id=why)


def inbound_order(packages: Sequence[HebiarPackage]) -> InboundOrder | None:
    """The OMS's order as kalem takes it in: one line per `sourceOrderItemId`, a unit per unit line."""
    if not packages:
        return None
    first = packages[0]
    products = {unit.sourceOrderItemId: line for package in packages for line in package.lines
                for unit in line.itemLines}
    units = _units(packages)
    currency = next((line.currency for package in packages for line in package.lines), "TRY")
    lines = tuple(
        LineSpec(line_id=line_id, sku=products[line_id].sku, name=products[line_id].productName,
                 quantity=len(shown), unit_price=quantize(Decimal(str(products[line_id].productPrice)), currency),
                 barcode=products[line_id].barcode)
        for line_id, shown in units.items() if line_id in products)
    if not lines:
        return None
    spec = OrderSpec(seller_id="", order_number=first.orderNumber, currency=currency, lines=lines)
    cancelled = {line_id: sum(1 for unit, _ in shown if unit.isCancel) for line_id, shown in units.items()}
    steps = {line_id: {parse_unit_line(unit.sourceOrderItemLineId)[1]: FOLLOWED[status]
                       for unit, status in shown if status in FOLLOWED and not unit.isCancel}
             for line_id, shown in units.items()}
    return InboundOrder(spec, cancelled, reason_id=SELLER_REQUEST, unit_status=steps)


def _reason(data: Mapping[str, Any], line_id: str) -> tuple[int, str | None]:
    for item in data.get("items") or ():
        if isinstance(item, Mapping) and item.get("line_id") == line_id and isinstance(item.get("reason_id"), int):
            return int(item["reason_id"]), item.get("note")
    return SELLER_REQUEST, None


def _pick(shown: list[tuple[HebiarItemLine, str]], wanted: int, prefer: set[int]) -> list[HebiarItemLine]:
    """`wanted` unit lines the OMS lets a cancel name, kalem's own unit numbers first."""
    open_units = [unit for unit, _ in shown if unit.isAvaibleCancelRequest]
    open_units.sort(key=lambda unit: (parse_unit_line(unit.sourceOrderItemLineId)[1] not in prefer,
                                      parse_unit_line(unit.sourceOrderItemLineId)[1]))
    return open_units[:wanted]


def cancel_body(order: Order, shown: Shown, data: Mapping[str, Any]) -> list[wire.LineCancel] | Done | Rejected:
    """CancelOrderItemLineList for the units kalem cancelled that the OMS does not show cancelled yet."""
    body: list[wire.LineCancel] = []
    short: list[str] = []
    for line in order.lines:
        units = shown.get(line.line_id, [])
        missing = line.ledger.cancelled - sum(1 for unit, _ in units if unit.isCancel)
        if missing <= 0:
            continue
        picked = _pick(units, missing, set(line.units_in(UnitState.CANCELLED)))
        if len(picked) < missing:
            short.append(f"{line.line_id} x{missing - len(picked)}")
        reason_id, note = _reason(data, line.line_id)
        body += [wire.LineCancel(sourceOrderItemLineId=unit.sourceOrderItemLineId, quantity=1, reasonId=reason_id,
                                 reasonDesc=note) for unit in picked]
    if short:
        return Rejected(REFUSED, "the OMS shows no unit line left to cancel (shipped, or awaiting a cancel "
                                 "request): " + ", ".join(short))
    return body or Done("the OMS shows these units cancelled already")


def request_body(order: Order, shown: Shown, data: Mapping[str, Any]) -> list[wire.LineCancel] | Done | Rejected:
    """CreateOrderItemLineCancelRequest for the units the request reserves in kalem that the OMS still
    lets a request name. A unit the OMS no longer offers is requested already (an earlier attempt),
    decided already, or shipped: the OMS's webhooks and the next pull say which."""
    body: list[wire.LineCancel] = []
    for item in data.get("items") or ():
        if not isinstance(item, Mapping) or not isinstance(item.get("line_id"), str):
            continue
        line_id = item["line_id"]
        line = next((ln for ln in order.lines if ln.line_id == line_id), None)
        if line is None:
            continue
        pending = set(numbers(dict(item))) & set(line.units_in(UnitState.PENDING_CANCEL))
        offered = {parse_unit_line(unit.sourceOrderItemLineId)[1] for unit, _ in shown.get(line_id, [])
                   if unit.isAvaibleCancelRequest}
        reason_id, note = _reason(data, line_id)
        body += [wire.LineCancel(sourceOrderItemLineId=unit_line_id(line_id, n), quantity=1, reasonId=reason_id,
                                 reasonDesc=note) for n in sorted(pending & offered)]
    return body or Done("the OMS shows no unit of this request left to ask for")


def connector() -> HebiarConnector:
    return HebiarConnector()
