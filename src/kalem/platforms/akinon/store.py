"""Akinon integer ids: `akinon_ids` rows number an order, its units and other objects of the order.

The face decides what an object's key says (`pks.py`, `cancellation_requests.py`); this module only
keeps and finds keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.store.schema import metadata

_q = sa.text
_ORDER, _OBJECT = 0, -1   # the `unit_index` of the order's row (line id ""), and of another object's


# `unit_index` counts a line's units from 0, as it did when units' pks were stored (a pk is forever),
# while kalem numbers them from 1: `_row` reads one as the other.
def _row(line_id: str, unit_index: int) -> tuple[Literal["order", "unit", "object"], str, int | None]:
    """What a stored row numbers: (kind, line id or key, unit number)."""
    if unit_index == _OBJECT:
        return "object", line_id, None
    if line_id == "" and unit_index == _ORDER:
        return "order", line_id, None
    return "unit", line_id, unit_index + 1


class AkinonRow(NamedTuple):
    seller_id: str
    order_id: str
    kind: Literal["order", "unit", "object"]
    line_id: str        # a unit's line id, another object's key, "" for the order
    unit: int | None    # a unit's number on its line


# Akinon keys orders and order items (one per unit) by integers. Orders numbered before their pks were
# computed (`pks.py`) have a row here (line_id "", unit_index 0) and one per unit, which they keep; the
# primary key is the pk Akinon clients see. Other objects of an order (cancellation requests) are rows
# too, minted when they are made.
akinon_ids = sa.Table(
    "akinon_ids", metadata,
    sa.Column("pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("line_id", sa.String(64), nullable=False),
    sa.Column("unit_index", sa.Integer, nullable=False),
    sa.UniqueConstraint("order_id", "line_id", "unit_index", name="uq_akinon_ids_unit"),
    # Akinon cancellation requests are listed newest first, per seller: a partial index over them only.
    sa.Index("ix_akinon_ids_objects", "seller_id", "pk", postgresql_where=sa.text("unit_index = -1"),
             sqlite_where=sa.text("unit_index = -1")),
)

#: Defined on the store's one metadata, so every user of the whole schema sees it
#: (`kalem.bootstrap.platforms.metadata`).
TABLES = (akinon_ids,)


class AkinonIdRepository:
    """Stored integer pks for Akinon: an order's and its units' (orders numbered before pks were computed),
    and one per other object."""

    _MINT = _q("INSERT INTO akinon_ids (seller_id, order_id, line_id, unit_index) VALUES (:s, :o, :l, :i) "
               "ON CONFLICT (order_id, line_id, unit_index) DO NOTHING")
    # Rows with unit_index < 0 number other objects of the order (cancellation requests, below).
    _ORDER_PK = _q("SELECT pk FROM akinon_ids WHERE order_id = :o AND line_id = '' AND unit_index = 0")
    _FOR_ORDER = _q("SELECT pk, line_id, unit_index FROM akinon_ids WHERE order_id = :o AND unit_index >= 0")
    _BY_PK = _q("SELECT pk, seller_id, order_id, line_id, unit_index FROM akinon_ids WHERE pk IN :pks").bindparams(
        sa.bindparam("pks", expanding=True))

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def order_pk(self, order_id: str) -> int | None:
        """The pk stored for the order, if it was numbered before pks were computed."""
        return self._conn.execute(self._ORDER_PK, {"o": order_id}).scalar()

    def for_order(self, order_id: str) -> tuple[int | None, dict[tuple[str, int], int]]:
        """(the order's pk, {(line id, unit number): pk}); None for an order not numbered yet."""
        order_pk: int | None
        units: dict[tuple[str, int], int]
        order_pk, units = None, {}
        for r in self._conn.execute(self._FOR_ORDER, {"o": order_id}):
            kind, line_id, n = _row(r.line_id, r.unit_index)
            if kind == "order":
                order_pk = r.pk
            elif n is not None:  # a unit (the order's other objects are not read here)
                units[(line_id, n)] = r.pk
        return order_pk, units

    def resolve(self, pks: Iterable[int]) -> dict[int, AkinonRow]:
        """pk → what it numbers; unknown pks are absent."""
        wanted = sorted(set(pks))
        if not wanted:
            return {}
        return {r.pk: AkinonRow(r.seller_id, r.order_id, *_row(r.line_id, r.unit_index))
                for r in self._conn.execute(self._BY_PK, {"pks": wanted})}

    # --- other objects: one row `(seller, order, key, -1)` each; the face decides what a key says ---------
    def mint_object(self, seller_id: str, order_id: str, key: str) -> int:
        """A pk for another object of the order (e.g. a cancel request), named by the face's `key`."""
        row = {"s": seller_id, "o": order_id, "l": key, "i": _OBJECT}
        self._conn.execute(self._MINT, row)
        return int(self._conn.execute(_q("SELECT pk FROM akinon_ids WHERE order_id = :o AND line_id = :l AND "
                                         "unit_index = :i"), row).scalar_one())

    def channel_of(self, order_id: str) -> str | None:
        """The channel of the order (by name)."""
        return self._conn.execute(_q("SELECT channel FROM orders WHERE id = :o"), {"o": order_id}).scalar()

    def objects(self, prefixes: Iterable[str], seller_id: str | None, *, limit: int,
                offset: int, channel: str | None = None) -> tuple[int, list[tuple[int, str, str, str]]]:
        """(count, page newest first) of object rows whose key starts with one of `prefixes`:
        (pk, seller, order, key); `channel` keeps those of that channel's orders."""
        prefixes = list(prefixes)
        clauses = ["unit_index = -1", "(" + " OR ".join(f"line_id LIKE :k{i}" for i, _ in enumerate(prefixes)) + ")"]
        params: dict[str, Any] = {f"k{i}": f"{prefix}%" for i, prefix in enumerate(prefixes)}
        if seller_id is not None:
            clauses.append("seller_id = :s")
            params["s"] = seller_id
        if channel is not None:
            clauses.append("order_id IN (SELECT id FROM orders WHERE channel = :ch"
                           + (" AND seller_id = :s)" if seller_id is not None else ")"))
            params["ch"] = channel
        where = " AND ".join(clauses)
        count = int(self._conn.execute(_q(f"SELECT COUNT(*) FROM akinon_ids WHERE {where}"), params).scalar_one())
        rows = self._conn.execute(_q(f"SELECT pk, seller_id, order_id, line_id FROM akinon_ids WHERE {where} "
                                     "ORDER BY pk DESC LIMIT :limit OFFSET :offset"),
                                  {**params, "limit": limit, "offset": offset})
        return count, [(r.pk, r.seller_id, r.order_id, r.line_id) for r in rows]
