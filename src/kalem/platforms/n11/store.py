"""The n11 `orderLineId`s stored before they were computed (`line_ids`): `n11_line_ids` (where each
was minted) and `n11_carried_line_ids` (the new packages a split carried it to).

Nothing writes these tables any more; the orders numbered in them keep their numbers, as clients
stored them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.store.schema import TS, metadata

# The n11 face's `orderLineId`s as they were minted before they were computed: one row per
# (package, line) shown; the numeric primary key is the orderLineId.
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
            kept = self.in_channel({part.order_id for parts in found.values() for part in parts}, channel)
            found = {i: parts for i, parts in found.items() if parts[0].order_id in kept}
        return found

    def in_channel(self, order_ids: Iterable[str], channel: str) -> set[str]:
        """Those of the orders that belong to `channel`."""
        ids = sorted(set(order_ids))
        return set(self._conn.execute(self._IN_CHANNEL, {"ids": ids, "ch": channel}).scalars()) if ids else set()

    def for_orders(self, order_ids: Iterable[str]) -> dict[tuple[str, str, str], int]:
        """(order id, package id, line id) → orderLineId, for every part already numbered."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        rows = self._conn.execute(self._FOR_ORDERS, {"ids": ids}).all()
        return {(r.order_id, r.package_id, r.line_id): r.order_line_id for r in rows}
