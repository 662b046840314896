"""A seller's cancel reported by HepsiGlobal to kalem as its marketplace (HG's "Order cancel (canceled by
seller)" webhook): `cancel_quantity` units of an order item cancelled in kalem, once per `cancel_id`.

One order transaction: the order is locked first, then its events are read for a cancel that names
this `cancel_id` (the cancel's note does: "HepsiGlobal cancel_id 1078354: out_of_stock"), so two
deliveries of one cancel — a redelivery, however late, or two at once — cancel once. The cancel is made
as the account (its actor is never pushed back to HG). Units kalem no longer holds open (already
cancelled here, or shipped) are not cancelled again: at most the open ones are.
"""

from __future__ import annotations

from kalem.app.channel_sync import principal_of
from kalem.app.refund_policy import save_decision
from kalem.app.transaction import OrderTransaction
from kalem.domain.errors import OrderNotFound
from kalem.domain.orders import CancelItem, Order, cancel_lines
from kalem.domain.refunds import RefundCause
from kalem.platforms.hepsiglobal import wire
from kalem.platforms.hepsiglobal.reasons import CANCEL_REASONS
from kalem.store.channel_accounts import ChannelAccount
from kalem.store.uow import UnitOfWork

SELLER_REQUEST = 137   # kalem's `seller_request`: HG's reason, when it is none kalem knows


def _marker(cancel_id: int) -> str:
    return f"HepsiGlobal cancel_id {cancel_id}"


def taken(uow: UnitOfWork, order: Order, marker: str) -> bool:
    """Whether a cancel of the order already names this marker in its note."""
    after = 0
    while page := uow.events.for_order(order.id, after=after):
        for event in page:
            if event["type"] == "lines.cancelled" and any(
                    str(item.get("note") or "").startswith(marker + ":") for item in event["data"].get("items", ())):
                return True
        after = page[-1]["sequence"]
    return False


def take_seller_cancel(uow: UnitOfWork, account: ChannelAccount, hook: wire.OrderCancelHook) -> Order:
    principal = principal_of(account)
    marker = _marker(hook.cancel_id)
    with OrderTransaction(uow) as tx:
        order = tx.lock(hook.order_number, principal)
        if order.channel != account.channel:
            # Another channel's order is not this platform's to know of.
            raise OrderNotFound(f"order {order.order_number} not found", order_number=order.order_number)
        line = order.line(hook.order_item_number)
        units = min(hook.cancel_quantity, line.cancellable)
        if units == 0 or taken(uow, order, marker):
            return tx.commit(order)
        reason = CANCEL_REASONS.get(hook.reason or "", SELLER_REQUEST)
        changed, events = cancel_lines(order, [CancelItem(line.line_id, units, reason,
                                                          f"{marker}: {hook.reason or 'seller_request'}")],
                                       actor=principal.actor, now=uow.now())
        return tx.commit(save_decision(tx, order, changed, events, RefundCause.CANCELLATION, principal.actor))
