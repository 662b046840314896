"""What a batch of new orders collides with (`POST /v1/orders/batch`, `kalem import`): the orders
already stored under their numbers and the line ids already in use, each read for the whole batch
with `IN` lists rather than once per order. The new orders are written by
`OrderRepository.add_many` and `EventRepository.append`, one `executemany` per table."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: Values per `IN` list: far below SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 500

_ORDERS = sa.text("SELECT id, seller_id, order_number, intake_hash FROM orders WHERE order_number IN :numbers"
                  ).bindparams(sa.bindparam("numbers", expanding=True))
_LINES = sa.text("SELECT seller_id, line_id FROM order_lines WHERE line_id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True))


class Stored(NamedTuple):
    id: str
    intake_hash: str


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


class IntakeRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def orders_numbered(self, numbers: Collection[str]) -> dict[tuple[str, str], Stored]:
        """The orders stored under these numbers, by (seller, number)."""
        found: dict[tuple[str, str], Stored] = {}
        for chunk in _chunks(numbers):
            for row in self._conn.execute(_ORDERS, {"numbers": chunk}):
                found[row.seller_id, row.order_number] = Stored(row.id, row.intake_hash)
        return found

    def lines_in_use(self, line_ids: Collection[str]) -> set[tuple[str, str]]:
        """(seller, line id) of those of these line ids that a stored order holds."""
        used: set[tuple[str, str]] = set()
        for chunk in _chunks(line_ids):
            used.update((row.seller_id, row.line_id) for row in self._conn.execute(_LINES, {"ids": chunk}))
        return used
