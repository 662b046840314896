"""What an optimistic unit of work (store/uow.py) may not do, how it says so, and what ends its write
without anything written (a conflict, or a deadlock PostgreSQL broke).

Its connection is in autocommit, so a statement it sends commits at once: besides its one folded write,
a statement through SQLAlchemy or a `Hot` write would be applied outside the compare-and-swap. Both are
refused before they are sent (`NotFoldable`), and the use case runs as a locked transaction instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

#: PostgreSQL's SQLSTATE for a transaction (or autocommit statement) it aborted to break a deadlock:
#: nothing of it was written, so it may run again.
DEADLOCK = "40P01"
#: Runs of an optimistic use case before it runs locked: a conflict needs another request to change the
#: same order between one's read and its write, microseconds apart.
ATTEMPTS = 3

T = TypeVar("T")


def deadlocked(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == DEADLOCK


class OptimisticConflict(Exception):
    """An optimistic unit of work's order moved between its read and its write: nothing was written,
    and its caller runs the use case again."""


class NotFoldable(Exception):
    """An optimistic unit of work was asked for a statement it does not run: nothing was written, and
    the use case must run as a locked transaction."""


def optimistically(run: Callable[[], T], locked: Callable[[], T]) -> T:
    """`run()`, a use case on an optimistic unit of work, again while its order moves (`ATTEMPTS` runs),
    then `locked()`; at once `locked()` when it would write more than its one statement."""
    for _ in range(ATTEMPTS):
        try:
            return run()
        except OptimisticConflict:
            continue
        except NotFoldable:
            break
    return locked()


def in_autocommit(conn: Any) -> bool:
    """Whether this SQLAlchemy connection's psycopg connection is an optimistic unit of work's."""
    return bool(conn.connection.driver_connection.autocommit)


def refuse_statements(engine: sa.Engine) -> None:
    """On the event loop's engine: refuse a statement sent through SQLAlchemy in autocommit."""
    @event.listens_for(engine, "before_cursor_execute")
    def _refused(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if in_autocommit(conn):
            raise NotFoldable(statement[:80])
