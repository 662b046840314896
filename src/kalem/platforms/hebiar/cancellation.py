"""Cancelling unit lines named only by their ids, across orders: the Hebiar face names unit lines, not
orders (Hebiar OMS's API documentation). Each request is one transaction over every order its lines
belong to, locked in id order (app/transaction.py); all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from kalem.app.ids import new_id
from kalem.app.principals import Principal
from kalem.app.refund_policy import save_decision
from kalem.app.transaction import OrderTransaction
from kalem.domain import orders as domain
from kalem.domain.orders import CancelItem, CancelRequest, Order
from kalem.domain.refunds import RefundCause
from kalem.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class LineItems:
    items: tuple[CancelItem, ...]
    principal: Principal
    platform: str = "kalem"
    via: str | None = None   # the face the request came through, when its subscribers must not hear it back


def cancel_lines_by_id(uow: UnitOfWork, cmd: LineItems) -> list[Order]:
    """Cancel lines named only by their ids, in as many orders as they belong to; all or nothing."""
    with OrderTransaction(uow) as tx:
        results = []
        for order, items in tx.lock_lines(cmd.items, cmd.principal):
            changed, events = domain.cancel_lines(order, items, actor=cmd.principal.actor, now=uow.now(),
                                                  platform=cmd.platform, via=cmd.via)
            results.append(save_decision(tx, order, changed, events, RefundCause.CANCELLATION, cmd.principal.actor))
        return tx.commit(results)


def request_cancel_by_id(uow: UnitOfWork, cmd: LineItems) -> list[CancelRequest]:
    """One cancel request per order the named lines belong to; all or nothing."""
    with OrderTransaction(uow) as tx:
        requests = []
        for order, items in tx.lock_lines(cmd.items, cmd.principal):
            changed, request, events = domain.request_cancel(
                order, items, request_id=new_id("cr"), actor=cmd.principal.actor, now=uow.now())
            uow.cancel_requests.add(request)
            tx.save(changed, events)
            requests.append(request)
        return tx.commit(requests)

