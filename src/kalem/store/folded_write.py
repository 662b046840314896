"""An order's next version — or a new order — with its events, their webhook deliveries and channel
pushes, and the webhook worker's wake-up: one statement on PostgreSQL, one round trip instead of one
per table.

A data-modifying CTE. `save`: the order is updated at the version its lock read; the events, the
refunds the transaction made of the order (store/refunds.py) and the order's bill (store/billing.py)
are written only from the updated row (none when the version did not match), the deliveries and
pushes only for the events inserted, and `pg_notify` is selected only when a delivery was. So a
version that moved writes nothing and answers 0, which the caller raises as the conflict it always
was. An optimistic unit of work's write (store/uow.py) may also insert its request's
`Idempotency-Key`, finished with its answer (`_KEY`), only with the order's row. `add`: a new order,
its seller if new, its line index and its events the same way. Anything the database refuses (a
number or line id a concurrent intake took) fails the whole statement, and the transaction rolls
back as before. Which subscriptions and accounts hear of which events is decided in Python, by the
same functions as the statement-per-table path (`outbox.matching`, `channel_accounts.owed`), from the
enabled rows read with the order's lock or the intake's look-up (store/routing.py). Each list
travels as one JSON parameter, so the statement's text is the same for every write and psycopg
prepares it once per connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from kalem.domain.billing import OrderBilling
from kalem.domain.events import Event
from kalem.domain.orders import Order
from kalem.domain.webhooks import DeliveryStatus
from kalem.observability import tracing
from kalem.store import channel_accounts, codec, outbox
from kalem.store.billing import billing_body
from kalem.store.hot import Hot
from kalem.store.notify import CHANNEL
from kalem.store.repositories import _ORDER_COLUMNS
from kalem.store.routing import Routing

# The order's events, from the recordset `e` and the order's row `o` (the CTE `{order}`: its id and seller).
_EVENTS = ("INSERT INTO events (id, order_id, seller_id, sequence, type, occurred_at, actor, data, xid) "
           "SELECT e.id, o.id, o.seller_id, e.sequence, e.type, e.occurred_at, e.actor, e.data, {xid} "
           "FROM {order} o, json_to_recordset(CAST(:events AS json)) "
           "AS e(id text, sequence int, type text, occurred_at timestamptz, actor text, data text) "
           "RETURNING id, position, order_id, seller_id, sequence, type")
# The deliveries and pushes of the events `appended` inserted, and the webhook worker's wake-up.
_OUTBOX = (
    "delivered AS ("
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
    ")"
)
_NOTIFIED = (f"CASE WHEN EXISTS (SELECT 1 FROM delivered) THEN pg_notify('{CHANNEL}', '') END AS notified, "
             "(SELECT count(*) FROM pushed) AS pushed")

# An `Idempotency-Key` with its answer (an optimistic unit of work's, store/uow.py): inserted only
# with the order's row `{order}`; a twin's key, there already, fails the whole statement.
_KEY = ("keyed AS ("
        "INSERT INTO idempotency_keys (principal, key, fingerprint, state, status_code, response, locked_until, "
        "created_at) SELECT :key_principal, :key, :key_fingerprint, 'done', :key_status, :key_response, "
        ":key_until, :key_at FROM {order} RETURNING 1"
        "), ")


# An order's bill with its order's row `saved` (store/billing.py): updated at the version its lock read,
# or inserted at version 1. The order's row is written only while the bill is at that version (0: none
# yet), so the bill never moves without its order — the order's version check guards both, as a
# billing row is only ever written with its order's next version.
_BILL_GUARD = ("AND COALESCE((SELECT b.version FROM order_billing b WHERE b.order_id = :id "
               "AND b.seller_id = :seller_id), 0) = :bill_expected ")
_BILL = ("billed AS ("
         "UPDATE order_billing b SET version = :bill_version, updated_at = :updated_at, body = :bill_body "
         "FROM saved WHERE b.order_id = saved.id AND b.seller_id = saved.seller_id "
         "AND b.version = :bill_expected RETURNING 1"
         "), billed_first AS ("
         "INSERT INTO order_billing (order_id, seller_id, version, updated_at, body) "
         "SELECT saved.id, saved.seller_id, :bill_version, :updated_at, :bill_body FROM saved "
         "WHERE CAST(:bill_expected AS integer) = 0 RETURNING 1"
         "), ")


# The events' `xid`: as `EventRepository` stamps them (see there); the previous event is read in the
# statement's snapshot, so it is the order's last committed one for every event inserted here.
def _save(key: str, bill: bool = False) -> Hot:
    return Hot(
        "WITH saved AS ("
        "UPDATE orders SET status = :status, version = :version, last_sequence = :last_sequence, "
        "updated_at = :updated_at, body = :body "
        "WHERE id = :id AND seller_id = :seller_id AND version = :expected "
        + (_BILL_GUARD if bill else "") + "RETURNING id, seller_id"
        "), " + (_BILL if bill else "") + "appended AS ("
        + _EVENTS.format(order="saved", xid="GREATEST(pg_current_xact_id()::text::bigint, (SELECT p.xid FROM events p "
                                            "WHERE p.order_id = o.id ORDER BY p.sequence DESC LIMIT 1))")
        + "), refunded AS ("
        "INSERT INTO refunds (id, order_id, seller_id, order_number, status, created_at, iban, body) "
        "SELECT r.id, saved.id, saved.seller_id, r.order_number, r.status, r.created_at, r.iban, r.body "
        "FROM saved, json_to_recordset(CAST(:refunds AS json)) "
        "AS r(id text, order_number text, status text, created_at timestamptz, iban text, body text) RETURNING 1"
        f"), {key}{_OUTBOX} "
        f"SELECT (SELECT count(*) FROM saved) AS saved, {_NOTIFIED}"
    )


# A new order has no earlier event: its events carry this transaction's id.
def _add(key: str) -> Hot:
    return Hot(
        "WITH seller AS ("
        "INSERT INTO sellers (id, created_at) SELECT :seller_id, :created_at WHERE :new_seller "
        "ON CONFLICT (id) DO NOTHING"
        "), placed AS ("
        f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES (:id, :seller_id, :order_number, :account_order_number, "
        ":status, :version, :last_sequence, :intake_hash, :created_at, :updated_at, :body, :channel) "
        "RETURNING id, seller_id"
        "), lined AS ("
        "INSERT INTO order_lines (seller_id, line_id, order_id) SELECT placed.seller_id, l.line_id, placed.id "
        "FROM placed, json_to_recordset(CAST(:lines AS json)) AS l(line_id text)"
        "), appended AS ("
        + _EVENTS.format(order="placed", xid="pg_current_xact_id()::text::bigint")
        + f"), {key}{_OUTBOX} "
        f"SELECT (SELECT count(*) FROM placed) AS placed, {_NOTIFIED}"
    )


# Each statement's text is fixed, so psycopg prepares it once per connection: by (keyed, billed). (No
# keyed write changes a bill: a bill changes through GraphQL, which takes no Idempotency-Key.)
_SAVES = {(False, False): _save(""), (True, False): _save(_KEY.format(order="saved")),
          (False, True): _save("", bill=True)}
_ADD, _ADD_KEYED = _add(""), _add(_KEY.format(order="placed"))


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
         events: Sequence[Event], event_ids: Sequence[str], refunds: Sequence[dict[str, Any]] = (),
         key: Mapping[str, Any] | None = None, billing: OrderBilling | None = None) -> bool:
    """Write the order at `expected_version` with its events and their outbox rows, the order's new
    refunds (`RefundRepository.row`s), its bill at the bill's next version (`billing`: as its lock
    read it, changed) and the `Idempotency-Key` with its answer (`key_row`); False, and nothing
    written, when the order (or its bill) is no longer at the version read."""
    bill = {} if billing is None else {"bill_version": billing.version + 1, "bill_expected": billing.version,
                                       "bill_body": billing_body(billing)}
    (row,) = _SAVES[key is not None, billing is not None].rows(conn, {
        **(key or {}), **bill,
        "id": order.id, "seller_id": order.seller_id, "status": order.status.value, "version": order.version,
        "last_sequence": order.last_sequence, "updated_at": order.updated_at, "body": codec.order_body(order),
        "expected": expected_version, "refunds": _json(list(refunds)),
        **_appended(routing, order, events, event_ids),
    })
    return bool(row.saved == 1)


def add(conn: Connection, routing: Routing, order: Order, intake_hash: str, *, events: Sequence[Event],
        event_ids: Sequence[str], new_seller: bool, key: Mapping[str, Any] | None = None) -> None:
    """Write a new order (its seller too, if `new_seller` and not there yet), its line index, its events
    and their outbox rows, and the `Idempotency-Key` with its answer (`key_row`)."""
    (_ADD if key is None else _ADD_KEYED).rows(conn, {
        **(key or {}),
        "id": order.id, "seller_id": order.seller_id, "order_number": order.order_number,
        "account_order_number": order.account_order_number, "status": order.status.value,
        "version": order.version, "last_sequence": order.last_sequence, "intake_hash": intake_hash,
        "created_at": order.created_at, "updated_at": order.updated_at, "body": codec.order_body(order),
        "channel": order.channel, "new_seller": new_seller,
        "lines": _json([{"line_id": ln.line_id} for ln in order.lines]),
        **_appended(routing, order, events, event_ids),
    })


def key_row(principal: str, key: str, fingerprint: str, status: int, response: str, until: datetime,
            now: datetime) -> dict[str, Any]:
    """The parameters of a finished `Idempotency-Key` (its answer stored) for `save` or `add`."""
    return {"key_principal": principal, "key": key, "key_fingerprint": fingerprint, "key_status": status,
            "key_response": response, "key_until": until, "key_at": now}


def _appended(routing: Routing, order: Order, events: Sequence[Event], event_ids: Sequence[str]) -> dict[str, Any]:
    """The parameters of the order's events and of the deliveries and pushes they owe."""
    assert routing.subscriptions is not None and routing.pushers is not None
    deliveries = outbox.matching(routing.subscriptions, events, event_ids)
    pushes = channel_accounts.owed(routing.pushers, events, event_ids, {order.id: order.channel})
    return {
        "events": _json([{"id": eid, "sequence": e.sequence, "type": e.type, "occurred_at": e.occurred_at,
                          "actor": e.actor, "data": codec.stored_json(e.data)}
                         for e, eid in zip(events, event_ids, strict=True)]),
        "now": datetime.now(UTC),  # wall clock: the worker compares it with its own
        "trace": tracing.traceparent() if deliveries else None,
        "deliveries": _json([{"subscription_id": sid, "event_id": eid} for sid, eid, _ in deliveries]),
        "pushes": _json([{"account_id": aid, "event_id": eid} for aid, eid, _ in pushes]),
    }
