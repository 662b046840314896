"""Reconciliation: each channel's view of an order compared with kalem's ledger, unit by unit, and the
drift found resolved by the seller (`kalem reconcile`, the sync's periodic job, docs/channels.md).

For every order of an account's channel (those placed in the last `window`), the connector reads the
order as the platform shows it (`Reader.read`) and each line's open, cancelled and shipped units are
compared with kalem's (only what the platform shows: some show only the units left of a line). An order
with a push still on its way is not compared: the difference is one the outbox is already closing.
What differs is stored (`channel_drift`, one row per order) until a later reconciliation finds the
two agreeing, or the seller resolves it:

- *take the platform's state*: the order is read again; a cancel request of kalem's that the platform
  shows decided (a platform that decides them, `ChannelView.decided`) is decided the same way, through
  the same use case as a decision in the hub — which closes what a lost decision webhook left pending;
  then the order is taken in through the same use cases as a pull (`channel_sync.take_in`), so kalem
  cancels what the platform has cancelled;
- *push kalem's*: the order's latest change is queued again in the channel outbox, and the connector
  sends the platform what it does not show yet.

Neither can take back a cancelled unit: the side that cancelled more is the one to follow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from kalem.app.cancellation import DecideCancelRequest, decide_cancel_request
from kalem.app.channel_connectors import ChannelFailure, ChannelView, Connector, Decided, Reader
from kalem.app.channel_sync import principal_of, take_in
from kalem.app.channels import ChannelAccountNotFound
from kalem.app.ids import new_id
from kalem.app.principals import Principal
from kalem.domain.errors import Conflict, KalemError, NotFound
from kalem.domain.orders import Order
from kalem.domain.reasons import StatusType, reasons
from kalem.store.channel_accounts import ChannelAccount
from kalem.store.channel_drift import Drift
from kalem.store.uow import UnitOfWork

#: How far back a reconciliation looks: orders placed earlier are settled, as far as a channel goes.
WINDOW = timedelta(days=30)
RECONCILED, NOT_RECONCILABLE, FAILED = "reconciled", "not_reconcilable", "failed"
Resolution = Literal["take_platform", "push_kalem"]
TAKE_PLATFORM: Resolution = "take_platform"
PUSH_KALEM: Resolution = "push_kalem"
_PAGE = 200
#: The counts compared, where the platform shows them.
COUNTS = ("open", "cancelled", "shipped", "alive", "pending_cancel")


class ChannelDriftNotFound(NotFound):
    """No drift with this id (among the caller's): resolved already, or never found."""
    code = "channel_drift_not_found"


class DriftNotResolvable(Conflict):
    """The resolution asked for cannot close this drift: it would take back cancelled units, the
    platform shows no such order, or the account's connector cannot read the platform."""
    code = "drift_not_resolvable"


class PlatformUnavailable(KalemError):
    """The platform could not be read to resolve the drift (down, refused the credentials, or answered
    what kalem does not understand); nothing changed. Try again later."""
    code = "platform_unavailable"
    status = 503


@dataclass(frozen=True, slots=True)
class AccountReport:
    account_id: str
    seller_id: str
    platform: str
    channel: str
    status: str                       # reconciled, not_reconcilable or failed
    compared: int = 0
    drift: list[dict[str, Any]] = field(default_factory=list)   # order_number, lines
    error: str | None = None


def counts(order_line: Any) -> dict[str, int]:
    ledger = order_line.ledger
    return {"open": ledger.unshipped, "cancelled": ledger.cancelled, "shipped": ledger.dispatched,
            "alive": ledger.alive, "pending_cancel": ledger.pending_cancel}


def differences(order: Order, view: ChannelView | None) -> list[dict[str, Any]]:
    """The lines on which kalem and the platform differ, each with both sides' counts (`platform`
    None: the platform shows no such order or line)."""
    found = []
    for line in order.lines:
        mine = counts(line)
        shown = None if view is None else view.lines.get(line.line_id)
        if shown is None:
            found.append({"line_id": line.line_id, "sku": line.sku, "kalem": mine, "platform": None})
            continue
        theirs = {name: value for name in COUNTS if (value := getattr(shown, name)) is not None}
        if any(mine[name] != value for name, value in theirs.items()):
            found.append({"line_id": line.line_id, "sku": line.sku, "kalem": {n: mine[n] for n in theirs},
                          "platform": theirs})
    return found


def _orders(uow: UnitOfWork, account: ChannelAccount, since: datetime) -> list[Order]:
    found: list[Order] = []
    after: tuple[str, str] | None = None
    while True:
        page = uow.orders.list(account.seller_id, limit=_PAGE, after=after)
        for order in page:
            if order.created_at < since:
                return found
            if order.channel == account.channel:
                found.append(order)
        if len(page) < _PAGE:
            return found
        after = (page[-1].created_at.isoformat(), page[-1].id)


def reconcile_account(uow: Callable[..., UnitOfWork], account_id: str, connectors: Mapping[str, Connector],
                      window: timedelta = WINDOW) -> AccountReport:
    with uow(write=False) as unit:
        account = unit.channel_accounts.get(account_id, open_credentials=True)
        if account is None:
            raise ChannelAccountNotFound(f"no channel account {account_id}", account_id=account_id)
        orders = _orders(unit, account, unit.now() - window)
        on_the_way = unit.channel_drift.pending_orders(account.id)
    report: dict[str, Any] = {"account_id": account.id, "seller_id": account.seller_id, "platform": account.platform,
              "channel": account.channel}
    connector = connectors.get(account.platform)
    if not isinstance(connector, Reader):
        return AccountReport(**report, status=NOT_RECONCILABLE,
                             error=f"kalem cannot read one order from {account.platform}")
    drift: list[dict[str, Any]] = []
    compared = 0
    for order in orders:
        if order.id in on_the_way:
            continue
        try:
            view = connector.read(account, order)
        except ChannelFailure as failure:
            return AccountReport(**report, status=FAILED, compared=compared, drift=drift,
                                 error=f"{failure.kind}: {failure.message}")
        compared += 1
        _record(uow, account, order, differences(order, view), drift)
    return AccountReport(**report, status=RECONCILED, compared=compared, drift=drift)


def _record(uow: Callable[..., UnitOfWork], account: ChannelAccount, order: Order, lines: list[dict[str, Any]],
            drift: list[dict[str, Any]] | None = None) -> None:
    with uow() as unit:
        if lines:
            unit.channel_drift.found(drift_id=new_id("drf"), account_id=account.id, seller_id=account.seller_id,
                                     order_id=order.id, order_number=order.order_number, lines=lines,
                                     now=unit.now())
            if drift is not None:
                drift.append({"order_number": order.order_number, "lines": lines})
        else:
            unit.channel_drift.agreed(account.id, order.id)
        unit.commit()


def reconcile(uow: Callable[..., UnitOfWork], connectors: Mapping[str, Connector], *, channel: str | None = None,
              seller_id: str | None = None, window: timedelta = WINDOW) -> list[AccountReport]:
    """Every enabled account (of `channel`, of `seller_id`), one after the other."""
    with uow(write=False) as unit:
        accounts = [a for a in unit.channel_accounts.listed(seller_id)
                    if a.enabled and (channel is None or a.channel == channel)]
    return [reconcile_account(uow, a.id, connectors, window) for a in accounts]


def list_drift(uow: UnitOfWork, principal: Principal, account_id: str) -> list[Drift]:
    with uow:
        if uow.channel_accounts.get(account_id, principal.scope) is None:
            raise ChannelAccountNotFound(f"no channel account {account_id}", account_id=account_id)
        return uow.channel_drift.listed(account_id)


def resolve_drift(uow: Callable[..., UnitOfWork], principal: Principal, drift_id: str, resolution: Resolution,
                  connectors: Mapping[str, Connector]) -> list[dict[str, Any]]:
    """Resolves one drift; returns what still differs (empty: kalem and the platform agree, or the push
    that makes them agree is queued)."""
    with uow(write=False) as unit:
        found = unit.channel_drift.get(drift_id, principal.scope)
        if found is None:
            raise ChannelDriftNotFound(f"no channel drift {drift_id}", drift_id=drift_id)
        account = unit.channel_accounts.get(found.account_id, open_credentials=True)
        order = unit.orders.get_by_id(found.order_id)
    connector = connectors.get(account.platform) if account is not None else None
    if account is None or not isinstance(connector, Reader):
        raise DriftNotResolvable("this account's platform cannot be read", drift_id=drift_id)
    if resolution == PUSH_KALEM:
        return _push_kalem(uow, account, connector, order, found)
    return _take_platform(uow, account, connector, order, found)


def _read(connector: Reader, account: ChannelAccount, order: Order, drift_id: str) -> ChannelView:
    try:
        view = connector.read(account, order)
    except ChannelFailure as failure:
        raise PlatformUnavailable(f"{account.platform} could not be read: {failure.kind}",
                                  drift_id=drift_id, kind=failure.kind) from None
    if view is None:
        raise DriftNotResolvable(f"{account.platform} shows no order {order.order_number}", drift_id=drift_id)
    return view


def _platform_cancelled_less(lines: list[dict[str, Any]]) -> bool:
    """Whether kalem has cancelled units the platform has not (something only a push can close)."""
    for line in lines:
        mine, theirs = line["kalem"], line["platform"] or {}
        if theirs.get("cancelled", mine.get("cancelled", 0)) < mine.get("cancelled", 0) \
                or theirs.get("alive", mine.get("alive", 0)) > mine.get("alive", 0):
            return True
    return False


def _platform_cancelled_more(lines: list[dict[str, Any]]) -> bool:
    for line in lines:
        mine, theirs = line["kalem"], line["platform"] or {}
        if theirs.get("cancelled", mine.get("cancelled", 0)) > mine.get("cancelled", 0) \
                or theirs.get("alive", mine.get("alive", 0)) < mine.get("alive", 0):
            return True
    return False


def _take_platform(uow: Callable[..., UnitOfWork], account: ChannelAccount, connector: Reader, order: Order,
                   found: Drift) -> list[dict[str, Any]]:
    view = _read(connector, account, order, found.id)
    now_differs = differences(order, view)
    if _platform_cancelled_less(now_differs):
        raise DriftNotResolvable("kalem cannot take back units it has cancelled: push kalem's state instead",
                                 drift_id=found.id)
    if now_differs and view.decided:
        order = _take_decisions(uow, account, order, view.decided)
        now_differs = differences(order, view)
    if now_differs:  # the view's counts, keyed by kalem's own line ids, are what is taken in
        order = take_in(uow, account, replace(
            view.inbound, cancelled={k: v.cancelled for k, v in view.lines.items() if v.cancelled is not None},
            remaining={k: v.alive for k, v in view.lines.items() if v.alive is not None} or None))
    left = differences(order, view)
    _record(uow, account, order, left)
    return left


def _take_decisions(uow: Callable[..., UnitOfWork], account: ChannelAccount, order: Order,
                    decided: Mapping[str, Decided]) -> Order:
    """kalem's pending cancel requests on the order decided as the platform shows them decided: approved
    for the units it shows cancelled (the rest go back to open), or rejected with its reason when it
    cancelled none. A request some of whose units the platform still waits on is left pending."""
    none = Decided()
    with uow(write=False) as unit:
        pending = [r for r in unit.cancel_requests.for_order(order.id) if r.status == "pending"]
    principal = principal_of(account)
    for request in pending:
        shown = [(item, decided.get(item.line_id, none)) for item in request.items]
        if not all(set(item.units) <= d.cancelled | d.refused for item, d in shown):
            continue
        approved = {item.line_id: len(set(item.units) & d.cancelled) for item, d in shown}
        if any(approved.values()):
            cmd = DecideCancelRequest(request.id, principal, "approve", quantities=approved)
        else:
            why = next((d.reason_id for _, d in shown if d.reason_id is not None), None)
            cmd = DecideCancelRequest(request.id, principal, "reject", reason_id=why if why is not None else
                                      reasons(StatusType.CANCEL_REQUEST_DENIED)[0].id)
        decide_cancel_request(uow(), cmd)
    with uow(write=False) as unit:
        return unit.orders.get_by_id(order.id)


def _push_kalem(uow: Callable[..., UnitOfWork], account: ChannelAccount, connector: Connector, order: Order,
                found: Drift) -> list[dict[str, Any]]:
    if _platform_cancelled_more(found.lines):
        raise DriftNotResolvable(f"{account.platform} cannot take back units it has cancelled: take the "
                                 "platform's state instead", drift_id=found.id)
    with uow() as unit:
        latest = [e for e in unit.events.for_order(order.id) if e["type"] in connector.pushes]
        if not latest:
            raise DriftNotResolvable(f"kalem holds no change of order {order.order_number} to send to "
                                     f"{account.platform}", drift_id=found.id)
        event = latest[-1]
        unit.channel_drift.push_again(account_id=account.id, event_id=event["id"], order_id=order.id,
                                      seller_id=order.seller_id, sequence=event["sequence"],
                                      event_type=event["type"], now=unit.now())
        unit.channel_drift.agreed(account.id, order.id)   # compared again once the push has landed
        unit.commit()
    return []


class Reconciler:
    """The sync's periodic job: each enabled account reconciled every `every` seconds (the first time
    when the sync starts). Its failures are logged, never fatal to the sync."""

    def __init__(self, uow: Callable[..., UnitOfWork], connectors: Mapping[str, Connector], every: float,
                 clock: Callable[[], float]) -> None:
        self._uow, self._connectors, self._every, self._clock = uow, connectors, every, clock
        self._last: dict[str, float] = {}

    def run_due(self) -> list[AccountReport]:
        now = self._clock()
        with self._uow(write=False) as unit:
            due = [a.id for a in unit.channel_accounts.listed() if a.enabled
                   and now - self._last.get(a.id, float("-inf")) >= self._every]
        reports = []
        for account_id in due:
            self._last[account_id] = now
            try:
                reports.append(reconcile_account(self._uow, account_id, self._connectors))
            except ChannelAccountNotFound:
                continue  # removed meanwhile
        return reports
