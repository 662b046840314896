"""What a decision's refund needs — the order's refunds, its seller's refund policy for the order's
channel and its cancellation strategy — read with the order's lock, not in round trips of their own.

A decision that cancels or returns units refunds them under the seller's policy (app/refund_policy.py),
which reads the policy, the order's refunds so far and the seller's strategy. On PostgreSQL the
statement that locks an order also returns them (`COLUMNS`), and the unit of work keeps them for the
rest of its transaction. Its repositories answer from them and keep them current with what the
transaction itself writes; nothing is kept beyond the transaction.

The refunds must be every refund committed before the lock was taken (that is what makes two refunds
of the same units impossible), but the lock statement's sub-selects read its snapshot, taken before
the lock was granted: a transaction that held the lock and committed a refund meanwhile is not in it.
Every transaction that writes an order's refunds also saves the order at its next version, and the
lock returns the order's newest version, so the statement also reads the version its snapshot saw
(`seen_version`): when the two differ, the refunds are not kept and are read again by a statement of
their own, which sees every commit. Policies and strategies are the seller's settings, not guarded by
the order's lock: the snapshot's are as current as a read a moment later would be.
"""

from __future__ import annotations

from typing import Any, NamedTuple

# Scalar sub-selects in the lock's select list (the lock statement reads `orders` unaliased); each
# names the order's seller too, so on a distributed database they stay on the order's shard.
COLUMNS = (
    "(SELECT seen.version FROM orders seen WHERE seen.id = orders.id AND seen.seller_id = orders.seller_id) "
    "AS seen_version, "
    "(SELECT json_agg(json_build_array(r.id, r.order_id, r.seller_id, r.order_number, r.status, "
    "r.created_at AT TIME ZONE 'UTC', r.iban, r.body::json) ORDER BY r.created_at, r.id) "
    "FROM refunds r WHERE r.order_id = orders.id AND r.seller_id = orders.seller_id) AS held_refunds, "
    "(SELECT json_agg(json_build_array(p.channel, p.policy)) FROM refund_policies p "
    "WHERE p.seller_id = orders.seller_id AND p.channel IN (orders.channel, '')) AS held_policies, "
    "(SELECT s.strategy FROM seller_strategies s WHERE s.seller_id = orders.seller_id) AS held_strategy"
)


class RefundRow(NamedTuple):
    """A refund's row as `RefundRepository` reads it (its created_at as UTC text: `as_utc` reads it; its
    body as an object, decoded with the rest of the lock's answer, not as text decoded again)."""

    id: str
    order_id: str
    seller_id: str
    order_number: str
    status: str
    created_at: str
    iban: str | None
    body: dict[str, Any]


class MoneyWithLock:
    """This transaction's reads of refunds, policies and strategies that came with an order's lock."""

    __slots__ = ("refunds", "policies", "strategies")

    def __init__(self) -> None:
        self.refunds: dict[str, list[Any]] = {}                       # order id → its refunds (loaded)
        self.policies: dict[tuple[str, str], dict[str | None, str]] = {}  # (seller, channel) → rows
        self.strategies: dict[str, str | None] = {}                  # seller → stored strategy, or None

    def take(self, row: Any, load_refund: Any) -> None:
        """Keep what a lock statement with `COLUMNS` returned for its order (psycopg decoded the JSON)."""
        self.policies[row.seller_id, row.channel] = {channel or None: policy
                                                      for channel, policy in row.held_policies or ()}
        self.strategies[row.seller_id] = row.held_strategy
        if row.seen_version == row.version:
            self.refunds[row.id] = [load_refund(RefundRow(*r)) for r in row.held_refunds or ()]
        else:  # the lock waited on a transaction that changed the order: its refunds are read anew
            self.refunds.pop(row.id, None)
