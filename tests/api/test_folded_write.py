"""On PostgreSQL a locked order's write, its events, their webhook deliveries and channel pushes and
the worker's wake-up are one statement (store/folded_write.py), and the enabled subscriptions and
accounts are read with the order's lock (store/routing.py): a cancel is the lock and one write (and
the refund its seller's policy makes), on the thread pool and on the event loop alike. Nothing of it
is cached beyond the transaction, and a version that moved writes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kalem.bootstrap.api import build_app
from kalem.domain import orders as domain
from kalem.domain.errors import VersionMismatch
from kalem.domain.events import Actor
from kalem.domain.orders import CancelItem
from kalem.store import sealed
from kalem.store.db import Database
from kalem.store.repositories import OrderRepository
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, Server, empty, serving
from tests.observability.test_tracing import spans  # noqa: F401 - the fixture
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


def deliveries(db: Database) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT d.subscription_id, e.type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
            "AND e.position = d.event_position ORDER BY d.id"))]


def transaction_statements(spans: InMemorySpanExporter) -> list[str]:
    """The SQL of the one transaction traced since the spans were cleared."""
    finished = spans.get_finished_spans()
    (transaction,) = [s for s in finished if s.name == "transaction"]
    return [s.attributes["db.statement"] for s in finished
            if s.parent is not None and s.parent.span_id == transaction.context.span_id]


def subscribe(client: httpx.Client, event_types: list[str]) -> str:
    created = client.post("/v1/webhook-subscriptions", json={
        "url": "http://127.0.0.1:9/hooks", "event_types": event_types, "secret": SECRET})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_cancel_is_the_lock_and_one_folded_write(postgres_server, pg_api, spans, request):
    assert pg_api.post("/v1/orders", json=order(NUMBER)).status_code == 201
    wanted = subscribe(pg_api, ["lines.*"])
    subscribe(pg_api, ["order.placed"])   # hears of no cancel
    spans.clear()
    response = pg_api.post(CANCEL, json=BODY)
    assert response.status_code == 200, response.text
    statements = transaction_statements(spans)
    # The refund the seller's default policy makes (app/refund_policy.py) is read and written in the same two.
    lock, write = statements
    # On the event loop a cancel without a key is a compare-and-swap: the same read, without the row lock;
    # the write is at the version read (store/uow.py, tests/api/test_optimistic_cancel.py).
    on_loop = request.node.callspec.params["pg_api"]
    assert lock.startswith("SELECT") and lock.endswith("FOR UPDATE") is not on_loop
    for table in ("webhook_subscriptions", "channel_accounts", "refunds", "refund_policies", "seller_strategies"):
        assert f" {table} " in lock, table
    assert write.startswith("WITH saved AS (UPDATE orders") and "pg_notify" in write
    for table in ("events", "webhook_deliveries", "channel_pushes", "refunds"):
        assert f"INSERT INTO {table} " in write, table
    assert deliveries(postgres_server.db) == [(wanted, "lines.cancelled")]
    (refund,) = pg_api.get(f"/v1/orders/{NUMBER}/refunds").json()["data"]
    assert refund["status"] == "pending"


def test_an_intake_is_one_look_up_and_one_write(postgres_server, pg_api, spans):
    wanted = subscribe(pg_api, ["order.placed"])
    spans.clear()
    response = pg_api.post("/v1/orders", json=order(NUMBER))
    assert response.status_code == 201, response.text
    statements = transaction_statements(spans)
    look, write = statements
    for table in ("sellers", "order_lines", "orders", "webhook_subscriptions", "channel_accounts"):
        assert f" {table} " in look, table
    for table in ("sellers", "orders", "order_lines", "events", "webhook_deliveries", "channel_pushes"):
        assert f"INSERT INTO {table} " in write, table
    assert deliveries(postgres_server.db) == [(wanted, "order.placed")]
    # The same order again is found by the look-up alone; another order taking its line id is refused.
    assert pg_api.post("/v1/orders", json=order(NUMBER)).status_code == 200
    taken = pg_api.post("/v1/orders", json={"order_number": "4000000902", "seller_id": "acme", "currency": "TRY",
                                            "lines": [{"line_id": "item000901", "sku": "A", "name": "A",
                                                       "quantity": 1, "unit_price": "10.00"}]})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "line_id_in_use", taken.text
    with postgres_server.db.engine.connect() as conn:
        lines = conn.execute(sa.text("SELECT line_id FROM order_lines ORDER BY line_id")).scalars().all()
        assert lines == sorted(line["line_id"] for line in order(NUMBER)["lines"])
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == 1


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


def _cancel_one(uow: UnitOfWork, locked: domain.Order) -> None:
    """Cancel one unit of the locked order with the refund its seller's default policy makes."""
    from kalem.app.refund_policy import save_decision
    from kalem.app.transaction import OrderTransaction
    from kalem.domain.refunds import RefundCause
    tx = OrderTransaction(uow)
    tx._held(locked)
    actor = Actor("operator", "t")
    changed, events = domain.cancel_lines(locked, [CancelItem("item000901", 1, 136)], actor=actor, now=uow.now())
    save_decision(tx, locked, changed, events, RefundCause.CANCELLATION, actor)


