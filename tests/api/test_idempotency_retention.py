"""`kalem worker` forgets Idempotency-Keys past their retention: finished ones and abandoned claims,
never a claim still running, never a recent key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import sqlalchemy as sa

from kalem.store.schema import idempotency_keys
from kalem.store.uow import UnitOfWork
from kalem.webhooks.worker import Worker, WorkerConfig
from tests.support import SEED_ORDER


def _keys(db) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(sa.select(idempotency_keys.c.key)).scalars())


def _claim(db, key: str, *, created: datetime, lease_until: datetime, done: bool) -> None:
    with UnitOfWork(db) as uow:
        uow.idempotency.claim("operator:admin", key, "f" * 64, created, lease_until)
        if done:
            assert uow.idempotency.complete("operator:admin", key, lease_until, 200, "{}")
        uow.commit()


def test_the_worker_forgets_keys_past_their_retention(api, db):
    now = datetime.now(UTC)
    old, recent = now - timedelta(hours=25), now - timedelta(hours=1)
    _claim(db, "old-done", created=old, lease_until=old + timedelta(minutes=1), done=True)
    _claim(db, "old-abandoned", created=old, lease_until=old + timedelta(minutes=1), done=False)
    _claim(db, "old-still-running", created=old, lease_until=now + timedelta(minutes=1), done=False)
    _claim(db, "recent-done", created=recent, lease_until=recent + timedelta(minutes=1), done=True)
    worker = Worker(partial(UnitOfWork, db), WorkerConfig(idempotency_retention_seconds=24 * 3600))
    try:
        assert worker.housekeep(batch=1) == 2  # in batches of one: the loop goes on until none is left
    finally:
        worker.close()
    assert _keys(db) == {"old-still-running", "recent-done"}


def test_a_forgotten_key_no_longer_replays(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    line = SEED_ORDER["lines"][0]["line_id"]
    cancel = {"lines": [{"line_id": line, "quantity": 1, "reason_id": 136}]}
    path = "/v1/orders/4000000001/cancellations"
    assert api.post(path, json=cancel, headers={"Idempotency-Key": "c-1"}).status_code == 200
    replayed = api.post(path, json=cancel, headers={"Idempotency-Key": "c-1"})
    assert replayed.headers.get("idempotent-replayed") == "true"
    with db.engine.begin() as conn:  # as if sent two days ago
        conn.execute(idempotency_keys.update().values(created_at=datetime.now(UTC) - timedelta(days=2)))
    worker = Worker(partial(UnitOfWork, db), WorkerConfig(idempotency_retention_seconds=24 * 3600))
    try:
        assert worker.housekeep() == 1
    finally:
        worker.close()
    again = api.post(path, json=cancel, headers={"Idempotency-Key": "c-1"})
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers  # a new request now
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["cancelled_quantity"] == 2
