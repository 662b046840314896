"""Statements on the hot path (lock, read and write an order; append its events; queue their webhooks).

On PostgreSQL a `Hot` statement runs on psycopg's own cursor of the unit of work's connection, so in
its transaction: SQLAlchemy's `execute` adds about 100 µs of CPU per statement (compiled cache,
result metadata, Row objects), more than psycopg itself costs, and a cancel runs several
(docs/performance.md). Driver errors are raised as SQLAlchemy's, and a lost connection is
invalidated with its pool, as `execute` would. On SQLite it stays `text()`: SQLAlchemy owns the
stored datetime format there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.observability import tracing
from kalem.observability.database import statement as observed_statement
from kalem.store.on_loop import wait
from kalem.store.optimistic import NotFoldable, in_autocommit


class Hot:
    def __init__(self, sql: str) -> None:
        self.text = sa.text(sql)
        self._pg = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)  # :name -> %(name)s (psycopg's style)

    def rows(self, conn: Connection, params: dict[str, Any]) -> Sequence[Any]:
        if conn.dialect.name != "postgresql":
            return conn.execute(self.text, params).all()
        from psycopg.rows import namedtuple_row
        return self._driver(conn, params, lambda cur: cur.fetchall(), namedtuple_row)

    def run(self, conn: Connection, params: dict[str, Any] | list[dict[str, Any]]) -> int:
        """Execute (a list: once per item); the number of rows changed by a single execution."""
        if isinstance(params, list) and len(params) == 1:
            params = params[0]  # psycopg's `executemany` sets up a pipeline even for one row
        if conn.dialect.name != "postgresql":
            return conn.execute(self.text, params).rowcount
        if in_autocommit(conn):   # an optimistic unit of work writes only its one statement
            raise NotFoldable(self._pg[:80])
        return self._driver(conn, params, lambda cur: cur.rowcount)

    def _driver(self, conn: Connection, params: Any, result: Any, row_factory: Any = None) -> Any:
        with driver_cursor(conn, self._pg, params, row_factory) as cur:
            if isinstance(params, list):
                cur.executemany(self._pg, params)
            else:
                cur.execute(self._pg, params)
            return result(cur)


@contextmanager
def driver_cursor(conn: Connection, sql: str, params: Any = None, row_factory: Any = None) -> Iterator[Any]:
    """A psycopg cursor of the unit of work's PostgreSQL connection, for running `sql` traced, with
    driver errors raised as SQLAlchemy's."""
    from psycopg import AsyncConnection  # loaded only by processes on PostgreSQL
    driver: Any = conn.connection.driver_connection  # psycopg's connection: open, as the unit of work is
    traced = observed_statement(sql, "postgresql")  # engine events do not see the driver's cursor
    try:
        if isinstance(driver, AsyncConnection):   # a transaction on the event loop (store/on_loop.py)
            cur = driver.cursor(row_factory=row_factory) if row_factory else driver.cursor()
            try:
                yield _LoopCursor(cur)
            finally:
                wait(cur.close())
        else:
            with driver.cursor(row_factory=row_factory) if row_factory else driver.cursor() as cur:
                yield cur
    except driver.Error as exc:
        tracing.fail(traced)
        # SQLAlchemy's own error path, as `execute` takes it: wraps the error (a lost connection is an
        # OperationalError, which the API answers with 503) and, on a disconnect, invalidates this
        # connection and every pooled one opened before it (the server restarted: they are all
        # dead), so the next checkouts reconnect instead of failing one by one. Only on failure:
        # the hot path keeps no extra round trip.
        conn._handle_dbapi_exception(exc, sql, params, None, None)
        raise  # unreachable: the call above always raises
    finally:
        if traced is not None:
            traced.end()


class _LoopCursor:
    """psycopg's async cursor with its sync cursor's calls, each waited on from the transaction's
    greenlet (store/on_loop.py)."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Any = None) -> _LoopCursor:
        wait(self._cursor.execute(sql, params))
        return self

    def executemany(self, sql: str, params: Any) -> None:
        wait(self._cursor.executemany(sql, params))

    def fetchall(self) -> list[Any]:
        return wait(self._cursor.fetchall())

    def fetchone(self) -> Any:
        return wait(self._cursor.fetchone())

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @contextmanager
    def copy(self, sql: str) -> Iterator[_LoopCopy]:
        """`COPY … FROM STDIN`, as the sync cursor's `copy`: ended (and checked) when the block ends."""
        block = self._cursor.copy(sql)
        copy = wait(block.__aenter__())
        try:
            yield _LoopCopy(copy)
        except BaseException as failed:
            if not wait(block.__aexit__(type(failed), failed, failed.__traceback__)):
                raise
        else:
            wait(block.__aexit__(None, None, None))


class _LoopCopy:
    """psycopg's async `COPY` with its sync form's `write_row`."""

    def __init__(self, copy: Any) -> None:
        self._copy = copy

    def write_row(self, row: Sequence[Any]) -> None:
        wait(self._copy.write_row(row))
