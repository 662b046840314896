"""Repositories: each reads and writes one kind of row through the unit of work's connection.

Statements are `text()` built once at import; the per-call cost is binding parameters.
"""

from __future__ import annotations

import builtins
import hashlib
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.domain.errors import AmbiguousOrderNumber, OrderNotFound, VersionMismatch
from kalem.domain.events import Event
from kalem.domain.orders import CancelRequest, Order
from kalem.store import channel_accounts, codec, outbox
from kalem.store.billing import COLUMNS as billing_columns
from kalem.store.billing import BillingWithLock
from kalem.store.hot import Hot
from kalem.store.key_check import COLUMN as key_column
from kalem.store.key_check import NO_KEY, KeyCheck
from kalem.store.money_with_lock import COLUMNS as money_columns
from kalem.store.money_with_lock import MoneyWithLock
from kalem.store.refunds import RefundRepository
from kalem.store.routing import COLUMNS as routed
from kalem.store.routing import Routing

_ORDER_COLUMNS = ("id, seller_id, order_number, account_order_number, status, version, last_sequence, "
                  "intake_hash, created_at, updated_at, body, channel")


def _q(sql: str) -> sa.TextClause:
    return sa.text(sql)


class OrderRepository:
    _BY_NUMBER = f"SELECT {_ORDER_COLUMNS} FROM orders WHERE order_number = :n"
    _BY_NUMBER_SELLER = f"SELECT {_ORDER_COLUMNS} FROM orders WHERE order_number = :n AND seller_id = :s"
    _BY_ID = f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = :id"
    # SQLite's (on PostgreSQL a new order is written with its lines and events in one statement:
    # store/folded_write.py)
    _INSERT = _q(f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES (:id, :seller_id, :order_number, "
                 ":account_order_number, :status, :version, :last_sequence, :intake_hash, :created_at, "
                 ":updated_at, :body, :channel)")
    # SQLite's (on PostgreSQL an order is saved with its events in one statement: store/folded_write.py)
    _UPDATE = _q("UPDATE orders SET status = :status, version = :version, last_sequence = :last_sequence, "
                   "updated_at = :updated_at, body = :body WHERE id = :id AND seller_id = :seller_id "
                   "AND version = :expected")
    _INSERT_LINES = _q("INSERT INTO order_lines (seller_id, line_id, order_id) VALUES (:s, :l, :o)")
    _LINE = _q("SELECT order_id, seller_id FROM order_lines WHERE line_id = :l")
    _LINE_SELLER = _q("SELECT order_id, seller_id FROM order_lines WHERE line_id = :l AND seller_id = :s")

    # built once per (lock_rows, row_lock), not per unit of work
    _STATEMENTS: dict[tuple[bool, bool], dict[tuple[str, bool, bool], Hot]] = {}

    def __init__(self, conn: Connection, *, lock_rows: bool, routing: Routing | None = None,
                 money: MoneyWithLock | None = None, billing: BillingWithLock | None = None,
                 row_lock: bool = True, key: KeyCheck = NO_KEY) -> None:
        """`lock_rows` (PostgreSQL): a lock is `SELECT … FOR UPDATE`, and also reads who hears of the
        order's events into `routing` (store/routing.py), what its refunds need into `money`
        (store/money_with_lock.py) and, for a billing command, its bill into `billing`
        (store/billing.py). Without `row_lock` (an optimistic unit of work) it reads all of it
        in one snapshot but takes no row lock: the write's version check stands in for it. `key`: an
        optimistic unit of work's `Idempotency-Key` not yet judged, read with the lock when that
        comes first (store/key_check.py), else on its own before any other statement."""
        self._conn = conn
        mode = lock_rows, row_lock
        if mode not in self._STATEMENTS:
            reads = (("n", self._BY_NUMBER), ("ns", self._BY_NUMBER_SELLER), ("id", self._BY_ID))
            statements = {(kind, lock, False): Hot(self._locking(base, row_lock) if lock and lock_rows else base)
                          for kind, base in reads for lock in (False, True)}
            if lock_rows:   # a billing command's lock reads the bill with its order, by id
                statements["idb", True, False] = Hot(self._locking(self._BY_ID, row_lock, more=billing_columns))
            if lock_rows and not row_lock:   # a keyed compare-and-swap reads its key with its order, by number
                statements.update({(kind, True, True): Hot(self._locking(base, row_lock, more=key_column))
                                   for kind, base in reads[:2]})
            self._STATEMENTS[mode] = statements
        self._sql = self._STATEMENTS[mode]
        self._routing = routing if lock_rows else None
        self._money = money if lock_rows else None
        self._billing = billing if lock_rows else None
        self._key = key if lock_rows else NO_KEY

    @staticmethod
    def _locking(select: str, row_lock: bool = True, more: str = "") -> str:
        """The lock's statement: `select` with what a write needs (and `more` columns), `FOR UPDATE`."""
        columns = f"{routed}, {money_columns}, {more}" if more else f"{routed}, {money_columns}"
        read = select.replace(f"SELECT {_ORDER_COLUMNS} FROM", f"SELECT {_ORDER_COLUMNS}, {columns} FROM", 1)
        return read + " FOR UPDATE" if row_lock else read

    def _found(self, rows: Sequence[Any], for_update: bool, billed: bool = False) -> None:
        if for_update and rows:
            if self._routing is not None:
                self._routing.take(rows[0])
            if self._money is not None and len(rows) == 1:
                self._money.take(rows[0], RefundRepository.load)
            if billed and self._billing is not None:
                self._billing.take(rows[0])

    def get(self, order_number: str, seller_id: str | None, *, for_update: bool = False) -> Order:
        """The order with this number; `seller_id` scopes the look-up (other sellers' orders are absent)."""
        kind, params = ("n", {"n": order_number}) if seller_id is None else ("ns", {"n": order_number, "s": seller_id})
        keyed = for_update and self._key.pending
        if keyed:
            params.update(self._key.params)
        rows = self._rows(kind, for_update, keyed, params)
        if keyed:
            if rows:
                self._key.judge(rows[0].answer_key)
            else:   # no row to carry it: read on its own, as the key's answer comes before "not found"
                self._key.apart()
        if not rows:
            raise OrderNotFound(f"order {order_number} not found", order_number=order_number)
        if len(rows) > 1:
            raise AmbiguousOrderNumber(
                f"order number {order_number} exists for several sellers; pass seller_id",
                order_number=order_number, seller_ids=sorted(r.seller_id for r in rows))
        self._found(rows, for_update)
        return codec.load_order(rows[0])

    def get_by_id(self, order_id: str, *, for_update: bool = False, billing: bool = False) -> Order:
        """`billing`: a lock (`for_update`) also reads the order's bill (a billing command's)."""
        billed = for_update and billing and self._billing is not None
        rows = self._rows("idb" if billed else "id", for_update, False, {"id": order_id})
        row = rows[0] if rows else None
        if row is None:
            raise OrderNotFound(f"order {order_id} not found", order_id=order_id)
        self._found(rows, for_update, billed)
        return codec.load_order(row)

    def _rows(self, kind: str, for_update: bool, keyed: bool, params: dict[str, Any]) -> Sequence[Any]:
        if not keyed:
            self._key.apart()   # judged before any statement that does not carry it
        return self._sql[kind, for_update, keyed].rows(self._conn, params)

    def locate_line(self, line_id: str, seller_id: str | None) -> str | None:
        """The id of the order holding this line, or None (also when ambiguous across sellers)."""
        if seller_id is None:
            rows = self._conn.execute(self._LINE, {"l": line_id}).all()
        else:
            rows = self._conn.execute(self._LINE_SELLER, {"l": line_id, "s": seller_id}).all()
        return rows[0].order_id if len(rows) == 1 else None

    def add(self, order: Order, intake_hash: str) -> None:
        self.add_many([(order, intake_hash)])

    def add_many(self, orders: Sequence[tuple[Order, str]]) -> None:
        """New orders with their intake hashes: the order rows, then the line index, each one `executemany`."""
        if not orders:
            return
        self._conn.execute(self._INSERT, [{
            "id": order.id, "seller_id": order.seller_id, "order_number": order.order_number,
            "account_order_number": order.account_order_number, "status": order.status.value,
            "version": order.version, "last_sequence": order.last_sequence, "intake_hash": intake_hash,
            "created_at": order.created_at, "updated_at": order.updated_at, "body": codec.order_body(order),
            "channel": order.channel,
        } for order, intake_hash in orders])
        self._conn.execute(self._INSERT_LINES, [{"s": order.seller_id, "l": ln.line_id, "o": order.id}
                                                for order, _ in orders for ln in order.lines])

    def save(self, order: Order, *, expected_version: int) -> None:
        changed = self._conn.execute(self._UPDATE, {
            "id": order.id, "seller_id": order.seller_id, "status": order.status.value, "version": order.version,
            "last_sequence": order.last_sequence, "updated_at": order.updated_at,
            "body": codec.order_body(order), "expected": expected_version,
        }).rowcount
        if changed != 1:
            raise self.version_mismatch(order)

    @staticmethod
    def version_mismatch(order: Order) -> VersionMismatch:
        """The error of a save whose order is no longer at the version its lock read."""
        return VersionMismatch(f"order {order.order_number} changed meanwhile; retry", order_number=order.order_number)

    def count(self, seller_id: str | None, channel: str | None = None, *,
              changed: tuple[datetime | None, datetime | None] = (None, None)) -> int:
        clauses, params = [], {"s": seller_id, "ch": channel, "cf": changed[0], "ct": changed[1]}
        if seller_id is not None:
            clauses.append("seller_id = :s")
        if channel is not None:
            clauses.append("channel = :ch")
        clauses += self._changed(changed)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return int(self._conn.execute(_q(f"SELECT COUNT(*) FROM orders {where}"), params).scalar_one())

    def channels(self, seller_id: str) -> builtins.list[str]:
        """The channels a seller has sold on, by name (read from the (seller, channel, created) index)."""
        rows = self._conn.execute(_q("SELECT DISTINCT channel FROM orders WHERE seller_id = :s ORDER BY channel"),
                                  {"s": seller_id}).all()
        return [r[0] for r in rows]

    @staticmethod
    def _changed(changed: tuple[datetime | None, datetime | None]) -> builtins.list[str]:
        """`updated_at` within [from, to], each end optional (bound as :cf and :ct)."""
        return [clause for clause, given in (("updated_at >= :cf", changed[0]), ("updated_at <= :ct", changed[1]))
                if given is not None]

    def list(self, seller_id: str | None, *, limit: int, after: tuple[str, str] | None = None,
             status: str | None = None, offset: int = 0, channel: str | None = None,
             changed: tuple[datetime | None, datetime | None] = (None, None)) -> list[Order]:
        """Newest first, keyset-paginated on (created_at, id) (or by `offset`, for page numbers);
        `changed` keeps the orders last changed within [from, to] (either end may be None)."""
        params: dict[str, Any]
        clauses, params = self._changed(changed), {"limit": limit, "offset": offset, "cf": changed[0],
                                                   "ct": changed[1]}
        if seller_id is not None:
            clauses.append("seller_id = :s")
            params["s"] = seller_id
        if channel is not None:
            clauses.append("channel = :ch")
            params["ch"] = channel
        if status is not None:
            clauses.append("status = :st")
            params["st"] = status
        if after is not None:
            clauses.append("(created_at < :ac OR (created_at = :ac AND id < :ai))")
            params["ac"], params["ai"] = datetime.fromisoformat(after[0]), after[1]
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._conn.execute(
            _q(f"SELECT {_ORDER_COLUMNS} FROM orders {where} ORDER BY created_at DESC, id DESC "
               "LIMIT :limit OFFSET :offset"),
            params).all()
        return [codec.load_order(r) for r in rows]


class CancelRequestRepository:
    _COLUMNS = "id, order_id, seller_id, order_number, status, created_at, body"
    _INSERT = _q(f"INSERT INTO cancel_requests ({_COLUMNS}) VALUES (:id, :order_id, :seller_id, "
                 ":order_number, :status, :created_at, :body)")
    _UPDATE = _q("UPDATE cancel_requests SET status = :status, body = :body WHERE id = :id AND seller_id = :s")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, request: CancelRequest) -> None:
        self._conn.execute(self._INSERT, self._row(request))

    def save(self, request: CancelRequest) -> None:
        self._conn.execute(self._UPDATE, {"id": request.id, "s": request.seller_id, "status": request.status.value,
                                          "body": codec.request_body(request)})

    def get(self, request_id: str, seller_id: str | None) -> CancelRequest | None:
        sql = f"SELECT {self._COLUMNS} FROM cancel_requests WHERE id = :id"
        params: dict[str, Any] = {"id": request_id}
        if seller_id is not None:
            sql += " AND seller_id = :s"
            params["s"] = seller_id
        row = self._conn.execute(_q(sql), params).first()
        return codec.load_request(row) if row else None

    def for_order(self, order_id: str) -> list[CancelRequest]:
        rows = self._conn.execute(
            _q(f"SELECT {self._COLUMNS} FROM cancel_requests WHERE order_id = :o ORDER BY created_at, id"),
            {"o": order_id}).all()
        return [codec.load_request(r) for r in rows]

    def list(self, seller_id: str | None, *, status: str | None, limit: int,
             after: tuple[str, str] | None = None, order_number: str | None = None) -> list[CancelRequest]:
        """Oldest first (a queue), keyset-paginated on (created_at, id)."""
        params: dict[str, Any]
        clauses, params = [], {"limit": limit}
        for column, value, name in (("seller_id", seller_id, "s"), ("status", status, "st"),
                                    ("order_number", order_number, "on")):
            if value is not None:
                clauses.append(f"{column} = :{name}")
                params[name] = value
        if after is not None:
            clauses.append("(created_at > :ac OR (created_at = :ac AND id > :ai))")
            params["ac"], params["ai"] = datetime.fromisoformat(after[0]), after[1]
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._conn.execute(
            _q(f"SELECT {self._COLUMNS} FROM cancel_requests {where} ORDER BY created_at, id LIMIT :limit"),
            params).all()
        return [codec.load_request(r) for r in rows]

    def search(self, seller_id: str | None, *, status: str | None = None, created_from: datetime | None = None,
               created_before: datetime | None = None, order_number_like: str | None = None,
               channel: str | None = None, limit: int = 500) -> builtins.list[CancelRequest]:
        """The hub's queue: pending first, oldest first (longest waiting on top); decided ones newest first."""
        params: dict[str, Any]
        clauses, params = [], {"limit": limit}
        for column, value, name, op in (("seller_id", seller_id, "s", "="), ("status", status, "st", "="),
                                        ("created_at", created_from, "cf", ">="),
                                        ("created_at", created_before, "cb", "<")):
            if value is not None:
                clauses.append(f"{column} {op} :{name}")
                params[name] = value
        if order_number_like:
            clauses.append("LOWER(order_number) LIKE :on ESCAPE '!'")
            escaped = order_number_like.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
            params["on"] = f"%{escaped}%"
        if channel is not None:  # a request's channel is its order's
            same_seller = " AND seller_id = :s" if seller_id is not None else ""
            clauses.append(f"order_id IN (SELECT id FROM orders WHERE channel = :ch{same_seller})")
            params["ch"] = channel
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        pending_first = ("CASE WHEN status = 'pending' THEN 0 ELSE 1 END, "
                         "CASE WHEN status = 'pending' THEN created_at END ASC, created_at DESC, id")
        rows = self._conn.execute(
            _q(f"SELECT {self._COLUMNS} FROM cancel_requests {where} ORDER BY {pending_first} LIMIT :limit"),
            params).all()
        return [codec.load_request(r) for r in rows]

    @staticmethod
    def _row(request: CancelRequest) -> dict[str, Any]:
        return {"id": request.id, "order_id": request.order_id, "seller_id": request.seller_id,
                "order_number": request.order_number, "status": request.status.value,
                "created_at": request.created_at, "body": codec.request_body(request)}


