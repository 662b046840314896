"""Hebiar integer ids stored for the objects of orders shown before ids were computed (`history.py`),
which keep them. The face decides what a key says; this module only finds keys.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.store.schema import metadata

_q = sa.text


# Hebiar keys orders, packages, package items, order items, unit lines and addresses by integers. One
# row per object shown before ids were computed, keyed by what the face names it (`package:<id>`,
# `unit:<line>:<n>` …); the primary key is the integer Hebiar clients see. No row is added any more.
hebiar_ids = sa.Table(
    "hebiar_ids", metadata,
    sa.Column("pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.UniqueConstraint("order_id", "key", name="uq_hebiar_ids_key"),
)

#: Defined on the store's one metadata, so every user of the whole schema sees it
#: (`kalem.bootstrap.platforms.metadata`).
TABLES = (hebiar_ids,)


class HebiarIdRepository:
    _FOR_ORDERS = _q("SELECT order_id, key, pk FROM hebiar_ids WHERE order_id IN :orders").bindparams(
        sa.bindparam("orders", expanding=True))

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def for_orders(self, order_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """order id → key → pk, for the orders asked (one round trip)."""
        wanted = sorted(set(order_ids))
        found: dict[str, dict[str, int]] = {o: {} for o in wanted}
        if wanted:
            for row in self._conn.execute(self._FOR_ORDERS, {"orders": wanted}):
                found[row.order_id][row.key] = row.pk
        return found
