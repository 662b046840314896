"""The metric families (prometheus-client), defined once per process.

With several API processes (`kalem serve --workers N`) prometheus-client's multiprocess mode keeps
each process's values in `PROMETHEUS_MULTIPROC_DIR` and `/metrics` adds them up; `kalem serve` sets
that directory up itself. Values read from the database at scrape time (outbox depth, oldest
pending cancel request) are not here but in `kalem.observability.state`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

M = TypeVar("M", Counter, Gauge, Histogram)


class Children(Generic[M]):
    """A labelled metric's children, each looked up once per label values: prometheus-client's
    `labels()` validates the values and takes a lock on every call, and the request path asks for
    the same few children on every request. The children are prometheus-client's own (it keeps
    them too), so nothing is counted twice or apart; the label values are bounded (route
    templates, statuses, event types, currencies), as the metric's own cardinality already is."""

    __slots__ = ("_metric", "_made")

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._made: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._made.get(values)
        if child is None:
            child = self._made[values] = self._metric.labels(*values)
        return child


# Latency buckets from a cached read (~1 ms) to a request stuck behind a lock or a slow receiver.
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter("kalem_http_requests", "HTTP requests answered, by face, route template, method and "
                        "status (409 and 429 are the conflicts and the rate-limit refusals)",
                        ["face", "route", "method", "status"])
HTTP_LATENCY = Histogram("kalem_http_request_duration_seconds", "Time from a request's arrival to the end of "
                         "its answer", ["face", "route", "method"], buckets=_SECONDS)
IDEMPOTENT_REPLAYS = Counter("kalem_idempotent_replays", "Requests answered with the stored response of an "
                             "earlier request with the same Idempotency-Key", ["face"])

EVENTS = Counter("kalem_events", "Order events committed, by type", ["type"])
CANCELS = Counter("kalem_cancels", "Cancellations committed (direct, approved requests and splits)")
CANCELLED_UNITS = Counter("kalem_cancelled_units", "Units cancelled")
CANCEL_REQUESTS = Counter("kalem_cancel_requests", "Cancel requests, by what happened to them",
                          ["outcome"])
SPLITS = Counter("kalem_package_splits", "Packages split")
REFUNDS = Counter("kalem_refunds", "Refunds created, by currency", ["currency"])
REFUNDED_AMOUNT = Counter("kalem_refunded_amount", "Amount of the refunds created, by currency", ["currency"])

DB_POOL_IN_USE = Gauge("kalem_db_pool_connections_in_use", "Database connections checked out of the pool",
                       multiprocess_mode="livesum")
DB_POOL_WAIT = Histogram("kalem_db_pool_wait_seconds", "Time to get a connection from the pool (a pool "
                         "too small for the load shows here first)", buckets=_SECONDS)
DB_POOL_TIMEOUTS = Counter("kalem_db_pool_timeouts", "Requests that found no free connection in time (503)")

DELIVERIES = Counter("kalem_webhook_deliveries", "Webhook deliveries finished, by dialect and outcome "
                     "(delivered, failed: retried later, dead: given up)", ["dialect", "outcome"])
DELIVERY_ATTEMPT_LATENCY = Histogram("kalem_webhook_attempt_duration_seconds", "One HTTP attempt to a "
                                     "receiver", ["dialect"], buckets=_SECONDS)

http_requests = Children(HTTP_REQUESTS)
http_latency = Children(HTTP_LATENCY)
idempotent_replays = Children(IDEMPOTENT_REPLAYS)
_events = Children(EVENTS)
_cancel_requests = Children(CANCEL_REQUESTS)
_refunds = Children(REFUNDS)
_refunded_amount = Children(REFUNDED_AMOUNT)

_CANCEL_REQUEST_OUTCOMES = {"cancel_request.created": "created", "cancel_request.approved": "approved",
                            "cancel_request.rejected": "rejected", "cancel_request.withdrawn": "withdrawn"}


def count_events(events: Iterable[Any]) -> None:
    """Business counters, from the events a transaction committed (called after the commit)."""
    for event in events:
        _events(event.type).inc()
        if event.type == "lines.cancelled":
            CANCELS.inc()
            CANCELLED_UNITS.inc(sum(int(item.get("quantity", 0)) for item in event.data.get("items", ())))
        elif event.type in _CANCEL_REQUEST_OUTCOMES:
            _cancel_requests(_CANCEL_REQUEST_OUTCOMES[event.type]).inc()
            if event.type == "cancel_request.approved":  # an approval cancels what it approves
                CANCELS.inc()
                CANCELLED_UNITS.inc(sum(int(item.get("approved", 0)) for item in event.data.get("items", ())))
        elif event.type == "package.split":
            SPLITS.inc()
        elif event.type == "refund.created":
            currency = str(event.data.get("currency", ""))
            _refunds(currency).inc()
            try:
                _refunded_amount(currency).inc(float(Decimal(str(event.data.get("amount", "0")))))
            except (InvalidOperation, ValueError):
                pass  # the commit is done: a counter must never turn it into an error


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _registry() -> CollectorRegistry:
    """This process's metrics, or in multiprocess mode every process's."""
    if not multiprocess_dir():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition(extra: CollectorRegistry | None = None) -> bytes:
    """The text format of the metrics, followed by `extra` (values read at scrape time)."""
    return generate_latest(_registry()) + (generate_latest(extra) if extra is not None else b"")


def process_exited(pid: int) -> None:
    """Drop a finished process's live gauges from the multiprocess files."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)


def serve_metrics(host: str, port: int) -> None:
    """`/metrics` on its own port, in a background thread (for `kalem worker`)."""
    from prometheus_client import start_http_server
    start_http_server(port, addr=host, registry=_registry())