class EventRepository:
    _INSERT = _q("INSERT INTO events (id, order_id, seller_id, sequence, type, occurred_at, actor, data) "
                 "VALUES (:id, :order_id, :seller_id, :sequence, :type, :occurred_at, :actor, :data)")
    # PostgreSQL stamps each event with its transaction id, the change feed's order (docs/webhooks.md) — or
    # with the order's previous event's stamp when that is larger. A transaction gets its id when it first
    # writes or locks a row, which may be while it waits for the order's lock; the later writer can then
    # hold the smaller id. Taking the larger keeps an order's events in sequence in the feed, and since a
    # stamp is never below its own transaction's id, the feed's rule (only stamps below the oldest running
    # transaction) still lets nothing appear behind a cursor.
    _INSERT_PG = Hot("INSERT INTO events (id, order_id, seller_id, sequence, type, occurred_at, actor, data, xid) "
                      "VALUES (:id, :order_id, :seller_id, :sequence, :type, :occurred_at, :actor, :data, "
                      "GREATEST(pg_current_xact_id()::text::bigint, (SELECT e.xid FROM events e "
                      "WHERE e.order_id = CAST(:order_id AS VARCHAR) ORDER BY e.sequence DESC LIMIT 1)))")
    _FOR_ORDER = _q("SELECT id, order_id, seller_id, sequence, type, occurred_at, actor, data "
                    "FROM events WHERE order_id = :o AND sequence > :after ORDER BY sequence LIMIT :limit")

    def __init__(self, conn: Connection, routing: Routing | None = None) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        self._routing = routing or Routing()
        self.appended: list[Event] = []  # this transaction's, counted by the metrics once it commits

    @staticmethod
    def new_ids(events: Sequence[Event]) -> list[str]:
        return [uuid.uuid4().hex for _ in events]

    def append(self, events: Sequence[Event]) -> list[str]:
        ids = self.new_ids(events)
        self.appended.extend(events)
        if events:
            rows = [
                {"id": eid, "order_id": e.order_id, "seller_id": e.seller_id, "sequence": e.sequence,
                 "type": e.type, "occurred_at": e.occurred_at, "actor": e.actor, "data": codec.stored_json(e.data)}
                for eid, e in zip(ids, events, strict=True)
            ]
            if self._postgres:
                self._INSERT_PG.run(self._conn, rows)
            else:
                self._conn.execute(self._INSERT, rows)
            # webhook deliveries and pushes to the order's channel, in this same transaction (from the
            # enabled subscriptions and accounts read with an order's lock, when one was: store/routing.py)
            outbox.enqueue(self._conn, events, ids, self._routing.subscriptions)
            channel_accounts.enqueue(self._conn, events, ids, self._routing.pushers)
        return ids

    def for_order(self, order_id: str, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self._conn.execute(self._FOR_ORDER, {"o": order_id, "after": after, "limit": limit}).all()
        return [{"id": r.id, "sequence": r.sequence, "type": r.type,
                 "occurred_at": codec.as_utc(r.occurred_at), "actor": r.actor,
                 "data": codec.load_event_data(r.type, r.data)}
                for r in rows]


class SellerRepository:
    _ENSURE = _q("INSERT INTO sellers (id, created_at) VALUES (:id, :at) ON CONFLICT (id) DO NOTHING")
    _EXISTING = _q("SELECT id FROM sellers WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True))

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def ensure(self, seller_id: str, now: datetime) -> None:
        """A seller comes into being when first named, by an order or a token."""
        self._conn.execute(self._ENSURE, {"id": seller_id, "at": now})

    def all(self) -> list[str]:
        return list(self._conn.execute(_q("SELECT id FROM sellers ORDER BY id")).scalars())

    def exists(self, seller_id: str) -> bool:
        return self._conn.execute(_q("SELECT 1 FROM sellers WHERE id = :id"), {"id": seller_id}).first() is not None

    def existing(self, seller_ids: Collection[str]) -> set[str]:
        """Those of these sellers that exist."""
        if not seller_ids:
            return set()
        return set(self._conn.execute(self._EXISTING, {"ids": sorted(seller_ids)}).scalars())


class TokenRepository:
    _BY_HASH = _q("SELECT id, kind, role, seller_id, expires_at, revoked_at FROM api_tokens WHERE token_hash = :h")
    _INSERT = _q("INSERT INTO api_tokens (id, token_hash, kind, role, seller_id, name, created_at, expires_at, "
                 "created_by) VALUES (:id, :h, :kind, :role, :seller_id, :name, :at, :exp, :by)")
    _COLUMNS = "id, kind, role, seller_id, name, created_at, expires_at, revoked_at, created_by"

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @staticmethod
    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def add(self, *, token_id: str, secret: str, kind: str, role: str, seller_id: str | None,
            name: str | None, now: datetime, expires_at: datetime | None, created_by: str | None = None) -> None:
        self._conn.execute(self._INSERT, {"id": token_id, "h": self.digest(secret), "kind": kind, "role": role,
                                          "seller_id": seller_id, "name": name, "at": now, "exp": expires_at,
                                          "by": created_by})

    def find(self, secret: str) -> Any:
        return self._conn.execute(self._BY_HASH, {"h": self.digest(secret)}).first()

    def names(self, token_ids: list[str]) -> dict[str, str]:
        """The names tokens were created with (`--name`), for the ids that have one."""
        if not token_ids:
            return {}
        rows = self._conn.execute(sa.text("SELECT id, name FROM api_tokens WHERE id IN :ids AND name IS NOT NULL")
                                  .bindparams(sa.bindparam("ids", expanding=True)), {"ids": token_ids})
        return {r.id: r.name for r in rows}

    def by_id(self, token_id: str) -> Any:
        return self._conn.execute(_q("SELECT id, role, seller_id, revoked_at, expires_at FROM api_tokens "
                                     "WHERE id = :id"), {"id": token_id}).first()

    def revoke(self, token_id: str, now: datetime) -> bool:
        """Revoke (keeping the first revocation's time); False if there is no such token."""
        result = self._conn.execute(
            _q("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, :at) WHERE id = :id"),
            {"id": token_id, "at": now})
        return result.rowcount == 1

    def revoke_made_by(self, creators: list[str], now: datetime) -> list[str]:
        """Revoke every live token these credentials made, and what those made in turn; their ids."""
        revoked: list[str] = []
        while creators:
            creators = list(self._conn.execute(
                sa.text("SELECT id FROM api_tokens WHERE created_by IN :c AND revoked_at IS NULL")
                .bindparams(sa.bindparam("c", expanding=True)), {"c": creators}).scalars())
            if creators:
                self._conn.execute(sa.text("UPDATE api_tokens SET revoked_at = :at WHERE id IN :ids")
                                   .bindparams(sa.bindparam("ids", expanding=True)), {"ids": creators, "at": now})
                revoked += creators
        return revoked

    def get(self, token_id: str) -> Any:
        """One token's row without its digest (None if there is no such token)."""
        return self._conn.execute(sa.text(f"SELECT {self._COLUMNS} FROM api_tokens WHERE id = :id"),
                                  {"id": token_id}).first()

    def listed(self, seller_id: str | None, limit: int) -> list[Any]:
        """Tokens, newest first: one seller's, or (None) everyone's."""
        where = "WHERE seller_id = :s " if seller_id is not None else ""
        return list(self._conn.execute(sa.text(f"SELECT {self._COLUMNS} FROM api_tokens {where}"
                                               "ORDER BY created_at DESC, id LIMIT :n"), {"s": seller_id, "n": limit}))


class UserRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, username: str, password_hash: str, role: str, seller_id: str | None, now: datetime) -> None:
        self._conn.execute(_q("INSERT INTO users (username, password_hash, role, seller_id, created_at) "
                              "VALUES (:u, :p, :r, :s, :at)"),
                           {"u": username, "p": password_hash, "r": role, "s": seller_id, "at": now})

    def get(self, username: str) -> Any:
        return self._conn.execute(_q("SELECT username, password_hash, role, seller_id, disabled_at, "
                                     "password_changed_at FROM users WHERE username = :u"), {"u": username}).first()

    def set_password(self, username: str, password_hash: str, changed_at: datetime | None = None) -> bool:
        """Store a hash; `changed_at` when the password itself changed (not a rehash of the same one)."""
        if changed_at is None:
            return self._conn.execute(_q("UPDATE users SET password_hash = :p WHERE username = :u"),
                                      {"u": username, "p": password_hash}).rowcount == 1
        return self._conn.execute(_q("UPDATE users SET password_hash = :p, password_changed_at = :at "
                                     "WHERE username = :u"),
                                  {"u": username, "p": password_hash, "at": changed_at}).rowcount == 1

    def disable(self, username: str, now: datetime) -> bool:
        """Disable (keeping the first time); False if there is no such user."""
        return self._conn.execute(_q("UPDATE users SET disabled_at = COALESCE(disabled_at, :at) WHERE username = :u"),
                                  {"u": username, "at": now}).rowcount == 1


class HubSessionRepository:
    """Hub sessions ended before their cookie expires (signed out)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def end(self, sid: str, expires_at: datetime) -> None:
        if not self.ended(sid):
            self._conn.execute(_q("INSERT INTO hub_session_ends (sid, expires_at) VALUES (:s, :e)"),
                               {"s": sid, "e": expires_at})

    def ended(self, sid: str) -> bool:
        return self._conn.execute(_q("SELECT 1 FROM hub_session_ends WHERE sid = :s"), {"s": sid}).first() is not None

    def prune(self, now: datetime, limit: int) -> int:
        """Forget up to `limit` ends of sessions whose cookie has expired (it is refused on its own)."""
        result = self._conn.execute(
            _q("DELETE FROM hub_session_ends WHERE sid IN (SELECT sid FROM hub_session_ends WHERE expires_at < :now "
               "LIMIT :n)"), {"now": now, "n": limit})
        return result.rowcount


class IdempotencyRepository:
    """Stored responses of POSTs made with an `Idempotency-Key`, per principal."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # The statements every keyed write runs (the claim, its completion, a twin's look-up) are `Hot`:
    # psycopg's own cursor on PostgreSQL, without SQLAlchemy's per-statement work.
    _GET = Hot("SELECT fingerprint, state, status_code, response, locked_until FROM idempotency_keys "
               "WHERE principal = :p AND key = :k")
    _CLAIM = ("INSERT INTO idempotency_keys (principal, key, fingerprint, state, locked_until, created_at) "
              "VALUES (:p, :k, :f, 'running', :u, :at)")
    _CLAIM_OR_WAIT = Hot(_CLAIM + " ON CONFLICT (principal, key) DO NOTHING")
    _COMPLETE = Hot("UPDATE idempotency_keys SET state = 'done', status_code = :c, response = :r "
                    "WHERE principal = :p AND key = :k AND state = 'running' AND locked_until = :l")

    def get(self, principal: str, key: str) -> Any:
        rows = self._GET.rows(self._conn, {"p": principal, "k": key})
        return rows[0] if rows else None

    def claim(self, principal: str, key: str, fingerprint: str, now: datetime, until: datetime) -> None:
        self._conn.execute(_q(self._CLAIM), {"p": principal, "k": key, "f": fingerprint, "u": until, "at": now})

    def claim_or_wait(self, principal: str, key: str, fingerprint: str, now: datetime, until: datetime) -> bool:
        """Claim the key in this transaction; False if it is taken. A twin's claim not yet committed
        holds the key's index entry: this waits for that transaction to end, then finds its row (it
        committed) or claims the key (it rolled back)."""
        return self._CLAIM_OR_WAIT.run(self._conn, {"p": principal, "k": key, "f": fingerprint, "u": until,
                                                    "at": now}) == 1

    def take_over(self, principal: str, key: str, now: datetime, until: datetime) -> bool:
        """Re-claim a key whose first request died without finishing (its lease ran out)."""
        result = self._conn.execute(
            _q("UPDATE idempotency_keys SET locked_until = :u WHERE principal = :p AND key = :k "
               "AND state = 'running' AND locked_until < :now"),
            {"p": principal, "k": key, "u": until, "now": now})
        return result.rowcount == 1

    # `lease` (the claim's `locked_until`) fences the two writes below: a request whose lease ran out
    # and was taken over by a retry must neither store its answer nor free the retry's claim.

    def complete(self, principal: str, key: str, lease: datetime, status_code: int, response: str) -> bool:
        return self._COMPLETE.run(self._conn, {"p": principal, "k": key, "l": lease, "c": status_code,
                                               "r": response}) == 1

    def prune(self, before: datetime, now: datetime, limit: int) -> int:
        """Forget up to `limit` keys created before `before`: finished ones, and claims whose lease ran out."""
        result = self._conn.execute(
            _q("DELETE FROM idempotency_keys WHERE (principal, key) IN (SELECT principal, key FROM idempotency_keys "
               "WHERE created_at < :b AND (state = 'done' OR locked_until < :now) LIMIT :n)"),
            {"b": before, "now": now, "n": limit})
        return result.rowcount

    def release(self, principal: str, key: str, lease: datetime) -> None:
        self._conn.execute(_q("DELETE FROM idempotency_keys WHERE principal = :p AND key = :k AND state = 'running' "
                              "AND locked_until = :l"), {"p": principal, "k": key, "l": lease})

