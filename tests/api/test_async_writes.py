"""On PostgreSQL the hot writes run their transaction on the event loop (store/on_loop.py): on the
loop's own engine, with the `Idempotency-Key` claimed inside the business transaction, so a
concurrent duplicate waits for the first and answers what it answered. The refusals are the thread
pool path's, byte for byte."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from kalem.api.idempotency import fingerprint
from kalem.api.request_id import HEADER
from kalem.api.schemas import CancellationIn
from kalem.bootstrap.api import build_app
from kalem.config import Settings
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, Server, empty, serving
from tests.support import order

CANCEL = "/v1/orders/4000000901/cancellations"
BODY = {"lines": [{"line_id": "item000901", "quantity": 1, "reason_id": 136}]}
PRINT = fingerprint([f"POST {CANCEL}", CancellationIn.model_validate(BODY).model_dump(mode="json")])   # BODY's


@pytest.fixture
def postgres_server(servers: dict[str, Server]) -> Server:
    chosen = servers["postgresql"]
    empty(chosen.db)
    return chosen


def on_the_loop(server: Server, on: bool = True) -> Settings:
    return server.settings.model_copy(update={"async_writes": on})


@pytest.fixture
def pg_api(postgres_server: Server) -> Iterator[httpx.Client]:
    """An operator's client of an app whose hot writes run on the event loop (`KALEM_ASYNC_WRITES`)."""
    settings, db = on_the_loop(postgres_server), postgres_server.db
    with serving(settings, db, build_app(settings, db)) as url, \
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60) as client:
        yield client


def checkouts(engine: sa.Engine) -> list[int]:
    counted = [0]

    @event.listens_for(engine, "checkout")
    def _counted(*_: Any) -> None:
        counted[0] += 1
    return counted


def test_a_cancel_on_postgresql_commits_on_the_event_loops_engine(postgres_server, pg_api):
    db = postgres_server.db
    assert pg_api.post("/v1/orders", json=order("4000000901")).status_code == 201
    assert db.loop_engine is not None
    on_loop, on_threads = checkouts(db.loop_engine), checkouts(db.engine)
    response = pg_api.post(CANCEL, json=BODY, headers={"Idempotency-Key": "k-loop"})
    assert response.status_code == 200, response.text
    assert (on_loop[0], on_threads[0]) == (1, 0)   # one transaction, the key claimed inside it
    assert response.json()["lines"][0]["cancelled_quantity"] == 1


def test_sqlite_keeps_the_thread_pool_and_postgresql_uses_the_loop_unless_told_not_to(servers):
    db = servers["sqlite"].db
    assert db.loop_engine is None
    assert build_app(on_the_loop(servers["sqlite"]), db).state.kalem.on_loop is False
    postgres = servers["postgresql"]
    assert Settings.model_fields["async_writes"].default is True
    assert build_app(on_the_loop(postgres, False), postgres.db).state.kalem.on_loop is False
    assert build_app(on_the_loop(postgres), postgres.db).state.kalem.on_loop is True


def _waiting_on_locks(db: Any, count: int) -> None:
    """Until `count` backends wait for a lock (the requests are parked where the test means them)."""
    deadline = time.monotonic() + 30
    with db.engine.connect() as conn:
        while conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                   "AND datname = current_database()")).scalar() < count:
            assert time.monotonic() < deadline, f"{count} requests never waited for a lock"
            time.sleep(0.02)
            conn.rollback()


def test_a_concurrent_duplicate_waits_for_the_first_and_answers_what_it_answered(postgres_server, pg_api):
    db = postgres_server.db
    assert pg_api.post("/v1/orders", json=order("4000000901")).status_code == 201
    headers = {"Idempotency-Key": "k-twins"}
    with db.engine.connect() as holder, concurrent.futures.ThreadPoolExecutor(2) as pool:
        holder.execute(sa.text("SELECT 1 FROM orders WHERE order_number = '4000000901' FOR UPDATE"))
        first = pool.submit(pg_api.post, CANCEL, json=BODY, headers=headers)
        _waiting_on_locks(db, 1)   # the first holds its claim and waits for the order
        second = pool.submit(pg_api.post, CANCEL, json=BODY, headers=headers)
        _waiting_on_locks(db, 2)   # the duplicate waits on the first's claim
        holder.rollback()
        answered, replayed = first.result(), second.result()
    assert (answered.status_code, replayed.status_code) == (200, 200), (answered.text, replayed.text)
    assert replayed.json() == answered.json()
    assert replayed.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in answered.headers
    assert pg_api.get("/v1/orders/4000000901").json()["lines"][0]["cancelled_quantity"] == 1
    events = pg_api.get("/v1/orders/4000000901/events").json()["data"]
    # One cancel, applied once: its lines.cancelled and the refund the default policy (on decision) makes with it.
    assert [e["type"] for e in events] == ["order.placed", "lines.cancelled", "refund.created"]


