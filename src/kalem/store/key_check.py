"""A keyed compare-and-swap's `Idempotency-Key`, judged once, before its use case decides anything.

An optimistic unit of work (store/uow.py) that keeps a request's key must know, before the domain
call, whether that key already answered (its answer is replayed: the units it cancelled are gone, so
deciding again would refuse what the first request did) or belongs to another request (refused).
When the use case's first statement is its order's read (or an intake's look-up), the key's row
travels with that read as one more column (`COLUMN`): one round trip for both. Before any other
statement, or the write, it is read on its own (`apart`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

#: The key's row as a column of the read that carries it: NULL when the key is new.
COLUMN = ("(SELECT json_build_array(k.fingerprint, k.state, k.status_code, k.response) FROM idempotency_keys k "
          "WHERE k.principal = :answer_principal AND k.key = :answer_key) AS answer_key")


class KeyRow(NamedTuple):
    fingerprint: str
    state: str
    status_code: int | None
    response: str | None


class KeyCheck:
    def __init__(self, principal: str, key: str, judge: Callable[[Any], None], read: Callable[[], Any], *,
                 pending: bool = True) -> None:
        """`judge(row)` (the key's row, or None) raises to stop the use case; `read()` reads the row on its own."""
        self.pending = pending
        self.params = {"answer_principal": principal, "answer_key": key}
        self._judge = judge
        self._read = read

    def judge(self, column: list[Any] | None) -> None:
        """Judge the key by its `COLUMN`, as read with the order or the intake's look-up."""
        self.pending = False
        self._judge(KeyRow(*column) if column is not None else None)

    def apart(self) -> None:
        """Read and judge the key on its own, unless it was judged already."""
        if self.pending:
            self.pending = False
            self._judge(self._read())


#: No key to judge: a unit of work that keeps none.
NO_KEY = KeyCheck("", "", lambda _row: None, lambda: None, pending=False)
