"""The n11 face's `orderLineId`s: `n11_line_ids` (where each was minted) and `n11_carried_line_ids`
(the new packages a split carried it to).

Rows are only ever inserted (never changed), so resolving an id needs no lock: which parts an id
has named is fixed; which of them is current is decided under the order's lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.store.schema import TS, metadata

# The n11 face's `orderLineId`s: n11 numbers a line per package and mints new numbers when a package
# is split, while kalem keeps stable line ids. One row per (package, line) ever shown; the numeric
# primary key is the orderLineId, so resolving one is a single indexed read.
n11_line_ids = sa.Table(
    "n11_line_ids", metadata,
    sa.Column("order_line_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("package_id", sa.String(64), nullable=False),
    sa.Column("line_id", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("order_id", "package_id", "line_id", name="uq_n11_line_ids_part"),
)
# n11 keeps the existing orderLineId over a split: the new package that holds the first unit of the
# split part shows the same number (`n11_line_ids` keeps where it was minted).
n11_carried_line_ids = sa.Table(
    "n11_carried_line_ids", metadata,
    sa.Column("order_id", sa.String(40), primary_key=True),
    sa.Column("package_id", sa.String(64), primary_key=True),
    sa.Column("line_id", sa.String(64), primary_key=True),
    sa.Column("order_line_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Index("ix_n11_carried_line_ids_id", "order_line_id"),
)

#: Defined on the store's one metadata, so every user of the whole schema sees them
#: (`kalem.bootstrap.platforms.metadata`).
TABLES = (n11_line_ids, n11_carried_line_ids)


@dataclass(frozen=True, slots=True)
class LinePart:
    order_line_id: int
    seller_id: str
    order_id: str
    package_id: str
    line_id: str


_COLUMNS = "order_line_id, seller_id, order_id, package_id, line_id"
_BOTH = (f"SELECT {_COLUMNS} FROM n11_line_ids WHERE {{w}} "
         f"UNION ALL SELECT {_COLUMNS} FROM n11_carried_line_ids WHERE {{w}}")


def _ids(sql: str) -> sa.TextClause:
    return sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))


class N11LineIdRepository:
    _RESOLVE = _ids(_BOTH.format(w="order_line_id IN :ids"))
    _FOR_ORDERS = _ids(_BOTH.format(w="order_id IN :ids"))
    _IN_CHANNEL = _ids("SELECT id FROM orders WHERE id IN :ids AND channel = :ch")
    # Two readers may number the same part at once; the unique key keeps one, the other is a no-op.
    _MINT = sa.text("INSERT INTO n11_line_ids (seller_id, order_id, package_id, line_id, created_at) "
                    "VALUES (:s, :o, :p, :l, :at) ON CONFLICT (order_id, package_id, line_id) DO NOTHING")
    _CARRY = sa.text("INSERT INTO n11_carried_line_ids (order_id, package_id, line_id, order_line_id, seller_id, "
                     "created_at) VALUES (:o, :p, :l, :n, :s, :at) ON CONFLICT (order_id, package_id, line_id) "
                     "DO NOTHING")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def resolve(self, order_line_ids: Iterable[int], seller_id: str | None,
                channel: str | None = None) -> dict[int, list[LinePart]]:
        """Every part each id has named; other sellers' ids (and, `channel` given, other channels'
        orders' ids) are absent, like unknown ones."""
        ids = sorted(set(order_line_ids))
        if not ids:
            return {}
        found: dict[int, list[LinePart]] = {}
        for row in self._conn.execute(self._RESOLVE, {"ids": ids}).all():
            if seller_id is None or row.seller_id == seller_id:
                found.setdefault(row.order_line_id, []).append(LinePart(*row))
        if channel is not None and found:
            order_ids = sorted({part.order_id for parts in found.values() for part in parts})
            kept = set(self._conn.execute(self._IN_CHANNEL, {"ids": order_ids, "ch": channel}).scalars())
            found = {i: parts for i, parts in found.items() if parts[0].order_id in kept}
        return found

    def for_orders(self, order_ids: Iterable[str]) -> dict[tuple[str, str, str], int]:
        """(order id, package id, line id) → orderLineId, for every part already numbered."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        rows = self._conn.execute(self._FOR_ORDERS, {"ids": ids}).all()
        return {(r.order_id, r.package_id, r.line_id): r.order_line_id for r in rows}

    def mint(self, seller_id: str, order_id: str, parts: Iterable[tuple[str, str]],
             now: datetime) -> dict[tuple[str, str, str], int]:
        """New numbers for these (package, line) parts (or those a concurrent reader just gave
        them); answers every number of the order."""
        rows = [{"s": seller_id, "o": order_id, "p": p, "l": line, "at": now} for p, line in parts]
        if rows:
            self._conn.execute(self._MINT, rows)
        return self.for_orders([order_id])

    def carry(self, seller_id: str, order_id: str, package_id: str, line_id: str, order_line_id: int,
              now: datetime) -> None:
        self._conn.execute(self._CARRY, {"o": order_id, "p": package_id, "l": line_id, "n": order_line_id,
                                         "s": seller_id, "at": now})
