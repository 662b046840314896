"""PostgreSQL: a worker process killed with -9 mid-round, and two workers side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from kalem.bootstrap.worker import build_worker
from kalem.store import webhooks as store
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, empty
from tests.support import order
from tests.webhooks.conftest import FAST, subscribe
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow


@pytest.fixture
def pg(servers: dict[str, Any]) -> Any:
    chosen = servers["postgresql"]
    empty(chosen.db)
    return chosen


@pytest.fixture
def pg_api(pg: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=pg.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as client:
        yield client


def worker_process(settings: Any) -> subprocess.Popen[bytes]:
    """A `kalem worker` on the test server's database, with its keys (it opens the secrets the server sealed)."""
    env = {**os.environ, "KALEM_DATABASE_URL": settings.database_url, "KALEM_SECRET_KEY": settings.secret_key,
           "KALEM_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
           "KALEM_WEBHOOK_LEASE_SECONDS": "1", "KALEM_WEBHOOK_POLL_SECONDS": "0.02",
           "KALEM_WEBHOOK_CONCURRENCY": "1", "KALEM_WEBHOOK_BATCH": "10",
           "KALEM_WEBHOOK_RETRY_BASE_SECONDS": "0.01", "KALEM_WEBHOOK_RETRY_CAP_SECONDS": "0.05"}
    return subprocess.Popen([sys.executable, "-m", "kalem.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_kill_9_between_claim_and_send_and_between_send_and_ack(pg, pg_api):
    """The worker claims a batch of 10 and sends one at a time; the receiver holds the first request.
    At the kill, one delivery is sent-not-acknowledged and nine are claimed-not-sent."""
    receiver = Receiver().start()
    receiver.hold = threading.Event()
    subscribe(pg_api, receiver.url)
    numbers = [f"40000004{n:02d}" for n in range(10)]
    for number in numbers:
        assert pg_api.post("/v1/orders", json=order(number)).status_code == 201
    expected = {d["event_id"] for d in pg_api.get("/v1/webhook-deliveries", params={"limit": 100}).json()["data"]}
    first = worker_process(pg.settings)
    try:
        assert receiver.first_arrived.wait(30)
        claimed = pg_api.get("/v1/webhook-deliveries", params={"status": "delivering", "limit": 100}).json()["data"]
        assert len(claimed) == 10  # the whole batch is claimed, one is on the wire
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        receiver.hold.set()
        second = worker_process(pg.settings)
        try:
            wait_for(lambda: len(receiver.unique) == len(expected))
            wait_for(lambda: {d["status"] for d in pg_api.get("/v1/webhook-deliveries",
                                                              params={"limit": 100}).json()["data"]} == {"delivered"})
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        receiver.stop()
    assert set(receiver.unique) == expected  # deduplicated by webhook-id: each event processed once
    assert len(receiver.requests) >= len(expected)  # at least once; the one on the wire came twice


def test_two_workers_never_send_the_same_delivery_at_once(pg, pg_api):
    receiver = Receiver().start()
    subscribe(pg_api, receiver.url)
    subscribe(pg_api, receiver.url + "?second")
    numbers = [f"40000005{n:02d}" for n in range(40)]
    for number in numbers:
        pg_api.post("/v1/orders", json=order(number))
    workers = [build_worker(pg.settings, pg.db, poll_seconds=0.01, batch=5, concurrency=4, retry=FAST)
               for _ in range(2)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(receiver.requests) >= 80)
        time.sleep(0.1)  # let any duplicate that would be in flight arrive
    finally:
        for w in workers:
            w.stop_event.set()
        for t in threads:
            t.join(10)
        for w in workers:
            w.close()
        receiver.stop()
    keys = [(r.path, r.id) for r in receiver.requests]
    assert len(keys) == 80 and len(set(keys)) == 80  # no delivery sent twice
    assert receiver.max_in_flight_same_id == 1


def test_a_claim_reads_the_due_index_in_order_whatever_the_statistics(pg, pg_api):
    """Statistics taken while the queue was empty say few rows are due. A claim must still read the due
    index in order and stop at its limit, not fetch and sort the whole backlog at every batch."""
    with pg.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE webhook_deliveries"))
    subscribe(pg_api, "http://127.0.0.1:9/hooks")
    for n in range(20):
        assert pg_api.post("/v1/orders", json=order(f"40000006{n:02d}")).status_code == 201
    now = datetime.now(UTC)
    with UnitOfWork(pg.db) as uow:
        assert len(uow.webhooks.claim(now, now + timedelta(seconds=60), 5)) == 5
        due = store._DUE.format(held="") + " FOR UPDATE OF d SKIP LOCKED"
        plan = "\n".join(uow._conn.execute(sa.text("EXPLAIN " + due), {"now": now, "t": True, "n": 5}).scalars())
    assert "Index Scan using ix_webhook_deliveries_due" in plan and "Sort" not in plan, plan
