"""The unit of work: one connection, one transaction, the repositories on it.

`with uow:` begins; `uow.commit()` ends it; leaving the block without a commit rolls back.
Hooks registered with `before_commit` run inside the transaction just before it commits, so an
edge can store what it needs (an idempotent response) atomically with the change.

An *optimistic* unit of work (`optimistic=True`; PostgreSQL, on the event loop) is the same use case
as a compare-and-swap: no `BEGIN`, no row lock, no `COMMIT`. Its connection is in autocommit; the
lock reads the order with everything its write needs in one statement (one snapshot) but locks
nothing, and the save, held until the commit, is the one statement that writes the order at the
version read with its events, refunds and outbox rows (store/folded_write.py) — and the request's
`Idempotency-Key` with its answer (`keep_answer`) — atomic by itself. If the order moved meanwhile,
or a twin's key is there, nothing is written and `OptimisticConflict` says so: the caller runs the
use case again. It suits a use case whose only write is its order's save (a direct cancel, a cancel
with refund, a bill's change with its order) or a new order's (an intake: a concurrent intake that
took its number or a line id fails that one statement, nothing is written, and it is read again as
a conflict); one that sends a statement through SQLAlchemy or a `Hot` write, saves twice, added
another order's refund or commits a key without a write is stopped before it sends it
(`NotFoldable`, store/optimistic.py) and runs as a locked transaction instead. Its commit hooks run
before the write, on what the transaction read and holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kalem.domain.billing import OrderBilling
from kalem.domain.events import Event
from kalem.domain.orders import Order
from kalem.observability import metrics, tracing
from kalem.store import folded_write
from kalem.store.billing import BillingRepository, BillingWithLock
from kalem.store.channel_accounts import ChannelAccountRepository
from kalem.store.channel_drift import ChannelDriftRepository
from kalem.store.db import Database
from kalem.store.health import HealthRepository
from kalem.store.intake import IntakeRepository
from kalem.store.key_check import NO_KEY, KeyCheck
from kalem.store.money_with_lock import MoneyWithLock
from kalem.store.on_loop import on_loop, wait
from kalem.store.optimistic import NotFoldable, OptimisticConflict, deadlocked
from kalem.store.refunds import RefundPolicyRepository, RefundRepository, ReturnRepository, StrategyRepository
from kalem.store.repositories import (
    CancelRequestRepository,
    EventRepository,
    HubSessionRepository,
    IdempotencyRepository,
    OrderRepository,
    SellerRepository,
    TokenRepository,
    UserRepository,
)
from kalem.store.routing import Routing
from kalem.store.webhooks import WebhookRepository

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class AnswerKey:
    """An `Idempotency-Key` an optimistic unit of work stores, finished, with its one write: `answer`
    renders the use case's result as the status and JSON text stored (and answered)."""
    principal: str
    key: str
    fingerprint: str
    lease: timedelta
    answer: Callable[[Any], tuple[int, str]]


def _checkout(db: Database) -> Connection:
    """A pooled connection, timing the wait for it (a pool too small for the load shows here): on the
    event loop's engine when the unit of work runs there (`kalem.store.on_loop`)."""
    started = time.perf_counter()
    engine = db.loop_engine if db.loop_engine is not None and on_loop() else db.engine
    try:
        conn = engine.connect()
    except PoolTimeout:
        metrics.DB_POOL_TIMEOUTS.inc()
        raise
    metrics.DB_POOL_WAIT.observe(time.perf_counter() - started)
    return conn


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Repository(Generic[R]):
    """A repository of the unit of work, built on its transaction's connection when first asked for:
    a use case asks for two or three of the many, and a hot write should not build the rest."""

    def __init__(self, build: Callable[[UnitOfWork], R], *, reads_key: bool = False) -> None:
        """`reads_key`: its first read carries an unjudged `Idempotency-Key` (store/key_check.py); any
        other repository has the key read on its own before it is built."""
        self._build = build
        self._reads_key = reads_key

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, uow: UnitOfWork, owner: type | None = None) -> R:
        found: R | None = uow._built.get(self._name)
        if found is None:
            if not self._reads_key:   # the key before its statements
                uow._unjudged.apart()
            found = uow._built[self._name] = self._build(uow)
        return found


