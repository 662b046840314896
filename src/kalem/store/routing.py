"""Who hears of an order's events — the enabled webhook subscriptions and channel accounts — read
with the order's lock, not in round trips of their own.

Every event appended queues its webhook deliveries (store/outbox.py) and channel pushes
(store/channel_accounts.py) in the same transaction, which needs both tables' enabled rows. On
PostgreSQL the statement that locks an order (`SELECT … FOR UPDATE`) also returns them, aggregated
into two JSON columns (`COLUMNS`), and the unit of work keeps them for the rest of its transaction
(`Routing`). Nothing is cached beyond the transaction: a subscription or an account created, changed
or disabled by any process is seen by the next transaction that locks an order, as when they were
read at each append. A transaction that locks no order (an intake) reads them when it appends.
"""

from __future__ import annotations

from typing import Any

from kalem.store import channel_accounts, outbox

# Scalar sub-selects in the lock's select list: not locked themselves (FOR UPDATE locks the rows of
# the FROM clause only), read in the lock statement's snapshot.
COLUMNS = (
    "(SELECT json_agg(json_build_array(s.id, s.event_types, s.seller_id, s.channels)) "
    "FROM webhook_subscriptions s WHERE s.enabled) AS routed_subscriptions, "
    "(SELECT json_agg(json_build_array(a.id, a.seller_id, a.channel, a.push_types)) "
    "FROM channel_accounts a WHERE a.enabled) AS routed_accounts"
)


class Routing:
    """This transaction's enabled subscriptions and channel accounts, once a lock has read them."""

    __slots__ = ("subscriptions", "pushers")

    def __init__(self) -> None:
        self.subscriptions: list[outbox.Subscription] | None = None
        self.pushers: list[channel_accounts.Pusher] | None = None

    @property
    def known(self) -> bool:
        return self.subscriptions is not None and self.pushers is not None

    def take(self, row: Any) -> None:
        """Keep what a lock statement with `COLUMNS` returned (psycopg has decoded the JSON)."""
        self.subscriptions = [outbox.subscription(*s) for s in row.routed_subscriptions or ()]
        self.pushers = [channel_accounts.pusher(*a) for a in row.routed_accounts or ()]