def test_a_duplicate_of_a_refused_request_runs_again(postgres_server, pg_api):
    """A refused first request rolls its claim back with its transaction: the key is free again."""
    assert pg_api.post("/v1/orders", json=order("4000000901")).status_code == 201
    too_many = {"lines": [{**BODY["lines"][0], "quantity": 99}]}
    assert pg_api.post(CANCEL, json=too_many, headers={"Idempotency-Key": "k-again"}).status_code == 409
    assert pg_api.post(CANCEL, json=BODY, headers={"Idempotency-Key": "k-again"}).status_code == 200
    with UnitOfWork(postgres_server.db, write=False) as uow:
        assert uow.idempotency.get("operator", "k-again").state == "done"


@pytest.fixture
def both_paths(postgres_server: Server) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """The same database served twice: the hot writes on the event loop, and on the thread pool."""
    settings = postgres_server.settings
    loop = build_app(on_the_loop(postgres_server), postgres_server.db)
    threads = build_app(on_the_loop(postgres_server, False), postgres_server.db)
    assert (loop.state.kalem.on_loop, threads.state.kalem.on_loop) == (True, False)
    headers = {"Authorization": f"Bearer {ADMIN}", HEADER: "0123456789abcdef0123456789abcdef"}  # one id: same bodies
    with serving(settings, postgres_server.db, loop) as a, serving(settings, postgres_server.db, threads) as b, \
            httpx.Client(base_url=a, headers=headers, timeout=30) as to_loop, \
            httpx.Client(base_url=b, headers=headers, timeout=30) as to_threads:
        yield to_loop, to_threads


def test_idempotency_answers_are_the_same_on_both_paths(both_paths, postgres_server):
    to_loop, to_threads = both_paths
    assert to_loop.post("/v1/orders", json=order("4000000901")).status_code == 201
    first = to_loop.post(CANCEL, json=BODY, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200
    other = {"lines": [{**BODY["lines"][0], "quantity": 2}]}
    now = datetime.now(UTC)
    with UnitOfWork(postgres_server.db) as uow:   # a twin still running holds one key; one died long ago
        uow.idempotency.claim("operator", "k-busy", PRINT, now, now + timedelta(seconds=60))
        uow.commit()
    cases = [({"Idempotency-Key": "k-1"}, BODY),        # replayed
             ({"Idempotency-Key": "k-1"}, other),       # reused with another body: 422
             ({"Idempotency-Key": "k-busy"}, BODY),     # in flight: 409
             ({"Idempotency-Key": "k" * 256}, BODY)]    # too long: 422
    for headers, body in cases:
        got = to_loop.post(CANCEL, json=body, headers=headers)
        want = to_threads.post(CANCEL, json=body, headers=headers)
        assert (got.status_code, got.headers.get("content-type"), got.headers.get("idempotent-replayed"),
                got.content) == (want.status_code, want.headers.get("content-type"),
                                 want.headers.get("idempotent-replayed"), want.content), headers
    assert [to_loop.post(CANCEL, json=b, headers=h).status_code for h, b in cases] == [200, 422, 409, 422]
    assert to_loop.get("/v1/orders/4000000901").json()["lines"][0]["cancelled_quantity"] == 1


def test_a_claim_whose_lease_ran_out_is_taken_over_on_the_loop(postgres_server, pg_api):
    assert pg_api.post("/v1/orders", json=order("4000000901")).status_code == 201
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with UnitOfWork(postgres_server.db) as uow:   # a request whose process died holding the key
        uow.idempotency.claim("operator", "k-dead", "whatever-it-was", long_ago, long_ago + timedelta(seconds=60))
        uow.commit()
    response = pg_api.post(CANCEL, json=BODY, headers={"Idempotency-Key": "k-dead"})
    assert response.status_code == 422   # another request's key: reused, not taken over
    with UnitOfWork(postgres_server.db) as uow:
        uow.idempotency.release("operator", "k-dead", long_ago + timedelta(seconds=60))
        uow.idempotency.claim("operator", "k-dead", PRINT, long_ago, long_ago + timedelta(seconds=60))
        uow.commit()
    assert pg_api.post(CANCEL, json=BODY, headers={"Idempotency-Key": "k-dead"}).status_code == 200
    with UnitOfWork(postgres_server.db, write=False) as uow:
        assert uow.idempotency.get("operator", "k-dead").state == "done"


def test_zonos_order_item_update_and_every_lean_write_commit_on_the_event_loop(postgres_server, pg_api):
    from tests.dialects.test_zonos import LINE, UPDATE, gql, place, seed_order, zid
    db = postgres_server.db
    on_loop, on_threads = checkouts(db.loop_engine), checkouts(db.engine)
    assert pg_api.post("/v1/orders", json=order("4000000901")).status_code == 201
    split = {"packages": [{"items": [{"line_id": "item000901", "quantity": 1}]}]}
    assert pg_api.post("/v1/orders/4000000901/packages/BB_pid000901/split", json=split).status_code == 200
    assert pg_api.post("/v1/orders/4000000901/cancellations-with-refund", json=BODY).status_code == 201
    assert (on_loop[0], on_threads[0]) == (3, 0)
    zonos = place(pg_api, seed_order(quantity=3))
    before = on_loop[0], on_threads[0]
    answer = gql(pg_api, UPDATE, orderId=zid(zonos), itemId=f"item_{LINE}", quantity=1)
    assert "errors" not in answer, answer
    assert (on_loop[0] - before[0], on_threads[0] - before[1]) == (1, 0)
