"""PostgreSQL: the worker wakes on NOTIFY from the outbox's transaction; polling stays the fallback."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from kalem.bootstrap.worker import build_worker
from kalem.store.notify import CHANNEL
from kalem.webhooks.worker import Worker
from tests.support import order
from tests.webhooks.conftest import FAST, subscribe
from tests.webhooks.test_workers_postgres import pg, pg_api, wait_for  # noqa: F401 - pg, pg_api: fixtures

pytestmark = pytest.mark.slow


def running(pg: Any, poll_seconds: float) -> tuple[Worker, threading.Thread]:
    worker = build_worker(pg.settings, pg.db, poll_seconds=poll_seconds, lease_seconds=30, timeout_seconds=5,
                          concurrency=2, retry=FAST)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


def stopped(worker: Worker, thread: threading.Thread) -> None:
    worker.stop()
    thread.join(30)
    worker.close()
    assert not thread.is_alive()


def listening(pg: Any) -> list[int]:
    """Backends that have run `LISTEN` on the worker's channel."""
    with pg.db.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE query = :q"),
                                 {"q": f"LISTEN {CHANNEL}"}).scalars())


def test_a_delivery_arrives_without_waiting_for_the_poll(pg, pg_api, receiver):
    subscribe(pg_api, receiver.url)
    with psycopg.connect(pg.settings.database_url.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        conn.execute(f'LISTEN "{CHANNEL}"')   # quoted: not counted by `listening` below
        assert pg_api.post("/v1/orders", json=order("4000000701")).status_code == 201
        assert [n.channel for n in conn.notifies(timeout=10, stop_after=1)] == [CHANNEL]  # sent at commit
    worker, thread = running(pg, poll_seconds=60)   # a poll would come a minute from now
    try:
        wait_for(lambda: len(receiver.unique) == 1)   # the round every worker starts with
        wait_for(lambda: len(listening(pg)) == 1)
        assert pg_api.post("/v1/orders", json=order("4000000702")).status_code == 201
        wait_for(lambda: len(receiver.unique) == 2, timeout=20)   # woken by the commit's NOTIFY
        assert receiver.requests[-1].json()["order_number"] == "4000000702"
    finally:
        stopped(worker, thread)
    wait_for(lambda: listening(pg) == [])   # the listening connection is closed with the worker


def test_polling_delivers_while_the_listening_connection_is_lost(pg, pg_api, receiver):
    subscribe(pg_api, receiver.url)
    worker, thread = running(pg, poll_seconds=0.2)
    try:
        wait_for(lambda: len(listening(pg)) == 1)
        (lost,) = listening(pg)
        with pg.db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": lost}).scalar_one()
        assert pg_api.post("/v1/orders", json=order("4000000703")).status_code == 201
        wait_for(lambda: len(receiver.unique) == 1)
        wait_for(lambda: listening(pg) not in ([], [lost]))   # and it listens again
    finally:
        stopped(worker, thread)
