"""Rows of refunds, return requests and seller cancellation strategies.

Refunds and returns of an order are written only in a transaction that holds the order's lock, so
reading them after taking that lock sees every earlier one (that is what makes two refunds of the
same units impossible). The full IBAN has a column of its own and never enters a JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.domain.orders import RETURN, ReturnRequest
from kalem.domain.refunds import Payout, Refund, RefundCause, RefundMethod, RefundStatus
from kalem.store.codec import as_utc, dumps, load_request, request_body, stored_json
from kalem.store.money_with_lock import MoneyWithLock

_q = sa.text


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class RefundRepository:
    """On PostgreSQL, with the reads a lock brought (store/money_with_lock.py): an order's refunds are
    answered from them, and a new refund is written with its order's save (store/folded_write.py), or,
    if none comes, before anything reads refunds again and before the commit (`flush`)."""

    _COLUMNS = "id, order_id, seller_id, order_number, status, created_at, iban, body"
    _INSERT = _q(f"INSERT INTO refunds ({_COLUMNS}) VALUES (:id, :order_id, :seller_id, :order_number, :status, "
                 ":created_at, :iban, :body)")
    _UPDATE = _q("UPDATE refunds SET status = :status, iban = :iban, body = :body WHERE id = :id "
                 "AND seller_id = :seller_id")

    def __init__(self, conn: Connection, money: MoneyWithLock | None = None) -> None:
        self._conn = conn
        self._money = money
        self._pending: list[Refund] = []

    def add(self, refund: Refund) -> None:
        if self._money is None:
            self._conn.execute(self._INSERT, self.row(refund))
            return
        self._pending.append(refund)
        held = self._money.refunds.get(refund.order_id)
        if held is not None:
            held.append(refund)
            held.sort(key=lambda r: (r.created_at, r.id))

    @property
    def pending(self) -> tuple[Refund, ...]:
        """The refunds added and not yet written."""
        return tuple(self._pending)

    def take_pending(self, order_id: str) -> list[dict[str, Any]]:
        """The rows of the refunds added for `order_id` and not yet written; the caller writes them."""
        mine = [r for r in self._pending if r.order_id == order_id]
        self._pending = [r for r in self._pending if r.order_id != order_id]
        return [self.row(r) for r in mine]

    def flush(self) -> None:
        """Write the refunds added and not yet written."""
        pending, self._pending = self._pending, []
        for refund in pending:
            self._conn.execute(self._INSERT, self.row(refund))

    def save(self, refund: Refund) -> None:
        self.flush()
        self._conn.execute(self._UPDATE, {"id": refund.id, "seller_id": refund.seller_id,
                                          "status": refund.status.value, "iban": refund.payout.iban,
                                          "body": self._body(refund)})
        held = self._money.refunds.get(refund.order_id) if self._money is not None else None
        if held is not None:
            held[:] = [refund if r.id == refund.id else r for r in held]

    def get(self, refund_id: str, seller_id: str | None) -> Refund | None:
        self.flush()
        sql, params = f"SELECT {self._COLUMNS} FROM refunds WHERE id = :id", {"id": refund_id}
        if seller_id is not None:
            sql, params = sql + " AND seller_id = :s", {**params, "s": seller_id}
        row = self._conn.execute(_q(sql), params).first()
        return self.load(row) if row else None

    def for_order(self, order_id: str) -> list[Refund]:
        held = self._money.refunds.get(order_id) if self._money is not None else None
        if held is not None:
            return list(held)
        self.flush()
        rows = self._conn.execute(
            _q(f"SELECT {self._COLUMNS} FROM refunds WHERE order_id = :o ORDER BY created_at, id"), {"o": order_id})
        return [self.load(r) for r in rows]

    def for_orders(self, order_ids: Iterable[str]) -> dict[str, list[Refund]]:
        """The refunds of several orders at once, each order's in creation order."""
        self.flush()
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        stmt = _q(f"SELECT {self._COLUMNS} FROM refunds WHERE order_id IN :ids ORDER BY created_at, id").bindparams(
            sa.bindparam("ids", expanding=True))
        found: dict[str, list[Refund]] = {}
        for row in self._conn.execute(stmt, {"ids": ids}):
            found.setdefault(row.order_id, []).append(self.load(row))
        return found

    def search(self, seller_id: str | None, *, status: str | None, limit: int) -> list[Refund]:
        """Refunds newest first, of one seller or (None) every seller, of one status or any."""
        self.flush()
        clauses: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        for column, value in (("seller_id", seller_id), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = :{column}")
                params[column] = value
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._conn.execute(
            _q(f"SELECT {self._COLUMNS} FROM refunds {where} ORDER BY created_at DESC, id DESC LIMIT :limit"), params)
        return [self.load(r) for r in rows]

    @classmethod
    def row(cls, refund: Refund) -> dict[str, Any]:
        return {"id": refund.id, "order_id": refund.order_id, "seller_id": refund.seller_id,
                "order_number": refund.order_number, "status": refund.status.value, "created_at": refund.created_at,
                "iban": refund.payout.iban, "body": cls._body(refund)}

    @staticmethod
    def _body(r: Refund) -> str:
        return stored_json({
            "cause": r.cause.value, "lines": [list(x) for x in r.lines], "breakdown": r.breakdown,
            "amount": r.amount, "currency": r.currency, "method": r.payout.method.value,
            "holder_name": r.payout.holder_name, "created_by": r.created_by, "forced_amount": r.forced_amount,
            "forced_by": r.forced_by, "reference": r.reference, "return_id": r.return_id,
            "settled_by": r.settled_by, "settled_at": r.settled_at, "units": [list(u) for u in r.units],
            "on_decision": r.on_decision})

    @staticmethod
    def load(row: Any) -> Refund:
        b = row.body if isinstance(row.body, dict) else json.loads(row.body)   # a dict: read with a lock
        return Refund(
            id=row.id, order_id=row.order_id, seller_id=row.seller_id, order_number=row.order_number,
            cause=RefundCause(b["cause"]), lines=tuple((lid, n) for lid, n in b["lines"]), breakdown=b["breakdown"],
            amount=Decimal(b["amount"]), currency=b["currency"],
            payout=Payout(RefundMethod(b["method"]), row.iban, b["holder_name"]),
            status=RefundStatus(row.status), created_by=b["created_by"], created_at=as_utc(row.created_at),
            forced_amount=None if b["forced_amount"] is None else Decimal(b["forced_amount"]),
            forced_by=b["forced_by"], reference=b["reference"], return_id=b["return_id"],
            settled_by=b["settled_by"], settled_at=_time(b["settled_at"]),
            units=tuple((lid, first, last) for lid, first, last in b.get("units", ())),
            on_decision=b.get("on_decision", False))


class ReturnRepository:
    _COLUMNS = "id, order_id, seller_id, order_number, status, created_at, body"
    _INSERT = _q(f"INSERT INTO return_requests ({_COLUMNS}) VALUES (:id, :order_id, :seller_id, :order_number, "
                 ":status, :created_at, :body)")
    _UPDATE = _q("UPDATE return_requests SET status = :status, body = :body WHERE id = :id "
                 "AND seller_id = :seller_id")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, request: ReturnRequest) -> None:
        self._conn.execute(self._INSERT, {
            "id": request.id, "order_id": request.order_id, "seller_id": request.seller_id,
            "order_number": request.order_number, "status": request.status.value,
            "created_at": request.created_at, "body": self._body(request)})

    def save(self, request: ReturnRequest) -> None:
        self._conn.execute(self._UPDATE, {"id": request.id, "seller_id": request.seller_id,
                                          "status": request.status.value, "body": self._body(request)})

    def get(self, return_id: str, seller_id: str | None) -> ReturnRequest | None:
        sql, params = f"SELECT {self._COLUMNS} FROM return_requests WHERE id = :id", {"id": return_id}
        if seller_id is not None:
            sql, params = sql + " AND seller_id = :s", {**params, "s": seller_id}
        row = self._conn.execute(_q(sql), params).first()
        return self._load(row) if row else None

    def list(self, seller_id: str | None, *, status: str | None = None, limit: int = 100) -> list[ReturnRequest]:
        params: dict[str, Any]
        clauses, params = [], {"limit": limit}
        for column, value in (("seller_id", seller_id), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = :{column}")
                params[column] = value
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._conn.execute(
            _q(f"SELECT {self._COLUMNS} FROM return_requests {where} ORDER BY created_at, id LIMIT :limit"), params)
        return [self._load(r) for r in rows]

    @staticmethod
    def _body(r: ReturnRequest) -> str:
        return request_body(r)

    @staticmethod
    def _load(row: Any) -> ReturnRequest:
        return load_request(row, RETURN)


class StrategyRepository:
    _GET = _q("SELECT strategy FROM seller_strategies WHERE seller_id = :s")
    _PUT = _q("INSERT INTO seller_strategies (seller_id, strategy, updated_at, updated_by) VALUES (:s, :j, :at, :by) "
              "ON CONFLICT (seller_id) DO UPDATE SET strategy = excluded.strategy, "
              "updated_at = excluded.updated_at, updated_by = excluded.updated_by")

    def __init__(self, conn: Connection, money: MoneyWithLock | None = None) -> None:
        self._conn = conn
        self._money = money

    def get(self, seller_id: str) -> dict[str, Any] | None:
        if self._money is not None and seller_id in self._money.strategies:
            raw = self._money.strategies[seller_id]   # read with an order's lock
        else:
            raw = self._conn.execute(self._GET, {"s": seller_id}).scalar()
        return json.loads(raw) if raw is not None else None

    def put(self, seller_id: str, strategy: dict[str, Any], now: datetime, by: str) -> None:
        self._conn.execute(self._PUT, {"s": seller_id, "j": dumps(strategy), "at": now, "by": by})
        if self._money is not None:
            self._money.strategies.pop(seller_id, None)


class RefundPolicyRepository:
    """A seller's refund policies: one row per channel, channel '' for the seller-wide one (None here)."""

    _GET = _q("SELECT channel, policy, updated_at, updated_by FROM refund_policies WHERE seller_id = :s "
              "ORDER BY channel")
    _FOR = _q("SELECT channel, policy FROM refund_policies WHERE seller_id = :s AND channel IN (:c, '')")
    _PUT = _q("INSERT INTO refund_policies (seller_id, channel, policy, updated_at, updated_by) "
              "VALUES (:s, :c, :p, :at, :by) ON CONFLICT (seller_id, channel) DO UPDATE SET "
              "policy = excluded.policy, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
    _DELETE = _q("DELETE FROM refund_policies WHERE seller_id = :s AND channel = :c")

    def __init__(self, conn: Connection, money: MoneyWithLock | None = None) -> None:
        self._conn = conn
        self._money = money

    def all(self, seller_id: str) -> list[tuple[str | None, str, datetime, str]]:
        """(channel or None for the seller-wide row, policy, updated at, updated by), seller-wide first."""
        return [(r.channel or None, r.policy, as_utc(r.updated_at), r.updated_by)
                for r in self._conn.execute(self._GET, {"s": seller_id})]

    def for_channel(self, seller_id: str, channel: str) -> dict[str | None, str]:
        """The rows that may decide `channel`'s policy: its own and the seller-wide one (key None); one read,
        or none when an order's lock brought them."""
        if self._money is not None and (seller_id, channel) in self._money.policies:
            return dict(self._money.policies[seller_id, channel])
        return {r.channel or None: r.policy for r in self._conn.execute(self._FOR, {"s": seller_id, "c": channel})}

    def put(self, seller_id: str, channel: str | None, policy: str, now: datetime, by: str) -> None:
        self._conn.execute(self._PUT, {"s": seller_id, "c": channel or "", "p": policy, "at": now, "by": by})
        self._forget(seller_id)

    def delete(self, seller_id: str, channel: str | None) -> bool:
        self._forget(seller_id)
        return bool(self._conn.execute(self._DELETE, {"s": seller_id, "c": channel or ""}).rowcount)

    def _forget(self, seller_id: str) -> None:
        if self._money is not None:
            for key in [k for k in self._money.policies if k[0] == seller_id]:
                del self._money.policies[key]