class UnitOfWork:
    _db: Database
    _conn: Connection
    _postgres: bool
    _routing: Routing
    _money: MoneyWithLock | None
    _billing: BillingWithLock | None
    _built: dict[Any, Any]
    _optimistic: bool
    _unjudged: KeyCheck

    orders = _Repository(lambda u: OrderRepository(u._conn, lock_rows=u._postgres, routing=u._routing,
                                                   money=u._money, billing=u._billing,
                                                   row_lock=not u._optimistic, key=u._unjudged),
                         reads_key=True)
    cancel_requests = _Repository(lambda u: CancelRequestRepository(u._conn))
    events = _Repository(lambda u: EventRepository(u._conn, u._routing))
    sellers = _Repository(lambda u: SellerRepository(u._conn))
    tokens = _Repository(lambda u: TokenRepository(u._conn))
    users = _Repository(lambda u: UserRepository(u._conn))
    idempotency = _Repository(lambda u: IdempotencyRepository(u._conn))
    hub_sessions = _Repository(lambda u: HubSessionRepository(u._conn))
    billing = _Repository(lambda u: BillingRepository(u._conn, u._billing, lambda: u.events.appended))
    webhooks = _Repository(lambda u: WebhookRepository(u._conn, postgres=u._postgres, sealer=u._db.sealer))
    refunds = _Repository(lambda u: RefundRepository(u._conn, u._money))
    returns = _Repository(lambda u: ReturnRepository(u._conn))
    strategies = _Repository(lambda u: StrategyRepository(u._conn, u._money))
    refund_policies = _Repository(lambda u: RefundPolicyRepository(u._conn, u._money))
    health = _Repository(lambda u: HealthRepository(u._conn))
    intake = _Repository(lambda u: IntakeRepository(u._conn, lambda: u.events, u._routing, key=u._unjudged),
                         reads_key=True)
    channel_accounts = _Repository(lambda u: ChannelAccountRepository(u._conn, u._db.sealer))
    channel_drift = _Repository(lambda u: ChannelDriftRepository(u._conn))

    def __init__(self, db: Database, *, write: bool = True, clock: Callable[[], datetime] = utcnow,
                 optimistic: bool = False) -> None:
        """`optimistic`: a compare-and-swap instead of a locked transaction (see the module docstring),
        where it applies — a write on PostgreSQL, on the event loop; elsewhere it is a locked one."""
        self._db = db
        self._write = write
        self._clock = clock
        self._hooks: list[Callable[[Any], None]] = []
        self._opening: list[Callable[[], None]] = []
        self._lock = db.write_lock if write else None
        self._postgres = not db.is_sqlite
        self._asked_optimistic = optimistic and write and self._postgres
        self._optimistic = False
        self._key: AnswerKey | None = None
        self._unjudged = NO_KEY
        self.committed = False

    def now(self) -> datetime:
        return self._clock()

    def before_commit(self, hook: Callable[[Any], None]) -> None:
        """`hook(result)` runs in the transaction just before it commits. In an optimistic unit of work
        that is before its one write: a hook answers from what the transaction read and holds (the
        lock's reads, its own changes); a statement through SQLAlchemy or a `Hot` write it sends is
        refused as any other (`NotFoldable`), and the use case runs locked."""
        self._hooks.append(hook)

    def after_begin(self, hook: Callable[[], None]) -> None:
        """`hook` runs first in the transaction, right after it begins (an `Idempotency-Key` claimed in
        it); what it raises rolls the transaction back and leaves the `with` block."""
        self._opening.append(hook)

    @property
    def optimistic(self) -> bool:
        """Whether this unit of work, begun, is a compare-and-swap (see the module docstring)."""
        return self._optimistic

    def keep_answer(self, key: AnswerKey, judge: Callable[[Any], None]) -> None:
        """An optimistic unit of work's `Idempotency-Key`, stored finished with its one write; before
        the use case decides anything, `judge` sees the key's row as it stands (None: the key is new)
        and raises to stop it — read with the order's lock, or on its own (store/key_check.py). A
        locked unit of work does not keep a key: `NotFoldable`."""
        self._key = key

        def start() -> None:
            if not self._optimistic:
                raise NotFoldable("a locked unit of work")
            self._unjudged = KeyCheck(key.principal, key.key, judge,
                                      lambda: self.idempotency.get(key.principal, key.key))

        self.after_begin(start)

    def __enter__(self) -> UnitOfWork:
        if self._lock is not None:
            self._lock.__enter__()
        self._span = tracing.start("transaction", {"kalem.write": self._write})  # the pool wait and BEGIN too
        try:
            conn = _checkout(self._db)
            if self._write and not self._postgres:   # SQLite's writer begins IMMEDIATE (store/db.py)
                conn = conn.execution_options(kalem_write=True)
            self._conn = conn
            self._optimistic = (self._asked_optimistic and self._db.loop_engine is not None and on_loop()
                                and self._autocommit(True))
            if self._optimistic:
                self._staged: Callable[[dict[str, Any] | None], bool] | None = None   # the one write
                self._written = False
            else:
                self._tx = conn.begin()
        except BaseException as failed:
            tracing.finish(self._span, failed)
            if self._lock is not None:
                self._lock.__exit__(None, None, None)
            raise
        self._routing = Routing()
        self._money = MoneyWithLock() if self._postgres else None
        self._billing = BillingWithLock() if self._postgres else None
        self._built: dict[Any, Any] = {}   # the repositories asked for in this transaction
        if self._opening:
            try:
                for hook in self._opening:
                    hook()
            except BaseException as failed:
                self.__exit__(type(failed), failed, failed.__traceback__)
                raise
        return self

    def repository(self, kind: Callable[[Connection], R]) -> R:
        """A repository the store does not know of (a platform's id tables), built on this transaction's
        connection when first asked for: each platform brings its own, and the store names none."""
        found: R | None = self._built.get(kind)
        if found is None:
            self._unjudged.apart()
            found = self._built[kind] = kind(self._conn)
        return found

    def save_order(self, order: Order, *, expected_version: int, events: Sequence[Event],
                   billing: OrderBilling | None = None) -> list[str]:
        """Write a locked order's next version at the version its lock read, and append its events with
        their outbox rows — and its changed bill at the bill's next version (`billing`); the events'
        ids. On PostgreSQL, once a lock has read who hears of the events, all of it is one statement
        (store/folded_write.py); else a statement per table."""
        folds = folded_write.applies(self._routing, order, events)
        if self._optimistic:
            self._one_write(order, folds, refunds_fold=True)
        elif not folds:
            self.orders.save(order, expected_version=expected_version)
            ids = self.events.append(events)
            if billing is not None:
                self.billing.save(billing, seller_id=order.seller_id, now=self.now())
            return ids
        ids = self.events.new_ids(events)
        refunds = self.refunds.take_pending(order.id)
        if billing is not None:
            self.billing.saved(billing)

        def write(key: dict[str, Any] | None = None) -> bool:
            return folded_write.save(self._conn, self._routing, order, expected_version=expected_version,
                                     events=events, event_ids=ids, refunds=refunds, key=key, billing=billing)

        if self._optimistic:
            self._staged = write
        elif not write():
            raise self.orders.version_mismatch(order)
        self.events.appended.extend(events)
        return ids

    def _one_write(self, order: Order, folds: bool, *, refunds_fold: bool) -> None:
        """An optimistic unit of work writes once, one folded statement and nothing else (see the module
        docstring): anything more is refused before it is written. A save's statement writes the
        order's own new refunds (`refunds_fold`), a new order's none."""
        refunds = self._built.get("refunds")
        left = refunds is not None and any(not refunds_fold or r.order_id != order.id for r in refunds.pending)
        if self._staged is not None or left or not folds:
            raise NotFoldable(order.id)

    def add_order(self, order: Order, intake_hash: str, events: Sequence[Event], *, new_seller: bool) -> list[str]:
        """Write a new order with its events and their outbox rows, and its seller if `new_seller` and not
        there yet; the events' ids. On PostgreSQL, once a look-up has read who hears of the events, one
        statement (store/folded_write.py); else a statement per table."""
        folds = folded_write.applies(self._routing, order, events)
        if self._optimistic:
            self._one_write(order, folds, refunds_fold=False)
        if folds:
            ids = self.events.new_ids(events)

            def write(key: dict[str, Any] | None = None) -> bool:
                folded_write.add(self._conn, self._routing, order, intake_hash, events=events, event_ids=ids,
                                 new_seller=new_seller, key=key)
                return True

            if self._optimistic:
                self._staged = write
            else:
                write()
            self.events.appended.extend(events)
            return ids
        if new_seller:
            self.intake.ensure_sellers((order.seller_id,), order.created_at)
        self.orders.add(order, intake_hash)
        return self.events.append(events)

    def _autocommit(self, on: bool) -> bool:
        """Set psycopg's autocommit flag (no round trip) if the connection is idle; whether it was. A
        connection that is not (lost, or a statement cut short) is left as it is: at the start the unit
        of work is then a locked one, whose first statement reports the loss as always."""
        from psycopg.pq import TransactionStatus
        driver: Any = self._conn.connection.driver_connection   # psycopg's async connection
        if driver.pgconn.transaction_status != TransactionStatus.IDLE:
            return False
        wait(driver.set_autocommit(on))
        return True

    def _write_staged(self, result: Any) -> None:
        """An optimistic unit of work's one statement, with its key and answer if it keeps one; autocommit
        commits it. Nothing written (the order moved, or a twin's number, line id or key is there):
        `OptimisticConflict`."""
        key = None
        if self._key is not None:
            if self._staged is None:   # a key with nothing to write it with: stored by a locked run
                raise NotFoldable("an Idempotency-Key without a write")
            status, text = self._key.answer(result)
            now = self.now()
            key = folded_write.key_row(self._key.principal, self._key.key, self._key.fingerprint, status, text,
                                       now + self._key.lease, now)
        if self._staged is None:
            return
        try:
            written = self._staged(key)
        except IntegrityError:
            # A unique index refused the statement, so nothing of it was written: the use case run
            # again reads what the twin committed (the same order, or the key's answer).
            raise OptimisticConflict("a twin's number, line id or key") from None
        except DBAPIError as failed:
            # A twin on the locked path holds the key and waits for the order this statement holds:
            # PostgreSQL broke the cycle by aborting this statement, which wrote nothing.
            if not deadlocked(failed):
                raise
            raise OptimisticConflict("a deadlock with a locked twin") from None
        if not written:
            raise OptimisticConflict("the order moved")
        self._written = True

    def ping(self) -> None:
        """One round trip to the database (the readiness check)."""
        self._conn.exec_driver_sql("SELECT 1").close()

    def commit(self, result: Any = None) -> None:
        """Commit; hooks first see `result`, the use case's answer, inside the transaction."""
        self._unjudged.apart()   # nothing was read: the key is judged before the write
        refunds = self._built.get("refunds")
        if refunds is not None:
            refunds.flush()
        for hook in self._hooks:
            hook(result)
        if self._optimistic:
            self._write_staged(result)
        else:
            self._tx.commit()
        self.committed = True
        events = self._built.get("events")
        if events is not None:
            metrics.count_events(events.appended)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            try:
                if self._optimistic:
                    if not self._autocommit(False):   # never back to the pool in autocommit
                        self._conn.invalidate()
                elif self._tx.is_active:
                    self._tx.rollback()
            except DBAPIError as failed:
                # The connection was lost (the server went away): the server has rolled back already.
                # Keep the block's own error if it has one (it says more); else report the loss.
                if exc is None and not failed.connection_invalidated:
                    raise
            finally:
                self._conn.close()
                tracing.finish(self._span, exc)
        finally:
            if self._lock is not None:
                self._lock.__exit__(None, None, None)
        if self._optimistic and self._written and isinstance(exc, NotFoldable):
            # Refused after the write had committed: a second run would apply the change twice.
            raise RuntimeError(f"an optimistic unit of work was asked for more after its write: {exc}") from exc
