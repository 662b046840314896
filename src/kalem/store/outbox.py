"""The transactional outbox: one `webhook_deliveries` row per (event, enabled matching subscription —
its seller, its channels, its event types),
inserted by `EventRepository.append` on the business transaction's own connection. The event and
its deliveries commit together or not at all, so nothing is published before commit and nothing
committed is lost; the worker (`kalem.webhooks`) sends them afterwards.

Subscriptions are read on every append (an indexed scan of a table of a handful of rows); no cache,
so a subscription created or disabled is honoured by the very next transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from kalem.domain.events import Event
from kalem.domain.webhooks import DeliveryStatus, wants
from kalem.observability import tracing
from kalem.store.hot import Hot
from kalem.store.notify import notify

# (id, event types, seller or None for every seller, channels or None for every channel)
Subscription = tuple[str, list[str], str | None, frozenset[str] | None]

_ENABLED = Hot("SELECT id, event_types, seller_id, channels FROM webhook_subscriptions WHERE enabled = :t")
# The event's position is only known to the database (autoincrement), so read it back in the insert.
_INSERT = Hot(
    "INSERT INTO webhook_deliveries (subscription_id, event_id, event_position, order_id, seller_id, sequence, "
    "status, attempts, next_attempt_at, created_at, trace_context) "
    f"SELECT :s, id, position, order_id, seller_id, sequence, '{DeliveryStatus.PENDING.value}', 0, :now, :now, "
    ":trace FROM events WHERE id = :e AND seller_id = :seller")


def subscriptions(conn: Connection) -> list[Subscription]:
    """The enabled subscriptions, as `matching` takes them."""
    return [subscription(row.id, row.event_types, row.seller_id, row.channels)
            for row in _ENABLED.rows(conn, {"t": True})]


def subscription(sid: str, event_types: str, seller_id: str | None, channels: str | None) -> Subscription:
    """One enabled subscription's row (its JSON columns as stored) as `matching` takes it."""
    return sid, json.loads(event_types), seller_id, None if channels is None else frozenset(json.loads(channels))


def matching(found: Sequence[Subscription], events: Sequence[Event],
             event_ids: Sequence[str]) -> list[tuple[str, str, Event]]:
    """(subscription id, event id, event) of each delivery owed: its seller, its channels, its event types."""
    return [(sid, eid, event)
            for eid, event in zip(event_ids, events, strict=True)
            for sid, types, seller, channels in found
            if (seller is None or seller == event.seller_id) and (channels is None or event.channel in channels)
            and wants(types, event.type)]


def enqueue(conn: Connection, events: Sequence[Event], event_ids: Sequence[str],
            found: Sequence[Subscription] | None = None) -> int:
    """Queue deliveries of freshly inserted events; returns how many. `found`: the enabled
    subscriptions when this transaction has read them already (store/routing.py)."""
    owed = matching(subscriptions(conn) if found is None else found, events, event_ids)
    if not owed:
        return 0
    now = datetime.now(UTC)  # wall clock: the worker compares it with its own
    trace = tracing.traceparent()  # the worker's spans link back to this request
    _INSERT.run(conn, [{"s": sid, "e": eid, "seller": event.seller_id, "now": now, "trace": trace}
                       for sid, eid, event in owed])
    if conn.dialect.name == "postgresql":
        notify(conn)   # a listening worker wakes at commit (store/notify.py)
    return len(owed)
