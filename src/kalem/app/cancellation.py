"""Cancelling order lines: directly, or through a request the seller decides.

Each function is one use case and one transaction. Orders are locked before they are read
(`SELECT … FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite); a request that spans several
orders locks them in id order, so two such requests cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kalem.app.ids import new_id
from kalem.app.principals import Principal
from kalem.domain import cancellation as domain
from kalem.domain.cancellation import CancelItem, CancelRequest
from kalem.domain.errors import CancelRequestNotFound, LineNotFound, VersionMismatch
from kalem.domain.events import Event
from kalem.domain.orders import Order
from kalem.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class CancelLines:
    order_number: str
    items: tuple[CancelItem, ...]
    principal: Principal
    seller_id: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class RequestCancel:
    order_number: str
    items: tuple[CancelItem, ...]
    principal: Principal
    seller_id: str | None = None


@dataclass(frozen=True, slots=True)
class DecideCancelRequest:
    request_id: str
    principal: Principal
    decision: str  # "approve" | "reject" | "withdraw"
    quantities: Mapping[str, int] | None = None
    reason_id: int | None = None
    note: str | None = None


def cancel_lines(uow: UnitOfWork, cmd: CancelLines) -> Order:
    with uow:
        order = _lock(uow, cmd.order_number, cmd.principal, cmd.seller_id, cmd.expected_version)
        changed, events = domain.cancel_lines(order, cmd.items, actor=cmd.principal.actor, now=uow.now())
        _save(uow, order, changed, events)
        uow.commit(changed)
        return changed


def request_cancel(uow: UnitOfWork, cmd: RequestCancel) -> CancelRequest:
    with uow:
        order = _lock(uow, cmd.order_number, cmd.principal, cmd.seller_id)
        changed, request, events = domain.request_cancel(
            order, cmd.items, request_id=new_id("cr"), actor=cmd.principal.actor, now=uow.now())
        uow.cancel_requests.add(request)
        _save(uow, order, changed, events)
        uow.commit(request)
        return request


def decide_cancel_request(uow: UnitOfWork, cmd: DecideCancelRequest) -> tuple[CancelRequest, Order]:
    with uow:
        scope = cmd.principal.scope
        found = uow.cancel_requests.get(cmd.request_id, scope)
        if found is None:
            raise CancelRequestNotFound(f"cancel request {cmd.request_id} not found", cancel_request_id=cmd.request_id)
        order = uow.orders.get_by_id(found.order_id, for_update=True)
        request = uow.cancel_requests.get(cmd.request_id, scope)  # re-read under the order's lock
        assert request is not None
        actor, now = cmd.principal.actor, uow.now()
        if cmd.decision == "approve":
            changed, decided, events = domain.approve_cancel_request(order, request, cmd.quantities,
                                                                     actor=actor, now=now, note=cmd.note)
        elif cmd.decision == "reject":
            changed, decided, events = domain.reject_cancel_request(
                order, request, reason_id=cmd.reason_id if cmd.reason_id is not None else -1,
                note=cmd.note, actor=actor, now=now)
        else:
            changed, decided, events = domain.withdraw_cancel_request(order, request, actor=actor, now=now)
        uow.cancel_requests.save(decided)
        _save(uow, order, changed, events)
        uow.commit((decided, changed))
        return decided, changed


def get_cancel_request(uow: UnitOfWork, request_id: str, principal: Principal) -> CancelRequest:
    with uow:
        found = uow.cancel_requests.get(request_id, principal.scope)
        if found is None:
            raise CancelRequestNotFound(f"cancel request {request_id} not found", cancel_request_id=request_id)
        return found


def list_cancel_requests(uow: UnitOfWork, principal: Principal, *, status: str | None, limit: int,
                         after: tuple[str, str] | None = None, seller_id: str | None = None,
                         order_number: str | None = None) -> list[CancelRequest]:
    with uow:
        return uow.cancel_requests.list(principal.scope or seller_id, status=status, limit=limit,
                                        after=after, order_number=order_number)


# --- by line id, across orders (the Hebiar face names unit lines, not orders) -----------------

@dataclass(frozen=True, slots=True)
class LineItems:
    items: tuple[CancelItem, ...]
    principal: Principal
    platform: str = "kalem"


def cancel_lines_by_id(uow: UnitOfWork, cmd: LineItems) -> list[Order]:
    """Cancel lines named only by their ids, in as many orders as they belong to; all or nothing."""
    with uow:
        results = []
        for order, items in _lock_by_line(uow, cmd.items, cmd.principal):
            changed, events = domain.cancel_lines(order, items, actor=cmd.principal.actor, now=uow.now(),
                                                  platform=cmd.platform)
            _save(uow, order, changed, events)
            results.append(changed)
        uow.commit(results)
        return results


def request_cancel_by_id(uow: UnitOfWork, cmd: LineItems) -> list[CancelRequest]:
    """One cancel request per order the named lines belong to; all or nothing."""
    with uow:
        requests = []
        for order, items in _lock_by_line(uow, cmd.items, cmd.principal):
            changed, request, events = domain.request_cancel(
                order, items, request_id=new_id("cr"), actor=cmd.principal.actor, now=uow.now())
            uow.cancel_requests.add(request)
            _save(uow, order, changed, events)
            requests.append(request)
        uow.commit(requests)
        return requests


def _lock_by_line(uow: UnitOfWork, items: Sequence[CancelItem],
                  principal: Principal) -> list[tuple[Order, tuple[CancelItem, ...]]]:
    by_order: dict[str, list[CancelItem]] = {}
    for item in items:
        order_id = uow.orders.locate_line(item.line_id, principal.scope)
        if order_id is None:
            raise LineNotFound(f"line {item.line_id} not found", line_id=item.line_id)
        by_order.setdefault(order_id, []).append(item)
    return [(uow.orders.get_by_id(order_id, for_update=True), tuple(by_order[order_id]))
            for order_id in sorted(by_order)]


def _lock(uow: UnitOfWork, order_number: str, principal: Principal, seller_id: str | None,
          expected_version: int | None = None) -> Order:
    order = uow.orders.get(order_number, principal.scope or seller_id, for_update=True)
    if expected_version is not None and order.version != expected_version:
        raise VersionMismatch(f"order {order_number} is at version {order.version}, not {expected_version}",
                              order_number=order_number, version=order.version)
    return order


def _save(uow: UnitOfWork, before: Order, after: Order, events: list[Event]) -> None:
    uow.orders.save(after, expected_version=before.version)
    uow.events.append(events)
