"""`kalem worker`: claim due deliveries, send them, record what happened. Design: docs/webhooks.md.

Three steps, overlapped: claim a batch (one transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL,
so workers side by side never take the same row; on SQLite run one worker), send each delivery over
HTTP with no transaction open, and record the outcomes of the sends that are over (one transaction).
While one batch is being sent the worker records the last and claims the next: it holds up to
`HELD_BATCHES` batches at once.

A claim is a lease: a worker that dies leaves its rows `delivering` until the lease ends, then any
worker takes them again — delivery is at least once, and receivers deduplicate on `webhook-id`. A
worker starts a send only while the claim's lease lasts, never claims again a delivery it still
holds, and records an outcome only for the claim it belongs to (`lease_until` is the claim's token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kalem.domain.webhooks import DELIVERY, DeliveryStatus, DeliveryStep, RetryPolicy
from kalem.observability import metrics, tracing
from kalem.store.uow import UnitOfWork
from kalem.webhooks import registry
from kalem.webhooks.sender import Attempt, Sender

log = logging.getLogger("kalem.webhooks")


#: What the worker outlives: the database gone (OperationalError and kin), or the pool exhausted.
_DATABASE_ERRORS = (DBAPIError, PoolTimeout)
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 5.0
#: Batches a worker holds at once: one being sent while the last is recorded and the next claimed.
HELD_BATCHES = 2


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` database errors in a row: 0.5, 1, 2, 4, then 5 s each — a
    stopped database costs a log line every few seconds, not a busy loop."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** min(failures - 1, 16))


def _log_database_error(exc: BaseException, then: str) -> None:
    if isinstance(exc, (OperationalError, PoolTimeout)) or getattr(exc, "connection_invalidated", False):
        log.warning("webhook worker: database unavailable (%s); %s", exc.__class__.__name__, then)
    else:  # not an outage: a bug worth its stack trace, yet still no reason to stop delivering
        log.exception("webhook worker: database error; %s", then)


@dataclass
class WorkerConfig:
    batch: int = 100
    concurrency: int = 16
    poll_seconds: float = 0.05
    lease_seconds: float = 60.0  # well above the longest send (parts × timeout) and its wait for a thread
    timeout_seconds: float = 10.0
    allow_private: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Housekeeping between claims: Idempotency-Keys older than the retention are forgotten.
    idempotency_retention_seconds: float = 86_400.0
    housekeeping_seconds: float = 600.0


def _after(step: DeliveryStep) -> str:
    """The status a claimed delivery takes with `step` (the domain's table decides)."""
    return DELIVERY.next(DeliveryStatus.DELIVERING, step).value


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed delivery: what sending it needs, and its lease (the claim's token)."""

    row: dict[str, Any]
    lease_until: datetime
    lease_ends: float   # time.monotonic() when the lease runs out


class Held:
    """The claims a worker holds — claimed, not yet recorded — and the sends that are over."""

    def __init__(self, ready: threading.Event, batch: int) -> None:
        self._lock = threading.Lock()
        self._ready = ready    # set once a batch of sends is over, or every send held
        self._batch = batch
        self._held: dict[int, Claim] = {}
        self._over: list[tuple[Claim, list[Attempt] | None]] = []

    def __len__(self) -> int:
        return len(self._held)

    def add(self, claims: list[Claim]) -> None:
        with self._lock:
            self._held.update((c.row["id"], c) for c in claims)

    def expired(self, now: datetime) -> list[int]:
        """Deliveries held whose lease ran out: due again for the database, not for this worker."""
        with self._lock:
            return [id_ for id_, claim in self._held.items() if claim.lease_until <= now]

    def over(self, claim: Claim, result: list[Attempt] | None) -> None:
        with self._lock:
            self._over.append((claim, result))
            if len(self._over) >= min(self._batch, len(self._held)):
                self._ready.set()

    def take(self) -> list[tuple[Claim, list[Attempt] | None]]:
        """The sends that are over, no longer held once taken (recorded, or lost with the lease)."""
        with self._lock:
            over, self._over = self._over, []
            for claim, _ in over:
                del self._held[claim.row["id"]]
            return over


class Worker:
    def __init__(self, uow: Callable[..., UnitOfWork], config: WorkerConfig | None = None,
                 sender: Sender | None = None, dialects: Mapping[str, registry.Renderer] | None = None,
                 listen: Callable[[Callable[[], None]], Any] | None = None) -> None:
        """`listen(wake)`: starts telling the worker of newly queued deliveries (PostgreSQL's
        LISTEN, store/notify.py) and returns what to `stop()`; without it the worker only polls."""
        self._uow = uow
        self._listen = listen
        # Something to do: deliveries were announced, a batch of sends is over, or the worker is stopping.
        self._nudged = threading.Event()
        self.config = config or WorkerConfig()
        self._dialects = dict(dialects or {})   # payload renderers besides `native` (webhooks/registry.py)
        self._sender = sender or Sender(timeout_seconds=self.config.timeout_seconds,
                                        allow_private=self.config.allow_private,
                                        max_connections=max(self.config.concurrency, 1))
        self._pool = ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="kalem-webhook")
        self._held = Held(self._nudged, self.config.batch)
        self.stop_event = threading.Event()

    def stop(self) -> None:
        """Finish the sends under way and record them; claimed deliveries not yet sent are released
        for the next worker; then leave `run`."""
        self.stop_event.set()
        self._nudged.set()

    def wake(self) -> None:
        """Deliveries were queued: claim now rather than at the next poll."""
        self._nudged.set()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._sender.close()

    def run(self) -> None:
        """Loop until `stop_event` is set and every claim held is recorded: claim while fewer than
        `HELD_BATCHES` batches are held and there is work, record the sends that are over, else wait
        for the next poll, or less if `listen` announces new deliveries or a batch of sends is over.

        A database error (stopped, restarting, unreachable) never ends the loop: the worker logs it and
        waits, longer after each failure in a row (`backoff`), and carries on when the database
        answers again — the pool reconnects by itself."""
        listener = self._listen(self.wake) if self._listen is not None else None
        try:
            self._loop()
        finally:
            if listener is not None:
                listener.stop()

    def _loop(self) -> None:
        failures = 0
        next_housekeeping = time.monotonic()
        capacity = HELD_BATCHES * self.config.batch
        caught_up = False   # the last claim found fewer than it asked for: wait before claiming again
        while not (self.stop_event.is_set() and not len(self._held)):
            try:
                self._nudged.clear()   # from here on, news wakes the wait below
                if not self.stop_event.is_set():
                    if time.monotonic() >= next_housekeeping:
                        self.housekeep()
                        next_housekeeping = time.monotonic() + self.config.housekeeping_seconds
                    if not caught_up and len(self._held) < capacity:
                        wanted = min(self.config.batch, capacity - len(self._held))
                        caught_up = self._claim_and_send(wanted) < wanted
                over = self._held.take()
                if over:
                    self._record_within_lease(over)
                    caught_up = False   # an outcome recorded may have made an order's next event due
            except _DATABASE_ERRORS as exc:
                failures += 1
                wait = backoff(failures)
                _log_database_error(exc, f"retrying in {wait:.1f} s")
                self.stop_event.wait(wait)
                continue
            failures = 0
            if self.stop_event.is_set():
                # Only for sends still out: each nudges when over. A stop that came just before the
                # `clear` above left no nudge behind, so with nothing held the loop ends now.
                if len(self._held):
                    self._nudged.wait(self.config.poll_seconds)
            elif caught_up or len(self._held) >= capacity:
                self._nudged.wait(self.config.poll_seconds)
                caught_up = False

    def housekeep(self, batch: int = 1000, max_batches: int = 100) -> int:
        """Forget Idempotency-Keys past their retention and the ends of hub sessions whose cookies have
        expired, a batch per short transaction (no long locks);
        returns how many. Bounded per call, the rest waits for the next pass."""
        forgotten = 0
        for _ in range(max_batches):
            now = datetime.now(UTC)
            with self._uow() as uow:
                n = uow.idempotency.prune(now - timedelta(seconds=self.config.idempotency_retention_seconds), now,
                                          batch)
                n += uow.hub_sessions.prune(now, batch)
                uow.commit()
            forgotten += n
            if n < batch:
                break
        if forgotten:
            log.info("webhook worker: forgot %d idempotency keys and ended hub sessions past their retention",
                     forgotten)
        return forgotten

    def run_once(self) -> int:
        """One round, not overlapped: claim a batch, send it, record it; returns the number claimed."""
        claims = self.claim(self.config.batch)
        if claims:
            results = list(self._pool.map(self.deliver, claims))
            self._record_within_lease(list(zip(claims, results, strict=True)))
        return len(claims)

    def claim(self, limit: int) -> list[Claim]:
        """Claim up to `limit` due deliveries, leaving out those this worker still holds."""
        started = time.monotonic()
        now = datetime.now(UTC)
        lease_until = now + timedelta(seconds=self.config.lease_seconds)
        with tracing.span("webhooks.claim") as span, self._uow() as uow:
            ids = uow.webhooks.claim(now, lease_until, limit, held=self._held.expired(now))
            rows = uow.webhooks.load(ids)
            uow.commit()
            if span is not None:
                span.set_attribute("kalem.deliveries", len(rows))
        lease_ends = started + self.config.lease_seconds
        return [Claim(row, lease_until, lease_ends) for row in rows]

    def _claim_and_send(self, limit: int) -> int:
        claims = self.claim(limit)
        self._held.add(claims)
        for claim in claims:
            def sent(done: Future[list[Attempt] | None], claim: Claim = claim) -> None:
                self._held.over(claim, done.result())
            self._pool.submit(self.deliver, claim).add_done_callback(sent)
        return len(claims)

    def _record_within_lease(self, over: list[tuple[Claim, list[Attempt] | None]]) -> None:
        """The sends happened; if the database is away, wait for it rather than drop their outcome (which
        would send them all again) — but only while a claim lasts: after the lease another worker
        may take the rows, and the fence would discard this record anyway."""
        lease_ends = max(claim.lease_ends for claim, _ in over)
        failures = 0
        while True:
            try:
                self.record(over)
                return
            except _DATABASE_ERRORS as exc:
                failures += 1
                wait = backoff(failures)
                if self.stop_event.is_set() or time.monotonic() + wait >= lease_ends:
                    raise
                _log_database_error(exc, f"recording {len(over)} deliveries again in {wait:.1f} s")
                self.stop_event.wait(wait)

    def deliver(self, claim: Claim) -> list[Attempt] | None:
        """Send every body the event renders to, in order; stop at the first failure. None: not sent —
        the worker is stopping, or the lease ran out before the send could start (the claim is released,
        if it is still this worker's)."""
        if self.stop_event.is_set() or time.monotonic() >= claim.lease_ends:
            return None
        row = claim.row
        with tracing.span("webhooks.send", links=[row.get("trace_context")],
                          attributes={"kalem.dialect": row["dialect"], "kalem.event_type": row["type"],
                                      "kalem.delivery_id": row["id"]}):
            try:
                return self._send_all(row)
            except Exception as exc:  # a bug must not leave the claim held for ever; recorded and retried
                log.exception("webhook send failed")
                return [_failed("send_failed", exc)]

    def _send_all(self, row: dict[str, Any]) -> list[Attempt]:
        unavailable = row.get("unopened")
        if unavailable is not None:  # the keys cannot open its credentials: nothing is sent, it is retried
            log.error("webhook delivery %s not sent: %s", row["id"], unavailable.message)
            return [_failed(unavailable.code, unavailable)]
        event = {"id": row["event_id"], "type": row["type"], "order_id": row["order_id"],
                 "order_number": row["order_number"], "seller_id": row["seller_id"], "channel": row["channel"],
                 "sequence": row["sequence"],
                 "occurred_at": row["occurred_at"].isoformat().replace("+00:00", "Z"), "actor": row["actor"],
                 "data": row["data"]}
        try:
            hooks = registry.render(self._dialects, row["dialect"], event)
        except Exception as exc:  # a renderer's bug must not stop the worker; it is recorded and retried
            log.exception("webhook payload rendering failed")
            return [_failed("render_failed", exc)]
        attempts = []
        for index, hook in enumerate(hooks):
            msg_id = row["event_id"] if len(hooks) == 1 else f"{row['event_id']}.{index}"
            attempt = self._sender.send(row, msg_id, hook.body, method=hook.method)
            attempts.append(attempt)
            if not attempt.ok:
                break
        return attempts

    def record(self, over: list[tuple[Claim, list[Attempt] | None]]) -> None:
        """Record the sends that are over: every attempt, and each outcome if its claim is still this
        worker's (the store's fence); a claim never sent is released."""
        now = datetime.now(UTC)
        rows = [claim.row for claim, _ in over]
        attempts: list[dict[str, Any]]
        outcomes, attempts, disable, release = [], [], [], []
        for row, tries in zip(rows, (tries for _, tries in over), strict=True):
            if tries is None:
                release.append({"id": row["id"], "fence": row["lease_until"], "now": now})
                continue
            attempts.extend({"delivery_id": row["id"], "attempted_at": a.attempted_at or now,
                             "status_code": a.status_code, "duration_ms": a.duration_ms,
                             "response_excerpt": a.response_excerpt, "error": a.error} for a in tries)
            last = tries[-1] if tries else None
            outcome = {"id": row["id"], "fence": row["lease_until"], "code": last.status_code if last else None,
                       "error": last.error if last else None, "next": now, "delivered": None}
            if last is None:  # the dialect has no body for this event: nothing was sent
                outcome.update(status=_after(DeliveryStep.SKIP),
                               error=f"the {row['dialect']} dialect sends nothing for {row['type']}")
            elif last.ok:
                outcome.update(status=_after(DeliveryStep.SUCCEED), delivered=now)
            elif last.status_code == 410:  # the receiver says the endpoint is gone for good
                outcome.update(status=_after(DeliveryStep.GIVE_UP), error="410 Gone: subscription disabled")
                disable.append(row["subscription_id"])
            elif self.config.retry.exhausted(row["attempts"]):
                outcome.update(status=_after(DeliveryStep.GIVE_UP))
            else:
                wait = self.config.retry.delay(row["attempts"], last.retry_after)
                outcome.update(status=_after(DeliveryStep.RETRY), next=now + timedelta(seconds=wait))
            outcomes.append(outcome)
        with tracing.span("webhooks.record", links=[row.get("trace_context") for row in rows]), self._uow() as uow:
            uow.webhooks.finish(outcomes, attempts)
            uow.webhooks.release(release)
            for sub_id in set(disable):
                uow.webhooks.disable(sub_id, "the receiver answered 410 Gone")
            uow.commit()
        _count(rows, [tries for _, tries in over], outcomes)


def _failed(code: str, exc: Exception) -> Attempt:
    return Attempt(None, 0, None, f"{code}: {type(exc).__name__}: {exc}"[:500], attempted_at=datetime.now(UTC))


def _count(rows: list[dict[str, Any]], results: list[list[Attempt] | None], outcomes: list[dict[str, Any]]) -> None:
    """Delivery metrics, once the outcomes are recorded."""
    dialects = {row["id"]: row["dialect"] for row in rows}
    for row, tries in zip(rows, results, strict=True):
        for attempt in tries or ():
            metrics.DELIVERY_ATTEMPT_LATENCY.labels(row["dialect"]).observe(attempt.duration_ms / 1000)
    for outcome in outcomes:
        metrics.DELIVERIES.labels(dialects[outcome["id"]], outcome["status"]).inc()
