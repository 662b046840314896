"""The unit of work: one connection, one transaction, the repositories on it.

`with uow:` begins; `uow.commit()` ends it; leaving the block without a commit rolls back.
Hooks registered with `before_commit` run inside the transaction just before it commits, so an
edge can store what it needs (an idempotent response) atomically with the change.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kalem.domain.events import Event
from kalem.domain.orders import Order
from kalem.observability import metrics, tracing
from kalem.store import folded_write
from kalem.store.billing import BillingRepository
from kalem.store.channel_accounts import ChannelAccountRepository
from kalem.store.channel_drift import ChannelDriftRepository
from kalem.store.db import Database
from kalem.store.health import HealthRepository
from kalem.store.intake import IntakeRepository
from kalem.store.money_with_lock import MoneyWithLock
from kalem.store.on_loop import on_loop
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


R = TypeVar("R")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UnitOfWork:
    orders: OrderRepository
    cancel_requests: CancelRequestRepository
    events: EventRepository
    sellers: SellerRepository
    tokens: TokenRepository
    users: UserRepository
    idempotency: IdempotencyRepository
    hub_sessions: HubSessionRepository
    billing: BillingRepository
    webhooks: WebhookRepository
    refunds: RefundRepository
    returns: ReturnRepository
    strategies: StrategyRepository
    refund_policies: RefundPolicyRepository
    health: HealthRepository
    intake: IntakeRepository
    channel_accounts: ChannelAccountRepository
    channel_drift: ChannelDriftRepository

    def __init__(self, db: Database, *, write: bool = True, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._write = write
        self._clock = clock
        self._hooks: list[Callable[[Any], None]] = []
        self._opening: list[Callable[[], None]] = []
        self._lock = db.write_lock if write else None
        self.committed = False

    def now(self) -> datetime:
        return self._clock()

    def before_commit(self, hook: Callable[[Any], None]) -> None:
        self._hooks.append(hook)

    def after_begin(self, hook: Callable[[], None]) -> None:
        """`hook` runs first in the transaction, right after it begins (an `Idempotency-Key` claimed in
        it); what it raises rolls the transaction back and leaves the `with` block."""
        self._opening.append(hook)

    def __enter__(self) -> UnitOfWork:
        if self._lock is not None:
            self._lock.__enter__()
        self._span = tracing.start("transaction", {"kalem.write": self._write})  # the pool wait and BEGIN too
        try:
            conn = _checkout(self._db)
            if self._write:
                conn = conn.execution_options(kalem_write=True)
            self._conn = conn
            self._tx = conn.begin()
        except BaseException as failed:
            tracing.finish(self._span, failed)
            if self._lock is not None:
                self._lock.__exit__(None, None, None)
            raise
        postgres = not self._db.is_sqlite
        self._routing = Routing()
        money = MoneyWithLock() if postgres else None
        self.orders = OrderRepository(conn, lock_rows=postgres, routing=self._routing, money=money)
        self.cancel_requests = CancelRequestRepository(conn)
        self.events = EventRepository(conn, self._routing)
        self.sellers = SellerRepository(conn)
        self.tokens = TokenRepository(conn)
        self.users = UserRepository(conn)
        self.idempotency = IdempotencyRepository(conn)
        self.hub_sessions = HubSessionRepository(conn)
        self.billing = BillingRepository(conn)
        self.webhooks = WebhookRepository(conn, postgres=postgres, sealer=self._db.sealer)
        self.refunds = RefundRepository(conn, money)
        self.returns = ReturnRepository(conn)
        self.strategies = StrategyRepository(conn, money)
        self.refund_policies = RefundPolicyRepository(conn, money)
        self.health = HealthRepository(conn)
        self.intake = IntakeRepository(conn, self.events, self._routing)
        self.channel_accounts = ChannelAccountRepository(conn, self._db.sealer)
        self.channel_drift = ChannelDriftRepository(conn)
        self._more: dict[Callable[[Connection], Any], Any] = {}
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
        found = self._more.get(kind)
        if found is None:
            found = self._more[kind] = kind(self._conn)
        return found

    def save_order(self, order: Order, *, expected_version: int, events: Sequence[Event]) -> list[str]:
        """Write a locked order's next version at the version its lock read, and append its events with
        their outbox rows; the events' ids. On PostgreSQL, once a lock has read who hears of the events,
        all of it is one statement (store/folded_write.py); else a statement per table."""
        if folded_write.applies(self._routing, order, events):
            ids = self.events.new_ids(events)
            if not folded_write.save(self._conn, self._routing, order, expected_version=expected_version,
                                     events=events, event_ids=ids, refunds=self.refunds.take_pending(order.id)):
                raise self.orders.version_mismatch(order)
            self.events.appended.extend(events)
            return ids
        self.orders.save(order, expected_version=expected_version)
        return self.events.append(events)

    def add_order(self, order: Order, intake_hash: str, events: Sequence[Event], *, new_seller: bool) -> list[str]:
        """Write a new order with its events and their outbox rows, and its seller if `new_seller` and not
        there yet; the events' ids. On PostgreSQL, once a look-up has read who hears of the events, one
        statement (store/folded_write.py); else a statement per table."""
        if folded_write.applies(self._routing, order, events):
            ids = self.events.new_ids(events)
            folded_write.add(self._conn, self._routing, order, intake_hash, events=events, event_ids=ids,
                             new_seller=new_seller)
            self.events.appended.extend(events)
            return ids
        if new_seller:
            self.intake.ensure_sellers((order.seller_id,), order.created_at)
        self.orders.add(order, intake_hash)
        return self.events.append(events)

    def ping(self) -> None:
        """One round trip to the database (the readiness check)."""
        self._conn.exec_driver_sql("SELECT 1").close()

    def commit(self, result: Any = None) -> None:
        """Commit; hooks first see `result`, the use case's answer, inside the transaction."""
        self.refunds.flush()
        for hook in self._hooks:
            hook(result)
        self._tx.commit()
        self.committed = True
        metrics.count_events(self.events.appended)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            try:
                if self._tx.is_active:
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
