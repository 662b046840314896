"""On PostgreSQL a locked order's write, its events, their webhook deliveries and channel pushes and
the worker's wake-up are one statement (store/folded_write.py), and the enabled subscriptions and
accounts are read with the order's lock (store/routing.py): a cancel is the lock and one write (and
the refund its seller's policy makes), on the thread pool and on the event loop alike. Nothing of it
is cached beyond the transaction, and a version that moved writes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kalem.bootstrap.api import build_app
from kalem.domain import orders as domain
from kalem.domain.errors import VersionMismatch
from kalem.domain.events import Actor
from kalem.domain.orders import CancelItem
from kalem.observability import tracing
from kalem.store import sealed
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, Server, empty, serving
from tests.support import order

NUMBER = "4000000901"
CANCEL = f"/v1/orders/{NUMBER}/cancellations"
BODY = {"lines": [{"line_id": "item000901", "quantity": 1, "reason_id": 136}]}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def postgres_server(servers: dict[str, Server]) -> Server:
    chosen = servers["postgresql"]
    empty(chosen.db)
    return chosen


@pytest.fixture(params=[False, True], ids=["thread-pool", "event-loop"])
def pg_api(request: pytest.FixtureRequest, postgres_server: Server) -> Iterator[httpx.Client]:
    settings = postgres_server.settings.model_copy(update={"async_writes": request.param})
    db = postgres_server.db
    with serving(settings, db, build_app(settings, db)) as url, \
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60) as client:
        yield client


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield exporter
    finally:
        tracing.use(None)
        provider.shutdown()


def deliveries(db: Database) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT d.subscription_id, e.type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
            "AND e.position = d.event_position ORDER BY d.id"))]


def subscribe(client: httpx.Client, event_types: list[str]) -> str:
    created = client.post("/v1/webhook-subscriptions", json={
        "url": "http://127.0.0.1:9/hooks", "event_types": event_types, "secret": SECRET})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_cancel_is_the_lock_and_one_folded_write(postgres_server, pg_api, spans):
    assert pg_api.post("/v1/orders", json=order(NUMBER)).status_code == 201
    wanted = subscribe(pg_api, ["lines.*"])
    subscribe(pg_api, ["order.placed"])   # hears of no cancel
    spans.clear()
    response = pg_api.post(CANCEL, json=BODY)
    assert response.status_code == 200, response.text
    finished = spans.get_finished_spans()
    (transaction,) = [s for s in finished if s.name == "transaction"]
    statements = [s.attributes["db.statement"] for s in finished
                  if s.parent is not None and s.parent.span_id == transaction.context.span_id]
    lock, *between, write = statements   # between: the refund the seller's policy makes (app/refund_policy.py)
    assert lock.startswith("SELECT") and lock.endswith("FOR UPDATE")
    assert "webhook_subscriptions" in lock and "channel_accounts" in lock
    assert write.startswith("WITH saved AS (UPDATE orders") and "pg_notify" in write
    assert "INSERT INTO events" in write and "INSERT INTO webhook_deliveries" in write
    assert "INSERT INTO channel_pushes" in write
    for table in ("orders", "events", "webhook_subscriptions", "webhook_deliveries", "channel_accounts",
                  "channel_pushes"):
        assert not any(f" {table} " in sql for sql in between), (table, between)
    assert deliveries(postgres_server.db) == [(wanted, "lines.cancelled")]


def test_a_subscription_made_by_another_process_is_heard_by_the_next_cancel(postgres_server, pg_api):
    assert pg_api.post("/v1/orders", json=order(NUMBER)).status_code == 201
    assert pg_api.post(CANCEL, json=BODY).status_code == 200
    assert deliveries(postgres_server.db) == []
    # Another process: its own engine and pool, its own transaction.
    other = Database.connect(postgres_server.settings.database_url,
                             sealer=sealed.from_settings(postgres_server.settings))
    try:
        with other.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO webhook_subscriptions (id, url, event_types, dialect, auth_kind, enabled, created_at) "
                "VALUES ('wh_other', 'x', '[\"lines.cancelled\"]', 'native', 'none', true, now())"))
    finally:
        other.engine.dispose()
    assert pg_api.post(CANCEL, json=BODY).status_code == 200
    assert deliveries(postgres_server.db) == [("wh_other", "lines.cancelled")]
    with postgres_server.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE webhook_subscriptions SET enabled = false"))
    assert pg_api.post(CANCEL, json=BODY).status_code == 200
    assert len(deliveries(postgres_server.db)) == 1   # disabled: no more


def test_a_version_that_moved_writes_nothing(postgres_server):
    db = postgres_server.db
    settings = postgres_server.settings
    with serving(settings, db) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
        assert c.post("/v1/orders", json=order(NUMBER)).status_code == 201
        subscribe(c, ["*"])
    with UnitOfWork(db) as uow:
        locked = uow.orders.get(NUMBER, None, for_update=True)
        before = uow.events.for_order(locked.id)
        changed, events = domain.cancel_lines(locked, [CancelItem("item000901", 1, 136)],
                                              actor=Actor("operator", "t"), now=uow.now())
        with pytest.raises(VersionMismatch):
            uow.save_order(changed, expected_version=locked.version + 1, events=events)
        # Not even inside the transaction: no event, no delivery, the order as it was.
        assert uow.events.for_order(locked.id) == before
        assert uow.orders.get(NUMBER, None).version == locked.version
        counted = uow._conn.execute(sa.text("SELECT count(*) FROM webhook_deliveries WHERE order_id = :o"),
                                    {"o": locked.id}).scalar_one()
        assert counted == len(deliveries(db))
        # At the version read, the same write goes through.
        uow.save_order(changed, expected_version=locked.version, events=events)
        uow.commit()
    assert deliveries(db)[-1][1] == "lines.cancelled"
