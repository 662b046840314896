"""A batch of new orders (`POST /v1/orders/batch`, `kalem import`): what it collides with, and writing it.

The orders already stored under the batch's numbers and the line ids already in use are each read
for the whole batch at once. On PostgreSQL the values travel as one array parameter (`= ANY`), so
the statement is the same whatever the batch's size, and the new rows are written with `COPY`, one
per table, instead of an `INSERT` per row; on SQLite the look-ups are `IN` lists and the rows go
through `OrderRepository.add_many` and `EventRepository.append`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.domain.events import Event
from kalem.domain.orders import Order
from kalem.store import codec, routing
from kalem.store.hot import Hot, driver_cursor
from kalem.store.key_check import COLUMN as key_column
from kalem.store.key_check import NO_KEY, KeyCheck
from kalem.store.repositories import _ORDER_COLUMNS, EventRepository, OrderRepository, SellerRepository
from kalem.store.routing import Routing

#: Values per `IN` list on SQLite: far below its bound-parameter limit.
_CHUNK = 500

_ORDERS = "SELECT id, seller_id, order_number, intake_hash, channel FROM orders WHERE order_number"
_LINES = "SELECT seller_id, line_id FROM order_lines WHERE line_id"
_SELLERS = ("INSERT INTO sellers (id, created_at) SELECT unnest(%s::text[]), %s ORDER BY 1 "
            "ON CONFLICT (id) DO NOTHING")
_COPY_ORDERS = f"COPY orders ({_ORDER_COLUMNS}) FROM STDIN"
_COPY_LINES = "COPY order_lines (seller_id, line_id, order_id) FROM STDIN"


# One order's intake on PostgreSQL reads, in one statement: whether its seller exists, which of its
# line ids and its number the seller's stored orders hold (one snapshot for both: an order committed
# just before is found under its number and its lines together), and who hears of its events.
# A keyed intake's look-up also reads its `Idempotency-Key` (store/key_check.py).
_LOOK_TEXT = (
    "SELECT EXISTS (SELECT 1 FROM sellers WHERE id = :seller) AS seller_known, "
    "(SELECT json_agg(json_build_array(l.seller_id, l.line_id)) FROM order_lines l "
    "WHERE l.line_id = ANY(CAST(:lines AS text[])) AND l.seller_id = :seller) AS in_use, "
    "(SELECT json_agg(json_build_array(o.id, o.intake_hash, o.channel)) FROM orders o "
    "WHERE o.order_number = :number AND o.seller_id = :seller) AS stored, "
    f"{routing.COLUMNS}"
)
_LOOK, _LOOK_KEYED = Hot(_LOOK_TEXT), Hot(f"{_LOOK_TEXT}, {key_column}")


class Stored(NamedTuple):
    id: str
    intake_hash: str
    channel: str


class Looked(NamedTuple):
    """What one order's intake must know before it writes: see `IntakeRepository.look`."""

    seller_known: bool
    in_use: set[tuple[str, str]]
    stored: Stored | None


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


