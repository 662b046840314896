"""`kalem worker`: claim due deliveries, send them, record what happened. Design: docs/webhooks.md.

A round is three short steps: claim a batch (one transaction: `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so workers side by side never take the same row; on SQLite run one worker), send the
batch concurrently over HTTP with no transaction open, then record every attempt and outcome (one
transaction). A claim is a lease: a worker that dies mid-round leaves rows `delivering` until the
lease ends, then any worker takes them again — delivery is at least once, and receivers
deduplicate on `webhook-id`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError

from kalem.domain.webhooks import RetryPolicy
from kalem.store.uow import UnitOfWork
from kalem.webhooks import registry
from kalem.webhooks.sender import Attempt, Sender

log = logging.getLogger("kalem.webhooks")


@dataclass
class WorkerConfig:
    batch: int = 100
    concurrency: int = 16
    poll_seconds: float = 0.05
    lease_seconds: float = 60.0  # must exceed the longest round: parts × timeout
    timeout_seconds: float = 10.0
    allow_private: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class Worker:
    def __init__(self, uow: Callable[..., UnitOfWork], config: WorkerConfig | None = None,
                 sender: Sender | None = None) -> None:
        self._uow = uow
        self.config = config or WorkerConfig()
        self._sender = sender or Sender(timeout_seconds=self.config.timeout_seconds,
                                        allow_private=self.config.allow_private,
                                        max_connections=max(self.config.concurrency, 1))
        self._pool = ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="kalem-webhook")
        self.stop_event = threading.Event()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._sender.close()

    def run(self) -> None:
        """Loop until `stop_event` is set: rounds back to back while there is work, else poll."""
        while not self.stop_event.is_set():
            try:
                done = self.run_once()
            except DBAPIError as exc:  # the database restarts or is unreachable: wait, try again
                log.warning("webhook worker: database error: %s", exc.__class__.__name__)
                done = 0
                self.stop_event.wait(1.0)
            if done < self.config.batch:
                self.stop_event.wait(self.config.poll_seconds)

    def run_once(self) -> int:
        """One round; returns the number of deliveries claimed."""
        now = datetime.now(UTC)
        with self._uow() as uow:
            ids = uow.webhooks.claim(now, now + timedelta(seconds=self.config.lease_seconds), self.config.batch)
            rows = uow.webhooks.load(ids)
            uow.commit()
        if not rows:
            return 0
        results = list(self._pool.map(self._deliver, rows))
        self._record(rows, results)
        return len(rows)

    def _deliver(self, row: dict[str, Any]) -> list[Attempt]:
        """Send every body the event renders to, in order; stop at the first failure."""
        event = {"id": row["event_id"], "type": row["type"], "order_id": row["order_id"],
                 "order_number": row["order_number"], "seller_id": row["seller_id"], "sequence": row["sequence"],
                 "occurred_at": row["occurred_at"].isoformat().replace("+00:00", "Z"), "actor": row["actor"],
                 "data": row["data"]}
        try:
            payloads = registry.render(row["dialect"], event)
        except Exception as exc:  # a renderer's bug must not stop the worker; it is recorded and retried
            log.exception("webhook payload rendering failed")
            return [Attempt(None, 0, None, f"render_failed: {type(exc).__name__}: {exc}"[:500],
                            attempted_at=datetime.now(UTC))]
        attempts = []
        for index, payload in enumerate(payloads):
            msg_id = row["event_id"] if len(payloads) == 1 else f"{row['event_id']}.{index}"
            attempt = self._sender.send(row, msg_id, payload)
            attempts.append(attempt)
            if not attempt.ok:
                break
        return attempts

    def _record(self, rows: list[dict[str, Any]], results: list[list[Attempt]]) -> None:
        now = datetime.now(UTC)
        outcomes, attempts, disable = [], [], []
        for row, tries in zip(rows, results, strict=True):
            attempts.extend({"delivery_id": row["id"], "attempted_at": a.attempted_at or now,
                             "status_code": a.status_code, "duration_ms": a.duration_ms,
                             "response_excerpt": a.response_excerpt, "error": a.error} for a in tries)
            last = tries[-1] if tries else None
            outcome = {"id": row["id"], "fence": row["lease_until"], "code": last.status_code if last else None,
                       "error": last.error if last else None, "next": now, "delivered": None}
            if last is None or last.ok:
                outcome.update(status="delivered", delivered=now)
            elif last.status_code == 410:  # the receiver says the endpoint is gone for good
                outcome.update(status="dead", error="410 Gone: subscription disabled")
                disable.append(row["subscription_id"])
            elif self.config.retry.exhausted(row["attempts"]):
                outcome.update(status="dead")
            else:
                wait = self.config.retry.delay(row["attempts"], last.retry_after)
                outcome.update(status="failed", next=now + timedelta(seconds=wait))
            outcomes.append(outcome)
        with self._uow() as uow:
            uow.webhooks.finish(outcomes, attempts)
            for sub_id in set(disable):
                uow.webhooks.disable(sub_id, "the receiver answered 410 Gone")
            uow.commit()
