"""kalem as an n11 seller: the client of n11's REST API (n11's REST API documentation), on the same
models as the n11 face (`wire.py`, `face/responses.py`).

Pulled: `GET /rest/delivery/v1/shipmentPackages` by date window (at most a month per request, oldest
change first), then each order seen again by `orderNumber`, so that every package of it is read. The
pull streams: the window's next page is read once the orders of the one before are taken in, so a pull
holds one page of orders however many the window has. An n11
order becomes one kalem order: one line per `stockCode` (n11 numbers a line per package, and a split
gives the parts new `orderLineId`s; the stock code stays), with the line's first `orderLineId` as its
kalem line id; units in `UnSupplied`/`Cancelled` packages are the cancelled ones.

Pushed: a cancel decided in kalem becomes `splitPackageByQuantity` with `cancelledItems` on a live
package that holds the line (approved first with `PUT /rest/order/v1/update` when it is still
`Created`: n11 splits only `Picking` packages). n11 has no idempotency key, so every push starts from
a read of the order's packages and sends only what n11 does not show cancelled yet: an attempt that
reached n11 before the sync was stopped is never applied again. n11 cannot cancel without splitting:
cancelling every live unit of a package is refused before it is sent (a dead letter that says so).
A package split decided in kalem becomes `splitPackageByQuantity` on the n11 package holding the split
package's units (`package_match`), one `splitPackages` entry per new package and `cancelledItems` for
the units it cancelled; the cancel event of such a split is sent with it, not on its own. The ids n11
gives the new packages are read back and kept (`Done.packages`), so that a later split addresses them;
an n11 package found split already, into packages holding what kalem's hold, is not split again.

Read (reconciliation): the order's packages by `orderNumber`, each line's units counted by its
package's status: `Created`/`Picking` open, `UnSupplied`/`Cancelled` cancelled, the rest (`Shipped`,
`Delivered`, …) shipped; a split package (`Unpacked`) lives on in its parts.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

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
from kalem.app.channel_connectors import UnreadableAnswer as _Unreadable
from kalem.app.channel_connectors import parse_answer as _parse
from kalem.domain.orders import LineSpec, Order, OrderSpec
from kalem.domain.reasons import StatusType, reasons
from kalem.platforms.n11 import wire
from kalem.platforms.n11.face.responses import N11Error, N11Result, N11ShipmentPackage, N11ShipmentPackagePage
from kalem.platforms.n11.package_match import LineUnits, SplitPlan, assign, content_of, split_plan
from kalem.store.channel_accounts import ChannelAccount

SHIPMENT_PACKAGES = "/rest/delivery/v1/shipmentPackages"
SPLIT_BY_QUANTITY = "/rest/delivery/v1/splitPackageByQuantity"
UPDATE_ORDER = "/rest/order/v1/update"
WINDOW = timedelta(days=30)       # the widest window n11 answers in one request
PAGE_SIZE = 100                   # n11's largest page
CANCELLED = {"UnSupplied", "Cancelled"}
LIVE = {"Created", "Picking"}
HISTORY = {"Unpacked"}            # a split package: its units live on in the packages split from it
OTHER_REASON = 65                 # n11's "Diğer"
RECENTLY_TAKEN = 1000             # order numbers a pull remembers, so as not to read an order twice in a row
RECENTLY_SEEN_PACKAGES = 20_000   # packages taken in that a sync remembers between pulls (a few MiB at most)

_N11_REASONS = {r.code: r.id for r in reasons(StatusType.CANCELLED, "n11")}
_KALEM_REASONS = {r.id: r.code for r in reasons(StatusType.CANCELLED)}
_FROM_N11 = {r.id: {k.code: k.id for k in reasons(StatusType.CANCELLED)}.get(r.code, 137)
             for r in reasons(StatusType.CANCELLED, "n11")}


def n11_reason(kalem_reason_id: int | None) -> int:
    """kalem's cancel reason as n11's, through the shared codes (`out_of_stock` → 61); else "other"."""
    return _N11_REASONS.get(_KALEM_REASONS.get(kalem_reason_id or 0, ""), OTHER_REASON)


def _refusal(response: httpx.Response) -> tuple[str, str, str]:
    """(kind, message, body) of an answer that is not a success."""
    body = response.text
    if response.status_code >= 500:
        return PLATFORM_ERROR, f"n11 answered HTTP {response.status_code}", body
    try:
        error = N11Error.model_validate_json(response.content)
    except ValidationError:
        return UNREADABLE_ANSWER, f"n11 answered HTTP {response.status_code} in no form kalem knows", body
    lowered = error.errorCode.lower()
    if response.status_code in (401, 403) or "authentication" in lowered or "credential" in lowered:
        return CREDENTIALS_REJECTED, f"n11 refused the appkey/appsecret ({error.errorCode})", body
    return REFUSED, f"{error.errorCode}: {error.errorMessage}", body


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


class _Watermark:
    """The newest `lastModifiedDate` a pull has read (ms), as a string once the pull is over."""

    def __init__(self, since: int | None) -> None:
        self.newest = since

    def saw(self, modified: int) -> None:
        self.newest = max(self.newest or 0, modified)

    def value(self) -> str | None:
        return None if self.newest is None else str(self.newest)


@dataclass
class N11Connector:
    platform: str = "n11"
    credential_names: tuple[str, ...] = ("appkey", "appsecret")
    pushes: frozenset[str] = frozenset({"lines.cancelled", "cancel_request.approved", "package.split"})
    timeout: float = 10.0
    page_size: int = PAGE_SIZE
    transport: httpx.BaseTransport | None = None  # httpx's own unless given (a test counts the requests)
    # Per account, the packages this process has taken in, with their lastModifiedDate: a pull starts at
    # the last one's date (inclusive), and many packages may share it (a bulk change on n11), so
    # without this each pull would read all of them and their orders again.
    _seen: dict[str, OrderedDict[str, int]] = field(default_factory=dict, repr=False)

    def _client(self, account: ChannelAccount) -> httpx.Client:
        creds = account.credentials or {}
        return http_client(account.base_url, timeout=self.timeout, transport=self.transport,
                           headers={"appkey": creds.get("appkey", ""), "appsecret": creds.get("appsecret", "")})

    # --- reading ---------------------------------------------------------------------------------

    def _page(self, client: httpx.Client, params: Mapping[str, Any]) -> N11ShipmentPackagePage:
        try:
            response = client.get(SHIPMENT_PACKAGES, params=dict(params))
        except httpx.HTTPError as error:
            raise ChannelFailure(UNREACHABLE, f"n11 did not answer: {type(error).__name__}") from None
        if response.status_code == 429:   # wait as n11 asks, not as our backoff guesses
            raise throttled("n11", response.headers, response.text)
        if response.status_code != 200:
            raise ChannelFailure(*_refusal(response))
        try:
            return _parse(N11ShipmentPackagePage, response)
        except _Unreadable as unreadable:
            raise ChannelFailure(UNREADABLE_ANSWER, "n11's shipmentPackages answer is not one kalem knows",
                                 unreadable.body) from None

    def _pages(self, client: httpx.Client, **params: Any) -> Iterator[list[N11ShipmentPackage]]:
        """Each page of packages in turn, read only when the one before has been used."""
        page = 0
        while True:
            answer = self._page(client, {**params, "page": page, "size": self.page_size,
                                        "orderByDirection": "ASC"})
            yield answer.content
            page += 1
            if page >= answer.totalPages or not answer.content:
                return

    def _window(self, client: httpx.Client, start: int, end: int) -> Iterator[list[N11ShipmentPackage]]:
        """The packages changed in [start, end] (ms), oldest change first, a page at a time. Each page
        after the first starts at the last change the page before showed (inclusive; those read again
        are skipped by the caller), not at the next page number: a package changed during the pull moves
        behind that point, so nothing unread slides onto a page already read. Only a page whose every
        package changed in that same millisecond is stepped through by page number."""
        page = 0
        while True:
            answer = self._page(client, {"startDate": start, "endDate": end, "page": page,
                                         "size": self.page_size, "orderByDirection": "ASC"})
            yield answer.content
            if page + 1 >= answer.totalPages or not answer.content:
                return
            last = answer.content[-1].lastModifiedDate
            start, page = (last, 0) if last > start else (start, page + 1)

    def _packages(self, client: httpx.Client, **params: Any) -> list[N11ShipmentPackage]:
        return [package for page in self._pages(client, **params) for package in page]

    def _order_packages(self, client: httpx.Client, order_number: str) -> list[N11ShipmentPackage]:
        return [p for p in self._packages(client, orderNumber=order_number) if p.orderNumber == order_number]

    def pull(self, account: ChannelAccount, since: str | None) -> Pulled:
        """Streamed: a page of the window is read when the orders of the one before have been taken in."""
        progress = _Watermark(int(since) if since else None)
        return Pulled(self._pull(account, since, progress), watermark_read=progress.value)

    def _pull(self, account: ChannelAccount, since: str | None, progress: _Watermark) -> Iterator[InboundOrder]:
        now = datetime.now(UTC)
        start = datetime.fromtimestamp(int(since) / 1000, UTC) if since else now - WINDOW
        # The packages of one order are mostly changed together, so they come close in the window: the
        # orders taken lately are not read again; one seen again further on is read again (harmless).
        taken: OrderedDict[str, None] = OrderedDict()
        seen = self._seen.setdefault(account.id, OrderedDict())
        with self._client(account) as client:
            while start <= now:
                end = min(start + WINDOW, now)
                for page in self._window(client, _ms(start), _ms(end)):
                    for package in page:
                        progress.saw(package.lastModifiedDate)
                        if package.orderNumber in taken or seen.get(package.id) == package.lastModifiedDate:
                            continue
                        taken[package.orderNumber] = None
                        if len(taken) > RECENTLY_TAKEN:
                            taken.popitem(last=False)
                        packages = self._order_packages(client, package.orderNumber)
                        inbound = inbound_order(package.orderNumber, packages)
                        if inbound is not None:
                            yield inbound
                        # Resumed: the sync has taken the order in (or refused it with its code).
                        for shown in packages:
                            seen[shown.id] = shown.lastModifiedDate
                            seen.move_to_end(shown.id)
                        while len(seen) > RECENTLY_SEEN_PACKAGES:
                            seen.popitem(last=False)
                start = end + timedelta(milliseconds=1)

    def read(self, account: ChannelAccount, order: Order) -> ChannelView | None:
        with self._client(account) as client:
            packages = self._order_packages(client, order.order_number)
        inbound = inbound_order(order.order_number, packages)
        if inbound is None:
            return None
        counts: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "cancelled": 0, "shipped": 0})
        for package in packages:
            if package.shipmentPackageStatus in HISTORY:
                continue
            kind = ("open" if package.shipmentPackageStatus in LIVE else
                    "cancelled" if package.shipmentPackageStatus in CANCELLED else "shipped")
            for line in package.lines:
                counts[line.stockCode][kind] += line.quantity
        by_sku = {ln.sku: ln.line_id for ln in order.lines}
        return ChannelView({by_sku[sku]: LineView(open=c["open"], cancelled=c["cancelled"], shipped=c["shipped"])
                            for sku, c in counts.items() if sku in by_sku}, inbound)

    # --- writing ---------------------------------------------------------------------------------

    def push(self, account: ChannelAccount, request: PushRequest) -> Outcome:
        if request.event_type == "package.split":
            return self._push_split(account, request)
        if request.data.get("via") == "split":
            return Done("sent with the package split that cancelled these units")
        order = request.order
        wanted = {ln.sku: ln.ledger.cancelled for ln in order.lines}
        reason = n11_reason(_first_reason(request.data))
        with self._client(account) as client:
            try:
                packages = self._order_packages(client, order.order_number)
            except ChannelFailure as failure:
                return _failed(failure)
            if not packages:
                return RetryLater(REFUSED, f"n11 shows no package of order {order.order_number} yet")
            shown = cancelled_by_sku(packages)
            missing = {sku: n - shown.get(sku, 0) for sku, n in wanted.items() if n > shown.get(sku, 0)}
            if not missing:
                return Done("n11 shows these units cancelled already")
            for package in packages:
                if package.shipmentPackageStatus not in LIVE or not missing:
                    continue
                outcome = self._cancel_in(client, package, missing, reason)
                if outcome is not None:
                    return outcome
        if missing:
            return Rejected(REFUSED, "n11 shows no live package holding the units to cancel: "
                                     + ", ".join(f"{sku} x{n}" for sku, n in missing.items()))
        return Done()

    def _cancel_in(self, client: httpx.Client, package: N11ShipmentPackage, missing: dict[str, int],
                   reason: int) -> Outcome | None:
        """Cancels what it can of `missing` in one package (updating `missing`); an outcome only when
        the push must stop here."""
        cancelled: list[wire.CancelledItem] = []
        kept: list[wire.PackageDetail] = []
        for line in package.lines:
            if line.orderLineId is None:
                continue
            take = min(missing.get(line.stockCode, 0), line.quantity)
            if take:
                cancelled.append(wire.CancelledItem(cancelReasonId=reason, orderLineId=line.orderLineId,
                                                    quantity=take))
            if line.quantity - take:
                kept.append(wire.PackageDetail(orderLineId=line.orderLineId, quantities=line.quantity - take))
        if not cancelled:
            return None
        if not kept:
            return Rejected(REFUSED, f"n11 cancels only together with a split: package {package.id} would keep "
                                     "no unit (n11's splitPackageByQuantity documentation)")
        if package.shipmentPackageStatus == "Created":
            update = wire.UpdateOrder(lines=[wire.UpdateLine(lineId=ln.orderLineId) for ln in package.lines
                                             if ln.orderLineId is not None], status="Picking")
            failed = self._send(client, "PUT", UPDATE_ORDER, update)
            if failed is not None:
                return failed
        body = wire.SplitByQuantity(splitPackages=[wire.SplitPackage(packageDetails=kept)], cancelledItems=cancelled)
        failed = self._send(client, "POST", SPLIT_BY_QUANTITY, body)
        if failed is not None:
            return failed
        for item in cancelled:
            sku = next(ln.stockCode for ln in package.lines if ln.orderLineId == item.orderLineId)
            missing[sku] -= item.quantity
            if not missing[sku]:
                del missing[sku]
        return None

    def _push_split(self, account: ChannelAccount, request: PushRequest) -> Outcome:
        """A split decided in kalem: the n11 package holding the split package's units split the same
        way, cancelling the same units, and the ids n11 gives the new packages learnt."""
        plan = split_plan(request.data, request.order)
        known = dict(request.packages)
        parent = next((p for p in request.order.packages if p.package_id == plan.package_id), None)
        if plan.package_id not in known and parent is not None and parent.parent_id is not None:
            return RetryLater(REFUSED, f"package {plan.package_id} is not on n11 yet: the push of the split "
                                       "that made it has not landed")
        with self._client(account) as client:
            try:
                packages = self._order_packages(client, request.order.order_number)
            except ChannelFailure as failure:
                return _failed(failure)
            if not packages:
                return RetryLater(REFUSED, f"n11 shows no package of order {request.order.order_number} yet")
            found = _split_target(plan, packages, known)
            if not isinstance(found, N11ShipmentPackage):
                return found
            target = found
            if target.shipmentPackageStatus == "Created":  # approved in kalem before its split: n11 splits only Picking
                update = wire.UpdateOrder(lines=[wire.UpdateLine(lineId=ln.orderLineId) for ln in target.lines
                                                 if ln.orderLineId is not None], status="Picking")
                failed = self._send(client, "PUT", UPDATE_ORDER, update)
                if failed is not None:
                    return failed
            status = target.shipmentPackageStatus
            failed = self._send(client, "POST", SPLIT_BY_QUANTITY, _split_body(plan, target),
                                refused=f"n11 refused to split package {target.id}" + (
                                    "" if status in LIVE else f" ({status} on n11; n11 splits only Picking packages)"))
            if failed is not None:
                return failed
            try:  # the ids n11 gave the new packages, for the later pushes that name them
                after = self._order_packages(client, request.order.order_number)
            except ChannelFailure as failure:
                return RetryLater(failure.kind, f"the split landed; n11's new packages not read yet: {failure.message}")
        before = {p.id for p in packages}
        made = assign(plan.parts, [p for p in after if p.id not in before and p.shipmentPackageStatus in LIVE])
        return Done(packages={plan.package_id: target.id, **(made or {})})

    def _send(self, client: httpx.Client, method: str, path: str, body: BaseModel,
              refused: str | None = None) -> Outcome | None:
        try:
            response = client.request(method, path, json=body.model_dump(mode="json", exclude_defaults=True))
        except httpx.HTTPError as error:
            return RetryLater(UNREACHABLE, f"n11 did not answer: {type(error).__name__}")
        if response.status_code == 429:
            limited = throttled("n11", response.headers, response.text)
            return RetryLater(limited.kind, limited.message, limited.retry_after)
        if response.status_code != 200:
            kind, message, text = _refusal(response)
            if kind in (CREDENTIALS_REJECTED, PLATFORM_ERROR):
                return RetryLater(kind, message)
            return Rejected(kind, f"{refused}: {message}" if refused else message, text)
        if path == UPDATE_ORDER:
            return None  # a per-line answer; the split that follows says whether the approval took
        try:
            answer = _parse(N11Result, response)
        except _Unreadable as unreadable:
            return Rejected(UNREADABLE_ANSWER, "n11's answer is not one kalem knows", unreadable.body)
        if answer.code != 200:
            return Rejected(REFUSED, f"n11 answered code {answer.code}: {answer.message}", response.text)
        return None


def _split_target(plan: SplitPlan, packages: list[N11ShipmentPackage],
                  known: Mapping[str, str]) -> N11ShipmentPackage | Outcome:
    """The n11 package to split as kalem split `plan.package_id`, or the outcome when there is none
    to split: done already (an attempt that reached n11 before the sync was stopped), or none holding
    its units. The package learnt for it, unless n11 has split it or cancelled units of it since (its
    live units are then in a new package); else a live one holding the same units that no other kalem
    package is known by."""
    by_id = {p.id: p for p in packages}
    mine = by_id.get(known.get(plan.package_id, ""))
    if mine is not None and mine.shipmentPackageStatus not in CANCELLED | HISTORY:
        return mine  # live, to split; or shipped meanwhile, which n11 refuses in its own words
    others = {n11_id for package_id, n11_id in known.items() if package_id != plan.package_id}
    free = [p for p in packages if p.shipmentPackageStatus in LIVE and p.id not in others and p is not mine]
    holding = [p for p in free if content_of(p) == plan.whole]
    if holding:
        return holding[0]
    made = assign(plan.parts, free)
    if made is not None:  # split already, by an attempt that never heard n11's answer
        return Done("n11 shows this split already", {**made, **({plan.package_id: mine.id} if mine else {})})
    # None live: the package holding the units as n11 shows it, whose status n11 refuses in its own words.
    shown = next((p for p in packages if p.id not in others and p.shipmentPackageStatus not in CANCELLED | HISTORY
                  and content_of(p) == plan.whole), None)
    if shown is not None:
        return shown
    return Rejected(REFUSED, f"n11 shows no package holding the units of package {plan.package_id}: "
                             + ", ".join(f"{sku} x{n}" for sku, n in sorted(plan.whole.items())))


def _split_body(plan: SplitPlan, target: N11ShipmentPackage) -> wire.SplitByQuantity:
    units = LineUnits(target)
    cancelled = [wire.CancelledItem(cancelReasonId=n11_reason(reason), orderLineId=order_line_id, quantity=n)
                 for sku, quantity, reason in plan.cancelled for order_line_id, n in units.take(sku, quantity)]
    groups = [wire.SplitPackage(packageDetails=[wire.PackageDetail(orderLineId=order_line_id, quantities=n)
                                                for sku, quantity in part.items()
                                                for order_line_id, n in units.take(sku, quantity)])
              for _, part in plan.parts]
    return wire.SplitByQuantity(splitPackages=groups, cancelledItems=cancelled)


def _failed(failure: ChannelFailure) -> Outcome:
    if failure.kind == UNREADABLE_ANSWER:
        return Rejected(failure.kind, failure.message, failure.body)
    return RetryLater(failure.kind, failure.message)


def _first_reason(data: Mapping[str, Any]) -> int | None:
    for item in data.get("items") or ():
        if isinstance(item, Mapping) and isinstance(item.get("reason_id"), int):
            return int(item["reason_id"])
    return None


def cancelled_by_sku(packages: Iterable[N11ShipmentPackage]) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for package in packages:
        if package.shipmentPackageStatus in CANCELLED:
            for line in package.lines:
                found[line.stockCode] += line.quantity
    return dict(found)


def inbound_order(order_number: str, packages: list[N11ShipmentPackage]) -> InboundOrder | None:
    """The n11 order as kalem takes it in: one line per stock code, its units the live ones' sum."""
    if not packages:
        return None
    first_id: dict[str, int | None] = {}
    quantity: dict[str, int] = defaultdict(int)
    discount: dict[str, Decimal] = defaultdict(Decimal)
    shown: dict[str, Any] = {}
    for package in packages:
        for line in package.lines:
            ids = [i for i in (first_id.get(line.stockCode), line.orderLineId) if i is not None]
            first_id[line.stockCode] = min(ids) if ids else None
            shown.setdefault(line.stockCode, line)
            if package.shipmentPackageStatus not in HISTORY:
                quantity[line.stockCode] += line.quantity
                discount[line.stockCode] += Decimal(str(line.sellerDiscount))
    lines = tuple(
        LineSpec(line_id=line_id_of(order_number, sku, first_id[sku]), sku=sku, name=shown[sku].productName,
                 quantity=quantity[sku], unit_price=Decimal(str(shown[sku].price)), discount=discount[sku],
                 tax_rate=Decimal(str(shown[sku].vatRate)), product_id=shown[sku].productId,
                 barcode=shown[sku].barcode)
        for sku in shown if quantity[sku] > 0)
    spec = OrderSpec(seller_id="", order_number=order_number, currency="TRY", lines=lines,
                     destination_country=packages[0].countryCode)
    cancelled = cancelled_by_sku(packages)
    return InboundOrder(spec, {line_id_of(order_number, sku, first_id[sku]): n for sku, n in cancelled.items()
                               if sku in quantity}, reason_id=_FROM_N11[OTHER_REASON])


def line_id_of(order_number: str, sku: str, first_order_line_id: int | None) -> str:
    return str(first_order_line_id) if first_order_line_id is not None else f"{order_number}-{sku}"


def connector() -> N11Connector:
    return N11Connector()

