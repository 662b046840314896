"""HepsiGlobal's cancel by marketplace: the marketplace cancels an order item, that is every unit of
it still open (the HepsiGlobal Marketplace API documentation) or the `cancel_quantity` of them its
`cancel_items` names, one order transaction."""

from __future__ import annotations

from kalem.app.principals import Principal
from kalem.app.refund_policy import save_decision
from kalem.app.transaction import OrderTransaction
from kalem.domain.errors import NothingToCancel
from kalem.domain.orders import CancelItem, Order, cancel_lines
from kalem.domain.refunds import RefundCause
from kalem.store.uow import UnitOfWork


def cancel_remaining(uow: UnitOfWork, principal: Principal, order_number: str, line_id: str, reason_id: int,
                     note: str | None, via: str | None = None, quantity: int | None = None) -> Order:
    """Cancel `quantity` open units of a line, or (None) every one, counted under the lock; `via` is
    recorded on the event (see `cancel_lines`)."""
    with OrderTransaction(uow) as tx:
        order = tx.lock(order_number, principal)
        line = order.line(line_id)
        if line.cancellable == 0:
            raise NothingToCancel(f"order item {line_id} has no unit left to cancel", line_id=line_id,
                                  ledger=line.ledger.as_dict())
        wanted = line.cancellable if quantity is None else quantity
        changed, events = cancel_lines(order, [CancelItem(line_id, wanted, reason_id, note)],
                                       actor=principal.actor, now=uow.now(), via=via)
        return tx.commit(save_decision(tx, order, changed, events, RefundCause.CANCELLATION, principal.actor))
