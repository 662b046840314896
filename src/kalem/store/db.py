"""Engines for SQLite (embedded default) and PostgreSQL (production).

SQLite: WAL with synchronous=NORMAL, and writes begin with `BEGIN IMMEDIATE` so a write
transaction holds the database lock from its first statement (no upgrade deadlocks); within one
process writers also queue on a lock, because a second concurrent writer only adds stalls.
PostgreSQL: one row lock per order (`SELECT … FOR UPDATE`).

When PostgreSQL is away, nothing waits long: a connection attempt gives up after
`CONNECT_TIMEOUT_SECONDS` and a checkout from an exhausted pool after `POOL_TIMEOUT_SECONDS`, so a
request fails fast (the API answers 503) instead of hanging. Connections that died with the server
are dropped on first use (see `_ping_when_idle` and `store/hot.py`), and the pool reconnects on its own.

Every engine hides a statement's parameters (`hide_parameters`): the message of a failed statement,
which reaches logs and tracebacks, names its SQL but never the values it carried (secrets, personal data).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from kalem.observability import database as observability
from kalem.store.optimistic import refuse_statements
from kalem.store.sealed import UNKEYED, Sealer

log = logging.getLogger("kalem.store")

#: libpq's `connect_timeout` (whole seconds): an unreachable server fails a request in seconds, not
#: after the kernel's TCP retries (minutes).
CONNECT_TIMEOUT_SECONDS = 5
#: How long a request waits for a free pooled connection before giving up (503, not a hang).
POOL_TIMEOUT_SECONDS = 10.0


def create_engine(url: str, *, pool_size: int = 10) -> sa.Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    url, options = _postgres(url, pool_size)
    engine = sa.create_engine(url, **options)
    _ping_when_idle(engine)
    return engine


def _postgres(url: str, pool_size: int) -> tuple[str, dict[str, Any]]:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    connect_args = {}
    if "connect_timeout" not in sa.engine.make_url(url).query:  # the URL's own setting wins
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return url, {"pool_size": pool_size, "max_overflow": pool_size, "pool_recycle": 1800,
                 "pool_timeout": POOL_TIMEOUT_SECONDS, "connect_args": connect_args, "hide_parameters": True}


def create_loop_engine(url: str, *, pool_size: int = 10) -> sa.Engine:
    """PostgreSQL on psycopg's async connections, for transactions run on the event loop
    (`kalem.store.on_loop`): the same engine settings, the same idle ping, its own pool. Returned as
    the async engine's synchronous face, which the unit of work uses unchanged inside a greenlet."""
    from sqlalchemy.ext.asyncio import create_async_engine
    url, options = _postgres(url, pool_size)
    url = url.replace("postgresql+psycopg://", "postgresql+psycopg_async://", 1)
    engine = create_async_engine(url, **options).sync_engine
    _ping_when_idle(engine)
    refuse_statements(engine)   # an optimistic unit of work's (store/optimistic.py)
    return engine


PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: sa.Engine, seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """`pool_pre_ping`, but only for a connection that sat idle in the pool for over `seconds`.

    A pre-ping is one more round trip on every checkout (one in seven of a cancel's, measured in
    docs/performance.md). A connection checked in moments ago is as alive as a ping would prove;
    one that sat idle (the server may have restarted or dropped it) is pinged and, if dead,
    replaced before use, as `pool_pre_ping` does."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["kalem_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.get("kalem_idle_since")
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa.exc.DisconnectionError("the pooled connection is dead") from exc  # the pool reconnects


def _owner_only(database: Path) -> None:
    """The database file holds webhook secrets and credentials: create it readable by its owner only
    (SQLite gives its `-wal` and `-shm` files the same mode), and take group and other access away from
    one an older kalem made (0644 by the umask)."""
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not database.exists():
        # Only a file no connection has open: closing any descriptor of a file drops every POSIX lock
        # this process holds on it, SQLite's own included (another Database on it would lose them).
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            mode = path.stat().st_mode
            if mode & 0o077:
                path.chmod(mode & 0o700)
                log.warning("%s was readable by others; it is now its owner's only", path)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("%s is readable by others and kalem may not change that; chmod 600 it", path)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL that names one (not an in-memory database, not PostgreSQL)."""
    if not url.startswith("sqlite"):
        return None
    database = sa.engine.make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def _sqlite_engine(url: str) -> sa.Engine:
    database = sqlite_file(url)
    if database is not None:
        _owner_only(database)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                              pool_size=8, max_overflow=8, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get("kalem_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@dataclass
class Database:
    """An engine and what goes with it: on SQLite, the in-process writer queue; the keys of the secrets
    stored in it (`kalem.bootstrap.database` gives the configured ones; with none, only secrets stored
    plain can be read)."""

    engine: sa.Engine
    write_lock: contextlib.AbstractContextManager[object] = field(default_factory=contextlib.nullcontext)
    sealer: Sealer = UNKEYED
    #: PostgreSQL's engine for transactions on the event loop (`kalem.store.on_loop`); None on SQLite
    loop_engine: sa.Engine | None = None

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10, sealer: Sealer = UNKEYED) -> Database:
        engine = create_engine(url, pool_size=pool_size)
        observability.instrument(engine)
        if engine.dialect.name == "sqlite":
            return cls(engine, threading.Lock(), sealer)
        loop_engine = create_loop_engine(url, pool_size=pool_size)
        observability.instrument(loop_engine)
        return cls(engine, sealer=sealer, loop_engine=loop_engine)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def own_connection(self) -> Any:
        """A driver connection outside the pool, with the pool's connect timeout, for a holder that keeps
        it for good (the webhook listener): it neither waits for a free pool slot nor counts as one in use."""
        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        cparams.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)   # the URL's own setting wins
        return self.engine.dialect.connect(*cargs, **cparams)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.loop_engine is not None:
            # the async pool's connections can only be closed on an event loop: dropped here, their
            # sockets closed as they are collected
            self.loop_engine.dispose(close=False)
