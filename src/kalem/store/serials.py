"""Orders' integer serials (`order_serials`): numbered when an order is inserted, never changed.

A face whose platform keys orders and their parts by integers computes those integers from the serial,
so it never writes to show an order (`uow.repository(OrderSerialRepository)`).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_BY_ORDER = sa.text("SELECT order_id, serial FROM order_serials WHERE order_id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True))
_BY_SERIAL = sa.text("SELECT serial, order_id, seller_id FROM order_serials WHERE serial = :serial")


class OrderSerialRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._serials: dict[str, int] = {}   # read once per transaction: a serial never changes

    def of(self, order_ids: Iterable[str]) -> dict[str, int]:
        """order id → its serial, for the orders asked that have one (at most one round trip)."""
        wanted = sorted(set(order_ids))
        unread = [i for i in wanted if i not in self._serials]
        if unread:
            self._serials.update((r.order_id, r.serial) for r in self._conn.execute(_BY_ORDER, {"ids": unread}))
        return {i: self._serials[i] for i in wanted if i in self._serials}

    def order(self, serial: int) -> tuple[str, str] | None:
        """(order id, seller id) of the order with this serial, or None."""
        row = self._conn.execute(_BY_SERIAL, {"serial": serial}).first()
        if row is None:
            return None
        self._serials[row.order_id] = serial
        return row.order_id, row.seller_id


_NUMBERS = sa.text("SELECT number, channel FROM channel_numbers")


class ChannelNumberRepository:
    """Channels' integer numbers (`channel_numbers`): given when a channel's first order is inserted,
    never changed. Read once per transaction (a table of a row per channel name)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._numbers: dict[str, int] | None = None

    def all(self) -> dict[str, int]:
        """channel name → its number, for every channel that has one."""
        if self._numbers is None:
            self._numbers = {r.channel: int(r.number) for r in self._conn.execute(_NUMBERS)}
        return self._numbers
