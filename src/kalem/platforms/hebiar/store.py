"""Hebiar integer ids: `hebiar_ids` rows number the objects of an order the Hebiar face shows.

The face decides what a key says (platforms/hebiar/face/); the store only keeps and finds keys.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_q = sa.text


class HebiarIdRepository:
    _MINT = _q("INSERT INTO hebiar_ids (seller_id, order_id, key) VALUES (:s, :o, :k) "
               "ON CONFLICT (order_id, key) DO NOTHING")
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

    def mint(self, seller_id: str, order_id: str, keys: Iterable[str]) -> None:
        """Number these keys of the order, in the order given; existing numbers stay."""
        for key in keys:  # one by one: the order of the pks follows the order of the keys
            self._conn.execute(self._MINT, {"s": seller_id, "o": order_id, "k": key})
