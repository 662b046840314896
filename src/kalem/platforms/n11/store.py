"""The n11 face's tables.

`n11_line_ids` (where each was minted) and `n11_carried_line_ids` (the new packages a split carried it
to): the `orderLineId`s stored before they were computed (`line_ids`). Nothing writes these tables any
more; the orders numbered in them keep their numbers, as clients stored them.

`n11_packages`: every package of the n11 channel's orders with its status and last change, so that
GetShipmentPackages selects a page of a date window in SQL, however many orders the seller has.
Triggers on `orders` keep it (migration 0016_n11_packages): every way an order is written updates it
in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.domain.orders import Order
from kalem.store import codec
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

# One row per package of an order of the n11 channel, written by triggers on `orders` from the order's
# body: `modified_us` is the package's last status change (`lastModifiedDate`), in microseconds since
# 1970 (an integer: exact, and compared alike by both databases).
n11_packages = sa.Table(
    "n11_packages", metadata,
    sa.Column("order_id", sa.String(40), primary_key=True),
    sa.Column("package_id", sa.String(64), primary_key=True),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("modified_us", sa.BigInteger, nullable=False),
    sa.Index("ix_n11_packages_seller_modified", "seller_id", "modified_us", "package_id"),
)

#: Defined on the store's one metadata, so every user of the whole schema sees them
#: (`kalem.bootstrap.platforms.metadata`).
TABLES = (n11_line_ids, n11_carried_line_ids, n11_packages)


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
        # Each order's stored parts, read once per transaction: nothing writes these tables any more,
        # and a split asks for them before its change and again for its answer.
        self._parts: dict[str, dict[tuple[str, str, str], int]] = {}

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
        unread = [i for i in ids if i not in self._parts]
        if unread:
            self._parts.update((i, {}) for i in unread)
            for r in self._conn.execute(self._FOR_ORDERS, {"ids": unread}).all():
                self._parts[r.order_id][(r.order_id, r.package_id, r.line_id)] = r.order_line_id
        return {part: number for i in ids for part, number in self._parts[i].items()}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(value: datetime) -> int:
    """Microseconds since 1970, exactly (as `n11_packages.modified_us` holds a package's last change)."""
    return (value - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class PackageQuery:
    """A GetShipmentPackages search: a seller's packages changed in [`since`, `until`] (microseconds)."""
    seller_id: str | None
    since: int
    until: int
    status: str | None = None
    package_ids: frozenset[str] | None = None
    newest_first: bool = True


class N11PackageRepository:
    """Pages of `n11_packages`: only the page's rows are read, from the (seller, last change) index."""

    _ORDERS = _ids("SELECT id, seller_id, order_number, account_order_number, status, version, last_sequence, "
                   "intake_hash, created_at, updated_at, body, channel FROM orders WHERE id IN :ids")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @staticmethod
    def _where(query: PackageQuery) -> tuple[str, dict[str, Any]]:
        clauses = ["modified_us BETWEEN :lo AND :hi"]
        params: dict[str, Any] = {"lo": query.since, "hi": query.until}
        if query.seller_id is not None:
            clauses.append("seller_id = :s")
            params["s"] = query.seller_id
        if query.status is not None:
            clauses.append("status = :st")
            params["st"] = query.status
        if query.package_ids is not None:
            clauses.append("package_id IN :ids")
            params["ids"] = sorted(query.package_ids)
        return " AND ".join(clauses), params

    def _text(self, sql: str, query: PackageQuery) -> sa.TextClause:
        text = sa.text(sql)
        return text.bindparams(sa.bindparam("ids", expanding=True)) if query.package_ids is not None else text

    def count(self, query: PackageQuery) -> int:
        where, params = self._where(query)
        if query.package_ids is not None and not query.package_ids:
            return 0
        return int(self._conn.execute(self._text(f"SELECT count(*) FROM n11_packages WHERE {where}", query),
                                      params).scalar_one())

    def page(self, query: PackageQuery, *, offset: int, limit: int) -> list[tuple[str, str]]:
        """(order id, package id) of one page, by last change then package id."""
        if query.package_ids is not None and not query.package_ids:
            return []
        where, params = self._where(query)
        direction = "DESC" if query.newest_first else "ASC"
        sql = (f"SELECT order_id, package_id FROM n11_packages WHERE {where} "
               f"ORDER BY modified_us {direction}, package_id {direction}, order_id {direction} "
               "LIMIT :limit OFFSET :offset")
        rows = self._conn.execute(self._text(sql, query), {**params, "limit": limit, "offset": offset}).all()
        return [(r.order_id, r.package_id) for r in rows]

    def orders(self, order_ids: Iterable[str]) -> dict[str, Order]:
        """The orders of one page, by id, each read once."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        rows = self._conn.execute(self._ORDERS, {"ids": ids}).all()
        return {row.id: codec.load_order(row) for row in rows}