class IntakeRepository:
    def __init__(self, conn: Connection, events: Callable[[], EventRepository], routing: Routing | None = None,
                 key: KeyCheck = NO_KEY) -> None:
        """`events`: the unit of work's event repository, asked for only when a batch is added; `key`: an
        optimistic unit of work's `Idempotency-Key` not yet judged, read with the look-up (on its own
        before any other statement)."""
        self._conn = conn
        self._events = events
        self._postgres = conn.dialect.name == "postgresql"
        self._routing = routing
        self._key = key

    def look(self, seller_id: str, number: str, line_ids: Collection[str], *, seller: bool) -> Looked:
        """One order's intake: whether its seller exists (asked only if `seller`), which of these line ids
        the seller's stored orders hold, and its stored order under this number. On PostgreSQL one
        statement, which also reads who hears of the new order's events (into the routing)."""
        if not (self._postgres and self._routing is not None):
            self._key.apart()
            known = SellerRepository(self._conn).exists(seller_id) if seller else True
            # The line ids first: an order committed between the two reads is then found under its number.
            in_use = self.lines_in_use(line_ids, seller_id)
            return Looked(known, in_use, self.orders_numbered((number,), seller_id).get((seller_id, number)))
        params = {"seller": seller_id, "number": number, "lines": sorted(line_ids)}
        if not self._key.pending:
            (row,) = _LOOK.rows(self._conn, params)
        else:
            (row,) = _LOOK_KEYED.rows(self._conn, params | self._key.params)
            self._key.judge(row.answer_key)
        self._routing.take(row)
        stored = [Stored(*found) for found in row.stored or ()]
        return Looked(row.seller_known or not seller, {(s, line) for s, line in row.in_use or ()},
                      stored[0] if stored else None)

    def orders_numbered(self, numbers: Collection[str], seller_id: str | None = None
                        ) -> dict[tuple[str, str], Stored]:
        """The orders stored under these numbers (of one seller, if named), by (seller, number)."""
        return {(seller, number): Stored(order_id, digest, channel)
                for order_id, seller, number, digest, channel in self._any(_ORDERS, numbers, seller_id)}

    def lines_in_use(self, line_ids: Collection[str], seller_id: str | None = None) -> set[tuple[str, str]]:
        """(seller, line id) of those of these line ids that a stored order (of one seller, if named) holds."""
        return {(seller, line_id) for seller, line_id in self._any(_LINES, line_ids, seller_id)}

    def add(self, orders: Sequence[tuple[Order, str]], events: Sequence[Event], now: datetime) -> None:
        """New orders with their intake hashes, their sellers (if new) and their events with outbox rows."""
        if not orders:
            return
        self.ensure_sellers({order.seller_id for order, _ in orders}, now)
        if not self._postgres:
            OrderRepository(self._conn, lock_rows=False).add_many(orders)
            self._events().append(events)
            return
        self._copy(_COPY_ORDERS, (
            (order.id, order.seller_id, order.order_number, order.account_order_number, order.status.value,
             order.version, order.last_sequence, digest, order.created_at, order.updated_at, codec.order_body(order),
             order.channel)
            for order, digest in orders))
        self._copy(_COPY_LINES, ((order.seller_id, ln.line_id, order.id) for order, _ in orders for ln in order.lines))
        self._events().append(events)

    def ensure_sellers(self, seller_ids: Collection[str], now: datetime) -> None:
        """Sellers come into being when first named; on PostgreSQL all of them in one statement."""
        self._key.apart()   # before any statement that does not carry it
        if not self._postgres:
            for seller_id in sorted(seller_ids):
                SellerRepository(self._conn).ensure(seller_id, now)
            return
        with driver_cursor(self._conn, _SELLERS) as cur:
            cur.execute(_SELLERS, (sorted(seller_ids), now))

    def _any(self, select: str, values: Collection[str], seller_id: str | None) -> Iterator[tuple[str, ...]]:
        """Rows whose column is one of `values`; naming the seller routes the read to its shard."""
        self._key.apart()
        if not values:
            return
        seller = "" if seller_id is None else " AND seller_id = "
        if self._postgres:
            from psycopg.rows import tuple_row  # psycopg is loaded only by processes on PostgreSQL
            sql = f"{select} = ANY(%(values)s){seller and seller + '%(seller)s'}"
            with driver_cursor(self._conn, sql, row_factory=tuple_row) as cur:
                yield from cur.execute(sql, {"values": sorted(values), "seller": seller_id}).fetchall()
            return
        statement = sa.text(f"{select} IN :values{seller and seller + ':seller'}").bindparams(
            sa.bindparam("values", expanding=True))
        for chunk in _chunks(values):
            yield from (tuple(row) for row in self._conn.execute(statement, {"values": chunk, "seller": seller_id}))

    def _copy(self, sql: str, rows: Iterator[tuple[object, ...]]) -> None:
        with driver_cursor(self._conn, sql) as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
