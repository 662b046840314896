"""A seller's refund policy: whether a decision that cancels or returns units also refunds them.

    on_decision   an approved cancel request, a direct cancel and an approved return create, in the
                  decision's own transaction, the refund the order's refund account previews for the
                  units the decision moved (pending settlement)
    manual        the decision moves no money; refunds are made by explicit refund calls

A policy is kept per seller and channel; a seller-wide row applies to the channels without one of
their own, and `on_decision` applies when the seller set nothing. An order with no channel belongs to
the `direct` channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from kalem.domain.errors import InvalidInput


class RefundPolicy(StrEnum):
    ON_DECISION = "on_decision"
    MANUAL = "manual"


DEFAULT_POLICY = RefundPolicy.ON_DECISION

#: The channel of an order that names none.
DIRECT_CHANNEL = "direct"


class RefundPolicyUnknown(InvalidInput):
    """A refund policy other than `on_decision` or `manual`."""
    code = "refund_policy_unknown"


def refund_policy(value: object) -> RefundPolicy:
    """The policy `value` names, or `RefundPolicyUnknown` (a typo must not fall back to a default)."""
    for policy in RefundPolicy:
        if value == policy.value:
            return policy
    raise RefundPolicyUnknown(f"policy must be one of {', '.join(RefundPolicy)}", field="policy",
                              value=str(value)[:64])


def channel_name(channel: str | None) -> str:
    return channel or DIRECT_CHANNEL


def effective_policy(stored: Mapping[str | None, str], channel: str | None) -> RefundPolicy:
    """The policy that applies to `channel`: its own row, else the seller-wide one (key None), else the
    default. `stored` maps a channel name (None: seller-wide) to a stored policy."""
    name = channel_name(channel)
    if name in stored:
        return RefundPolicy(stored[name])
    if None in stored:
        return RefundPolicy(stored[None])
    return DEFAULT_POLICY