def test_a_lock_that_waited_reads_the_refunds_committed_meanwhile(postgres_server):
    """The lock's own read of the order's refunds is its statement's snapshot, taken before the lock was
    granted: a refund committed while it waited must still be seen (store/money_with_lock.py)."""
    import threading
    db = postgres_server.db
    with serving(postgres_server.settings, db) as url, \
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
        assert c.post("/v1/orders", json=order(NUMBER)).status_code == 201
    seen: list[list[str]] = []

    def second() -> None:
        with UnitOfWork(db) as uow:
            locked = uow.orders.get(NUMBER, None, for_update=True)   # waits for the first
            seen.append([r.id for r in uow.refunds.for_order(locked.id)])

    with UnitOfWork(db) as first:
        locked = first.orders.get(NUMBER, None, for_update=True)
        assert first.refunds.for_order(locked.id) == []   # read with the lock
        _cancel_one(first, locked)
        waiting = threading.Thread(target=second)
        waiting.start()
        with db.engine.connect() as probe:   # the second transaction is queued behind the first's lock
            for _ in range(500):
                if probe.execute(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one():
                    break
                threading.Event().wait(0.01)
            else:
                raise AssertionError("the second lock never waited")
        first.commit()
    waiting.join(30)
    with db.engine.connect() as conn:
        made = [r for (r,) in conn.execute(sa.text("SELECT id FROM refunds"))]
    assert len(made) == 1 and seen == [made]


def test_refunds_read_with_the_lock_are_the_refunds_read_alone(postgres_server):
    """What the lock brought equals what a statement of its own reads, and a refund added in the
    transaction is seen by it before and after its write (written once)."""
    db = postgres_server.db
    with serving(postgres_server.settings, db) as url, \
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
        assert c.post("/v1/orders", json=order(NUMBER)).status_code == 201
        for _ in range(2):
            assert c.post(CANCEL, json=BODY).status_code == 200
    with UnitOfWork(db) as uow:
        locked = uow.orders.get(NUMBER, None, for_update=True)
        held = uow.refunds.for_order(locked.id)
        alone = UnitOfWork(db)
        with alone:
            assert alone.refunds.for_order(locked.id) == held and len(held) == 2
        _cancel_one(uow, locked)
        assert len(uow.refunds.for_order(locked.id)) == 3
        uow.commit()
    with UnitOfWork(db) as uow:
        assert len(uow.refunds.for_order(uow.orders.get(NUMBER, None).id)) == 3


def test_the_lock_reads_the_orders_refunds_by_the_order_and_its_seller(postgres_server):
    """The lock's read of an order's refunds names the order and its seller, and one index holds both:
    found by the order (with the generic plan a pooled connection keeps), never by scanning every refund
    of a seller whose refunds grow."""
    lock = re.sub(r"(?<![:\w]):n\b", "$1", OrderRepository._locking(OrderRepository._BY_NUMBER))
    db = postgres_server.db
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(
            "INSERT INTO refunds (id, order_id, seller_id, order_number, status, created_at, body) "
            "SELECT 'rf' || n, 'o' || n, 's1', 'N' || n, 'pending', now(), '{}' FROM generate_series(1, 400) n"))
        conn.execute(sa.text("ANALYZE refunds"))
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"PREPARE kalem_lock(text) AS {lock}")
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")   # a table too big to read whole
        plan = "\n".join(conn.exec_driver_sql("EXPLAIN EXECUTE kalem_lock('x')").scalars())
        conn.exec_driver_sql("DEALLOCATE kalem_lock")
    refunds = [line for line in plan.splitlines() if " on refunds r" in line]
    assert refunds and all("using ix_refunds_order on refunds" in line for line in refunds), plan
    assert "Index Cond: (((order_id)::text = (orders.id)::text) AND ((seller_id)::text = (orders.seller_id)::text))" \
        in plan, plan
