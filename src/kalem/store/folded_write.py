"""An order's next version, its events, their webhook deliveries and channel pushes, and the webhook
worker's wake-up: one statement on PostgreSQL, one round trip instead of one per table.

A data-modifying CTE: the order is updated at the version its lock read; the events, and the refunds
the transaction made of the order (store/refunds.py), are inserted only from the updated row (none
when the version did not match), the deliveries and pushes only for the events inserted, and
`pg_notify` is selected only when a delivery was. So a version that moved writes nothing and answers
0, which the caller raises as the conflict it always was; anything the database refuses fails the
whole statement, and the transaction rolls back as before. Which
subscriptions and accounts hear of which events is decided in Python, by the same functions as the
statement-per-table path (`outbox.matching`, `channel_accounts.owed`), from the enabled rows read
with the order's lock (store/routing.py). Each list travels as one JSON parameter, so the statement's
text is the same for every write and psycopg prepares it once per connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from kalem.domain.events import Event
from kalem.domain.orders import Order
from kalem.domain.webhooks import DeliveryStatus
from kalem.observability import tracing
from kalem.store import channel_accounts, codec, outbox
from kalem.store.hot import Hot
from kalem.store.notify import CHANNEL
from kalem.store.routing import Routing

# The events' `xid`: as `EventRepository` stamps them (see there); the previous event is read in the
# statement's snapshot, so it is the order's last committed one for every event inserted here.
_SAVE = Hot(
    "WITH saved AS ("
    "UPDATE orders SET status = :status, version = :version, last_sequence = :last_sequence, "
    "updated_at = :updated_at, body = :body "
    "WHERE id = :id AND seller_id = :seller_id AND version = :expected RETURNING id, seller_id"
    "), appended AS ("
    "INSERT INTO events (id, order_id, seller_id, sequence, type, occurred_at, actor, data, xid) "
    "SELECT e.id, saved.id, saved.seller_id, e.sequence, e.type, e.occurred_at, e.actor, e.data, "
    "GREATEST(pg_current_xact_id()::text::bigint, (SELECT p.xid FROM events p "
    "WHERE p.order_id = saved.id ORDER BY p.sequence DESC LIMIT 1)) "
    "FROM saved, json_to_recordset(CAST(:events AS json)) "
    "AS e(id text, sequence int, type text, occurred_at timestamptz, actor text, data text) "
    "RETURNING id, position, order_id, seller_id, sequence, type"
    "), delivered AS ("
    "INSERT INTO webhook_deliveries (subscription_id, event_id, event_position, order_id, seller_id, sequence, "
    "status, attempts, next_attempt_at, created_at, trace_context) "
    f"SELECT d.subscription_id, a.id, a.position, a.order_id, a.seller_id, a.sequence, "
    f"'{DeliveryStatus.PENDING.value}', 0, :now, :now, :trace "
    "FROM json_to_recordset(CAST(:deliveries AS json)) AS d(subscription_id text, event_id text) "
    "JOIN appended a ON a.id = d.event_id RETURNING 1"
    "), pushed AS ("
    "INSERT INTO channel_pushes (account_id, event_id, order_id, seller_id, sequence, event_type, status, "
    "attempts, next_attempt_at, created_at) "
    f"SELECT p.account_id, a.id, a.order_id, a.seller_id, a.sequence, a.type, '{channel_accounts.PENDING}', 0, "
    ":now, :now "
    "FROM json_to_recordset(CAST(:pushes AS json)) AS p(account_id text, event_id text) "
    "JOIN appended a ON a.id = p.event_id RETURNING 1"
    "), refunded AS ("
    "INSERT INTO refunds (id, order_id, seller_id, order_number, status, created_at, iban, body) "
    "SELECT r.id, saved.id, saved.seller_id, r.order_number, r.status, r.created_at, r.iban, r.body "
    "FROM saved, json_to_recordset(CAST(:refunds AS json)) "
    "AS r(id text, order_number text, status text, created_at timestamptz, iban text, body text) RETURNING 1"
    ") "
    "SELECT (SELECT count(*) FROM saved) AS saved, "
    f"CASE WHEN EXISTS (SELECT 1 FROM delivered) THEN pg_notify('{CHANNEL}', '') END AS notified, "
    "(SELECT count(*) FROM pushed) AS pushed"
)


def _json(rows: list[dict[str, Any]]) -> str | None:
    """Rows as one JSON parameter (`json_to_recordset`; none: NULL, no rows): psycopg dumps a list
    parameter element by element, with a regular expression each, and this statement's lists are
    most of what it would dump. Datetimes are written with their offset (naive ones as UTC)."""
    return orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC).decode() if rows else None


def applies(routing: Routing, order: Order, events: Sequence[Event]) -> bool:
    """Whether `save` can write this: the routing was read with a lock, and the events are the order's."""
    return routing.known and all(
        e.order_id == order.id and e.seller_id == order.seller_id for e in events)


def save(conn: Connection, routing: Routing, order: Order, *, expected_version: int,
         events: Sequence[Event], event_ids: Sequence[str], refunds: Sequence[dict[str, Any]] = ()) -> bool:
    """Write the order at `expected_version` with its events and their outbox rows, and the order's
    new refunds (`RefundRepository.row`s); False, and nothing written, when the order is no longer at
    that version."""
    assert routing.subscriptions is not None and routing.pushers is not None
    deliveries = outbox.matching(routing.subscriptions, events, event_ids)
    pushes = channel_accounts.owed(routing.pushers, events, event_ids, {order.id: order.channel})
    now = datetime.now(UTC)  # wall clock: the worker compares it with its own
    (row,) = _SAVE.rows(conn, {
        "id": order.id, "seller_id": order.seller_id, "status": order.status.value, "version": order.version,
        "last_sequence": order.last_sequence, "updated_at": order.updated_at, "body": codec.order_body(order),
        "expected": expected_version,
        "events": _json([{"id": eid, "sequence": e.sequence, "type": e.type, "occurred_at": e.occurred_at,
                          "actor": e.actor, "data": codec.stored_json(e.data)} for e, eid in zip(events, event_ids,
                                                                                              strict=True)]),
        "now": now, "trace": tracing.traceparent() if deliveries else None,
        "deliveries": _json([{"subscription_id": sid, "event_id": eid} for sid, eid, _ in deliveries]),
        "pushes": _json([{"account_id": aid, "event_id": eid} for aid, eid, _ in pushes]),
        "refunds": _json(list(refunds)),
    })
    return bool(row.saved == 1)
