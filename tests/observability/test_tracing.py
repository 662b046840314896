"""Traces with the real OpenTelemetry SDK and an in-memory exporter: one cancel, end to end — the
request's span, its transactions, their SQL statements, and the webhook worker's claim, send and
record, the send linked to the cancel's trace — with the hot writes' transactions on the thread pool
and on the event loop (`KALEM_ASYNC_WRITES`; SQLite keeps the thread pool whatever it says)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kalem.bootstrap.api import build_app
from kalem.bootstrap.worker import build_worker
from kalem.observability import tracing
from tests.conftest import ADMIN, serving
from tests.support import SEED_ORDER
from tests.webhooks.receiver import Receiver

LINE = "item1691416223190"
ROUTE = "/v1/orders/{order_number}/cancellations"


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


@pytest.mark.parametrize("on_loop", [False, True], ids=["thread-pool", "event-loop"])
def test_one_cancel_end_to_end(server, spans, on_loop):
    settings = server.settings.model_copy(update={"async_writes": on_loop})
    app = build_app(settings, server.db)
    on_loop = app.state.kalem.on_loop   # PostgreSQL only
    receiver = Receiver().start()
    try:
        with serving(settings, server.db, app) as url, httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as api:
            assert api.post("/v1/webhook-subscriptions", json={
                "url": receiver.url, "event_types": ["lines.cancelled"],
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}).status_code == 201
            assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
            spans.clear()
            cancelled = api.post("/v1/orders/4000000001/cancellations",
                                 headers={"Idempotency-Key": "trace-1", "X-Request-ID": "trace-request-1"},
                                 json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]})
            assert cancelled.status_code == 200, cancelled.text
        worker = build_worker(server.settings, server.db)
        try:
            assert worker.run_once() == 1
        finally:
            worker.close()
        assert len(receiver.requests) == 1
    finally:
        receiver.stop()

    finished = spans.get_finished_spans()

    def children(parent) -> list:  # type: ignore[no-untyped-def]
        return [s for s in finished if s.parent is not None and s.parent.span_id == parent.context.span_id]

    request = next(s for s in finished if s.name == f"POST {ROUTE}")
    assert request.parent is None
    assert request.attributes["kalem.face"] == "native" and request.attributes["http.route"] == ROUTE
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["kalem.request_id"] == cancelled.headers["X-Request-ID"] == "trace-request-1"
    transactions = [s for s in children(request) if s.name == "transaction"]
    # On the thread pool the Idempotency-Key's claim is a transaction of its own before the cancel's; on the
    # event loop it is the cancel transaction's first statement. Either way it is completed in the cancel's.
    assert len(transactions) == (1 if on_loop else 2)
    statements = [s.attributes["db.statement"] for t in transactions for s in children(t)]
    assert all(s.name.startswith("SQL ") for t in transactions for s in children(t))
    if server.db.is_sqlite:   # a statement per table
        assert any(sql.startswith("UPDATE orders") for sql in statements)
        assert any(sql.startswith("INSERT INTO events") for sql in statements)
        assert any(sql.startswith("INSERT INTO webhook_deliveries") for sql in statements)
    else:   # the order, its event, the delivery and the notify in one statement (store/folded_write.py)
        (write,) = [sql for sql in statements if "UPDATE orders" in sql]
        assert "INSERT INTO events" in write and "INSERT INTO webhook_deliveries" in write
        assert "pg_notify" in write
    assert all(s.context.trace_id == request.context.trace_id for t in transactions for s in children(t))

    claim = next(s for s in finished if s.name == "webhooks.claim")
    send = next(s for s in finished if s.name == "webhooks.send")
    record = next(s for s in finished if s.name == "webhooks.record")
    assert any(s.name == "transaction" for s in children(claim))
    assert any(s.name == "transaction" for s in children(record))
    assert send.attributes["kalem.event_type"] == "lines.cancelled"
    # The worker's spans are their own traces, linked to the request that queued the delivery.
    assert send.context.trace_id != request.context.trace_id
    assert [link.context.trace_id for link in send.links] == [request.context.trace_id]
    assert request.context.trace_id in [link.context.trace_id for link in record.links]

