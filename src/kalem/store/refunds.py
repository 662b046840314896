"""Rows of refunds, return requests, seller cancellation strategies and Akinon integer ids.

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

from kalem.domain.refund_records import Payout, Refund, RefundCause, RefundMethod, RefundStatus
from kalem.domain.returns import ReturnItem, ReturnRequest, ReturnStatus
from kalem.store.codec import as_utc, dumps

_q = sa.text


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class RefundRepository:
    _COLUMNS = "id, order_id, seller_id, order_number, status, created_at, iban, body"
    _INSERT = _q(f"INSERT INTO refunds ({_COLUMNS}) VALUES (:id, :order_id, :seller_id, :order_number, :status, "
                 ":created_at, :iban, :body)")
    _UPDATE = _q("UPDATE refunds SET status = :status, body = :body WHERE id = :id AND seller_id = :seller_id")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, refund: Refund) -> None:
        self._conn.execute(self._INSERT, {
            "id": refund.id, "order_id": refund.order_id, "seller_id": refund.seller_id,
            "order_number": refund.order_number, "status": refund.status.value, "created_at": refund.created_at,
            "iban": refund.payout.iban, "body": self._body(refund)})

    def save(self, refund: Refund) -> None:
        self._conn.execute(self._UPDATE, {"id": refund.id, "seller_id": refund.seller_id, "status": refund.status.value,
                                          "body": self._body(refund)})

    def get(self, refund_id: str, seller_id: str | None) -> Refund | None:
        sql, params = f"SELECT {self._COLUMNS} FROM refunds WHERE id = :id", {"id": refund_id}
        if seller_id is not None:
            sql, params = sql + " AND seller_id = :s", {**params, "s": seller_id}
        row = self._conn.execute(_q(sql), params).first()
        return self._load(row) if row else None

    def for_order(self, order_id: str) -> list[Refund]:
        rows = self._conn.execute(
            _q(f"SELECT {self._COLUMNS} FROM refunds WHERE order_id = :o ORDER BY created_at, id"), {"o": order_id})
        return [self._load(r) for r in rows]

    @staticmethod
    def _body(r: Refund) -> str:
        return dumps({
            "cause": r.cause.value, "lines": [list(x) for x in r.lines], "breakdown": r.breakdown,
            "amount": r.amount, "currency": r.currency, "method": r.payout.method.value,
            "holder_name": r.payout.holder_name, "created_by": r.created_by, "forced_amount": r.forced_amount,
            "forced_by": r.forced_by, "reference": r.reference, "return_id": r.return_id,
            "settled_by": r.settled_by, "settled_at": r.settled_at})

    @staticmethod
    def _load(row: Any) -> Refund:
        b = json.loads(row.body)
        return Refund(
            id=row.id, order_id=row.order_id, seller_id=row.seller_id, order_number=row.order_number,
            cause=RefundCause(b["cause"]), lines=tuple((lid, n) for lid, n in b["lines"]), breakdown=b["breakdown"],
            amount=Decimal(b["amount"]), currency=b["currency"],
            payout=Payout(RefundMethod(b["method"]), row.iban, b["holder_name"]),
            status=RefundStatus(row.status), created_by=b["created_by"], created_at=as_utc(row.created_at),
            forced_amount=None if b["forced_amount"] is None else Decimal(b["forced_amount"]),
            forced_by=b["forced_by"], reference=b["reference"], return_id=b["return_id"],
            settled_by=b["settled_by"], settled_at=_time(b["settled_at"]))


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
        return dumps({"items": [[i.line_id, i.quantity, i.reason_id, i.note] for i in r.items],
                      "requested_by": r.requested_by, "decided_by": r.decided_by, "decided_at": r.decided_at,
                      "decision_reason_id": r.decision_reason_id, "decision_note": r.decision_note})

    @staticmethod
    def _load(row: Any) -> ReturnRequest:
        b = json.loads(row.body)
        return ReturnRequest(
            id=row.id, order_id=row.order_id, seller_id=row.seller_id, order_number=row.order_number,
            status=ReturnStatus(row.status), items=tuple(ReturnItem(*i) for i in b["items"]),
            requested_by=b["requested_by"], created_at=as_utc(row.created_at), decided_by=b["decided_by"],
            decided_at=_time(b["decided_at"]), decision_reason_id=b["decision_reason_id"],
            decision_note=b["decision_note"])


class StrategyRepository:
    _GET = _q("SELECT strategy FROM seller_strategies WHERE seller_id = :s")
    _PUT = _q("INSERT INTO seller_strategies (seller_id, strategy, updated_at, updated_by) VALUES (:s, :j, :at, :by) "
              "ON CONFLICT (seller_id) DO UPDATE SET strategy = excluded.strategy, "
              "updated_at = excluded.updated_at, updated_by = excluded.updated_by")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, seller_id: str) -> dict[str, Any] | None:
        raw = self._conn.execute(self._GET, {"s": seller_id}).scalar()
        return json.loads(raw) if raw is not None else None

    def put(self, seller_id: str, strategy: dict[str, Any], now: datetime, by: str) -> None:
        self._conn.execute(self._PUT, {"s": seller_id, "j": dumps(strategy), "at": now, "by": by})


class AkinonIdRepository:
    """Integer pks for Akinon: `(order, "", 0)` is the order, `(order, line, i)` unit i of a line."""

    _MINT = _q("INSERT INTO akinon_ids (seller_id, order_id, line_id, unit_index) VALUES (:s, :o, :l, :i) "
               "ON CONFLICT (order_id, line_id, unit_index) DO NOTHING")
    # Rows with unit_index < 0 number other objects of the order (cancellation requests, below).
    _FOR_ORDER = _q("SELECT pk, line_id, unit_index FROM akinon_ids WHERE order_id = :o AND unit_index >= 0")
    _BY_PK = _q("SELECT pk, seller_id, order_id, line_id, unit_index FROM akinon_ids WHERE pk IN :pks").bindparams(
        sa.bindparam("pks", expanding=True))

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def mint(self, seller_id: str, order_id: str, units: Iterable[tuple[str, int]]) -> None:
        """Number the order (first, so its pk is lowest) and its units; existing numbers stay."""
        rows = [{"s": seller_id, "o": order_id, "l": "", "i": 0}]
        rows += [{"s": seller_id, "o": order_id, "l": line_id, "i": i} for line_id, i in units]
        for row in rows:  # one by one: the order of the pks follows the order of the units
            self._conn.execute(self._MINT, row)

    def for_order(self, order_id: str) -> dict[tuple[str, int], int]:
        return {(r.line_id, r.unit_index): r.pk for r in self._conn.execute(self._FOR_ORDER, {"o": order_id})}

    def resolve(self, pks: Iterable[int]) -> dict[int, tuple[str, str, str, int]]:
        """pk → (seller id, order id, line id, unit index); unknown pks are absent."""
        wanted = sorted(set(pks))
        if not wanted:
            return {}
        return {r.pk: (r.seller_id, r.order_id, r.line_id, r.unit_index)
                for r in self._conn.execute(self._BY_PK, {"pks": wanted})}

    # --- other objects: one row `(seller, order, "<kind>:<kalem id>:<ref>", -1)` each -------------
    def mint_object(self, seller_id: str, order_id: str, kind: str, kalem_id: str, ref: int) -> int:
        """A pk for a kalem object of the order (e.g. a cancel request; `ref` the order item it names)."""
        key = {"s": seller_id, "o": order_id, "l": f"{kind}:{kalem_id}:{ref}", "i": -1}
        self._conn.execute(self._MINT, key)
        return int(self._conn.execute(_q("SELECT pk FROM akinon_ids WHERE order_id = :o AND line_id = :l AND "
                                         "unit_index = :i"), key).scalar_one())

    def objects(self, kinds: Iterable[str], seller_id: str | None, *, limit: int,
                offset: int) -> tuple[int, list[tuple[int, str, str, str, str, int]]]:
        """(count, page newest first) of object rows of these kinds: (pk, seller, order, kind, kalem id, ref)."""
        kinds = list(kinds)
        clauses = ["unit_index = -1", "(" + " OR ".join(f"line_id LIKE :k{i}" for i, _ in enumerate(kinds)) + ")"]
        params: dict[str, Any] = {f"k{i}": f"{kind}:%" for i, kind in enumerate(kinds)}
        if seller_id is not None:
            clauses.append("seller_id = :s")
            params["s"] = seller_id
        where = " AND ".join(clauses)
        count = int(self._conn.execute(_q(f"SELECT COUNT(*) FROM akinon_ids WHERE {where}"), params).scalar_one())
        rows = self._conn.execute(_q(f"SELECT pk, seller_id, order_id, line_id FROM akinon_ids WHERE {where} "
                                     "ORDER BY pk DESC LIMIT :limit OFFSET :offset"),
                                  {**params, "limit": limit, "offset": offset})
        return count, [(r.pk, r.seller_id, r.order_id, *split_object(r.line_id)) for r in rows]


def split_object(line_id: str) -> tuple[str, str, int]:
    """`"<kind>:<kalem id>:<ref>"` → (kind, kalem id, ref)."""
    kind, kalem_id, ref = line_id.split(":")
    return kind, kalem_id, int(ref)
