"""The `n11_line_ids` rows: n11 `orderLineId` ↔ (order, package, line).

Rows are only ever inserted (never changed), so resolving an id needs no lock: what an id names
is fixed; whether that package may still be split is decided under the order's lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection


@dataclass(frozen=True, slots=True)
class LinePart:
    order_line_id: int
    seller_id: str
    order_id: str
    package_id: str
    line_id: str


_COLUMNS = "order_line_id, seller_id, order_id, package_id, line_id"


class N11LineIdRepository:
    _RESOLVE = sa.text(f"SELECT {_COLUMNS} FROM n11_line_ids WHERE order_line_id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True))
    _FOR_ORDERS = sa.text(f"SELECT {_COLUMNS} FROM n11_line_ids WHERE order_id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True))
    # Two readers may mint the same part at once; the unique key keeps one, the other is a no-op.
    _MINT = sa.text("INSERT INTO n11_line_ids (seller_id, order_id, package_id, line_id, created_at) "
                    "VALUES (:s, :o, :p, :l, :at) ON CONFLICT (order_id, package_id, line_id) DO NOTHING")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def resolve(self, order_line_ids: Iterable[int], seller_id: str | None) -> dict[int, LinePart]:
        """The parts these ids name; other sellers' ids are absent, like unknown ones."""
        ids = sorted(set(order_line_ids))
        if not ids:
            return {}
        rows = self._conn.execute(self._RESOLVE, {"ids": ids}).all()
        return {r.order_line_id: LinePart(*r) for r in rows if seller_id is None or r.seller_id == seller_id}

    def for_orders(self, order_ids: Iterable[str]) -> dict[tuple[str, str, str], int]:
        """(order id, package id, line id) → orderLineId, for every part already numbered."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        rows = self._conn.execute(self._FOR_ORDERS, {"ids": ids}).all()
        return {(r.order_id, r.package_id, r.line_id): r.order_line_id for r in rows}

    def mint(self, seller_id: str, order_id: str, parts: Iterable[tuple[str, str]], now: datetime) -> None:
        rows = [{"s": seller_id, "o": order_id, "p": p, "l": line, "at": now} for p, line in parts]
        if rows:
            self._conn.execute(self._MINT, rows)
