"""Money follows a decision: the seller's refund policy per channel, and the refund a decision makes.

Under `on_decision` (the default) a decision that cancels or returns units — an approved cancel
request, a direct cancel, an approved return — creates, in its own transaction, the refund that the
order's refund account previews for exactly the units the decision moved: pending settlement, with
its `refund.created` event and webhook deliveries. Under `manual` it moves no money, as before.
Paths that carry their own refund (a cancel with refund) make that refund instead, never both.

A policy change applies to the decisions made after it; a refund already made keeps what it was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from kalem.app.access import known_seller, unknown_seller
from kalem.app.ids import new_id
from kalem.app.principals import Principal, SellerIdMismatch, SellerIdRequired
from kalem.app.refund_account import account_of
from kalem.app.transaction import OrderTransaction
from kalem.domain.events import Actor, Event
from kalem.domain.orders import Order, UnitSet, UnitState
from kalem.domain.refunds import (
    DEFAULT_POLICY,
    InvalidBillableOrder,
    PartialRefundNotAllowed,
    Payout,
    Refund,
    RefundBreakdown,
    RefundCause,
    RefundMethod,
    RefundPolicy,
    channel_name,
    effective_policy,
    refund_policy,
)
from kalem.store.uow import UnitOfWork

#: The state a decision's units reach, per cause of the refund it makes.
_DECIDED = {RefundCause.CANCELLATION: UnitState.CANCELLED, RefundCause.RETURN: UnitState.RETURNED}


def policy_of(uow: UnitOfWork, order: Order) -> RefundPolicy:
    """The refund policy that applies to a decision on `order` now (one indexed read)."""
    return effective_policy(uow.refund_policies.for_channel(order.seller_id, channel_name(order.channel)),
                            order.channel)


def decided_units(before: Order, after: Order, cause: RefundCause) -> dict[str, UnitSet]:
    """The units of each line that a decision put in its cause's state (cancelled, or returned)."""
    state = _DECIDED[cause]
    moved = {ln.line_id: ln.units.in_state(state) - before.line(ln.line_id).units.in_state(state)
             for ln in after.lines}
    return {line_id: units for line_id, units in moved.items() if units}


def decision_preview(uow: UnitOfWork, before: Order, after: Order, cause: RefundCause) -> RefundBreakdown | None:
    """What the refund of a decision would pay (None: it moves no unit); the account's own preview of the
    units the decision moves, so it is exactly the refund `refund_decision` makes."""
    units = decided_units(before, after, cause)
    return account_of(uow, before).preview(units, cause=None) if units else None


def refund_decision(tx: OrderTransaction, before: Order, after: Order, cause: RefundCause,
                    actor: Actor) -> tuple[Order, list[Event], Refund | None]:
    """The refund a decision makes under the seller's policy, in the decision's transaction: (the order
    with the refund's event recorded, those events, the refund), or (after, [], None) when the policy
    is `manual`, the decision moved no unit, or the account cannot refund them — an order whose amounts
    are finer than its currency, a strategy that refuses a partial refund — (the decision still stands;
    its preview said why)."""
    uow = tx.uow
    units = decided_units(before, after, cause)
    if not units or policy_of(uow, after) is RefundPolicy.MANUAL:
        return after, [], None
    try:
        account = account_of(uow, after)
        changed, refund, events = account.refund(units, cause=cause, pay=Payout(RefundMethod.ORIGINAL),
                                                 refund_id=new_id("rf"), actor=actor, now=uow.now())
    except (InvalidBillableOrder, PartialRefundNotAllowed):
        return after, [], None
    refund = replace(refund, on_decision=True)
    uow.refunds.add(refund)
    return changed, events, refund


def save_decision(tx: OrderTransaction, before: Order, after: Order, events: list[Event], cause: RefundCause,
                  actor: Actor) -> Order:
    """Save a decision's order and events, with the refund the policy makes of it (see `refund_decision`)."""
    changed, more, _ = refund_decision(tx, before, after, cause, actor)
    return tx.save(changed, events + more)


# --- setting and reading the policy --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PolicyRow:
    channel: str | None   # None: the seller-wide row
    policy: RefundPolicy
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class SellerPolicies:
    seller_id: str
    default: RefundPolicy       # what applies to a channel without a row of its own
    default_is_set: bool        # False: the seller set no seller-wide row (the built-in default applies)
    channels: tuple[PolicyRow, ...]

    def for_channel(self, channel: str | None) -> RefundPolicy:
        name = channel_name(channel)
        return next((row.policy for row in self.channels if row.channel == name), self.default)


def _seller(principal: Principal, seller_id: str | None) -> str:
    """The seller a policy call is about: a seller's own; an operator names one."""
    if principal.scope is not None:
        if seller_id not in (None, principal.scope):
            raise SellerIdMismatch("a seller may only read or set its own refund policy")
        return principal.scope
    if not seller_id:
        raise SellerIdRequired("seller_id is required", field="seller_id")
    return seller_id


def get_policies(uow: UnitOfWork, principal: Principal, seller_id: str | None = None) -> SellerPolicies:
    seller = _seller(principal, seller_id)
    with uow:
        if not uow.sellers.exists(seller):  # an operator's typo: refused, as a write would refuse it
            raise unknown_seller(seller)
        rows = [PolicyRow(channel, RefundPolicy(policy), at, by)
                for channel, policy, at, by in uow.refund_policies.all(seller)]
    wide = next((row for row in rows if row.channel is None), None)
    return SellerPolicies(seller, wide.policy if wide else DEFAULT_POLICY, wide is not None,
                          tuple(row for row in rows if row.channel is not None))


def put_policy(uow: UnitOfWork, principal: Principal, policy: str, *, channel: str | None = None,
               seller_id: str | None = None) -> SellerPolicies:
    """Set the seller-wide policy (`channel` None) or one channel's; decisions after it follow it."""
    chosen = refund_policy(policy)
    seller = _seller(principal, seller_id)
    with uow:
        now = uow.now()
        known_seller(uow, seller, now, new_seller=False)  # a typo must not create a seller
        uow.refund_policies.put(seller, channel, chosen.value, now, principal.actor.label)
        uow.commit()
    return get_policies(uow, principal, seller)


def delete_policy(uow: UnitOfWork, principal: Principal, channel: str, *,
                  seller_id: str | None = None) -> SellerPolicies:
    """Drop a channel's own row: the seller-wide policy applies to it again (nothing to drop is no error)."""
    seller = _seller(principal, seller_id)
    with uow:
        uow.refund_policies.delete(seller, channel)
        uow.commit()
    return get_policies(uow, principal, seller)
