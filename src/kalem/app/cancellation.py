"""Cancelling order lines: directly, or through a request the seller decides.

Each function is one use case and one order transaction (app/transaction.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kalem.app.ids import new_id
from kalem.app.principals import Principal
from kalem.app.refund_policy import save_decision
from kalem.app.transaction import OrderTransaction
from kalem.domain import orders as domain
from kalem.domain.errors import CancelRequestNotFound
from kalem.domain.orders import CancelItem, CancelRequest, Order
from kalem.domain.refunds import RefundCause
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
    with OrderTransaction(uow) as tx:
        order = tx.lock(cmd.order_number, cmd.principal, cmd.seller_id, expected_version=cmd.expected_version)
        actor = cmd.principal.actor
        changed, events = domain.cancel_lines(order, cmd.items, actor=actor, now=uow.now())
        return tx.commit(save_decision(tx, order, changed, events, RefundCause.CANCELLATION, actor))


def request_cancel(uow: UnitOfWork, cmd: RequestCancel) -> CancelRequest:
    with OrderTransaction(uow) as tx:
        order = tx.lock(cmd.order_number, cmd.principal, cmd.seller_id)
        changed, request, events = domain.request_cancel(
            order, cmd.items, request_id=new_id("cr"), actor=cmd.principal.actor, now=uow.now())
        uow.cancel_requests.add(request)
        tx.save(changed, events)
        return tx.commit(request)


def decide_cancel_request(uow: UnitOfWork, cmd: DecideCancelRequest) -> tuple[CancelRequest, Order]:
    with OrderTransaction(uow) as tx:
        scope = cmd.principal.scope
        found = uow.cancel_requests.get(cmd.request_id, scope)
        if found is None:
            raise CancelRequestNotFound(f"cancel request {cmd.request_id} not found", cancel_request_id=cmd.request_id)
        order = tx.lock_id(found.order_id)
        request = uow.cancel_requests.get(cmd.request_id, scope)  # re-read under the order's lock
        assert request is not None
        actor, now = cmd.principal.actor, uow.now()
        if cmd.decision == "approve":
            changed, decided, events = domain.approve_cancel_request(order, request, cmd.quantities,
                                                                     actor=actor, now=now, note=cmd.note)
            uow.cancel_requests.save(decided)
            return tx.commit((decided, save_decision(tx, order, changed, events, RefundCause.CANCELLATION, actor)))
        elif cmd.decision == "reject":
            changed, decided, events = domain.reject_cancel_request(
                order, request, reason_id=cmd.reason_id if cmd.reason_id is not None else -1,
                note=cmd.note, actor=actor, now=now)
        else:
            changed, decided, events = domain.withdraw_cancel_request(order, request, actor=actor, now=now)
        uow.cancel_requests.save(decided)
        tx.save(changed, events)
        return tx.commit((decided, changed))


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

