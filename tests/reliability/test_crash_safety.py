"""Crash safety on PostgreSQL: two `kalem serve` processes and two `kalem worker` processes under a
seeded, bounded load of cancels, cancel requests and decisions, splits (with and without a cancel),
cancel-with-refund, refunds and settlements, while a chaos thread SIGKILLs one of them at seeded
points and starts it again. Clients fail over like real ones (same Idempotency-Key, other process).

Afterwards: every acknowledged request replays its stored answer and its effect is in the database;
every change has its stored answer and the reverse (nothing half-applied); every order's ledger,
cancellations, requests, refunds, packages and event sequence agree; the outbox is drained and the
receiver got every event; no 5xx but 503.
"""

from __future__ import annotations

import random
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from kalem.store.db import Database
from tests.reliability import crash_checks as checks
from tests.reliability.crash_cluster import ADMIN, KALEM, FailoverClient, Proc, Sent, Tally, cluster_env, make_cluster
from tests.reliability.crash_load import Chaos, LoadClient, Progress, order_body, plan_chaos
from tests.webhooks.conftest import subscribe
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

SEED = 20240807
CLIENTS = 6
OPS_PER_CLIENT = 96           # 576 operations in all
OWN_ORDERS = 4                # per client, plus SHARED orders every client touches
SHARED = 3
KILLS = 10
SLACK = 30                    # how far clients may run past a kill point before waiting for the kill
LOAD_DEADLINE = 300.0         # deadlines against hangs, far beyond what a run takes
DRAIN_DEADLINE = 90.0


@pytest.fixture
def database_url(postgres: str) -> Iterator[str]:
    """A fresh database in the session's PostgreSQL, dropped afterwards."""
    name = "crash_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield postgres.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def cluster(database_url: str, tmp_path: Path) -> Iterator[dict[str, Proc]]:
    """api0, api1 (`kalem serve`, one process each) and worker0, worker1 (`kalem worker`), started."""
    subprocess.run([*KALEM, "db", "upgrade"], env=cluster_env(database_url), check=True, capture_output=True)
    procs = make_cluster(database_url, tmp_path)
    try:
        for proc in procs.values():
            proc.start()
        for proc in procs.values():
            proc.wait_ready()
        yield procs
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    r.delay = 0.03  # slow enough that a killed worker is often caught mid-send
    yield r
    r.stop()


#: 409s clients sharing orders may meet.
RACE_CODES = {"quantity_exceeds_cancellable", "units_not_refundable",
              "package_not_splittable", "split_exceeds_package", "cancel_request_already_decided",
              "refund_already_settled", "idempotency_key_in_use"}


def replay_problems(apis: list[str], acked: list[Sent]) -> list[str]:
    """Re-send every acknowledged request with its key (4 threads, both processes): each must get
    its stored answer back, marked as a replay."""
    def replay(batch: list[Sent]) -> list[str]:
        found = []
        with httpx.Client(headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60) as client:
            for n, s in enumerate(batch):
                r = client.post(apis[n % 2] + s.path, json=s.body, headers={"Idempotency-Key": s.key})
                replayed = r.headers.get("Idempotent-Replayed") == "true"
                if (r.status_code, r.json()) != (s.status, s.response) or not replayed:
                    found.append(f"{s.key}: replayed {r.status_code} {r.text[:200]}")
        return found

    with ThreadPoolExecutor(4) as pool:
        return [p for found in pool.map(replay, [acked[i::4] for i in range(4)]) for p in found]


def wait_until(condition: Callable[[], bool], deadline_seconds: float, what: Callable[[], str]) -> None:
    """Poll until `condition()` holds; a deadline against hangs, not a timing assertion."""
    deadline = time.monotonic() + deadline_seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what()} (after {deadline_seconds:.0f} s)")
        time.sleep(0.2)


def run_load_under_chaos(cluster: dict[str, Proc], apis: list[str], numbers: list[str], tally: Tally,
                         sent_log: list[Sent], busy: Callable[[Proc], bool]) -> tuple[Chaos, list[LoadClient]]:
    """CLIENTS threads, OPS_PER_CLIENT operations each, each on its own orders and the SHARED ones,
    while the chaos thread makes its KILLS; returns when both are done (or fails)."""
    shared = numbers[-SHARED:]
    progress = Progress()
    thresholds, targets = plan_chaos(random.Random(SEED), CLIENTS * OPS_PER_CLIENT, KILLS)
    chaos = Chaos(cluster, progress, thresholds, targets, random.Random(SEED + 1), SLACK, busy)
    clients = [FailoverClient(apis, tally, first=i) for i in range(CLIENTS)]
    threads = [LoadClient(i, SEED + 10 + i, clients[i], numbers[i * OWN_ORDERS:(i + 1) * OWN_ORDERS], shared,
                          OPS_PER_CLIENT, progress, chaos, sent_log.append) for i in range(CLIENTS)]
    chaos.start()
    for t in threads:
        t.start()
    deadline = time.monotonic() + LOAD_DEADLINE
    for t in [*threads, chaos]:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    for c in clients:
        c.close()
    assert not any(t.is_alive() for t in [*threads, chaos]), f"the load or the chaos hung ({LOAD_DEADLINE:.0f} s)"
    for t in threads:
        assert t.error is None, f"{t.name}: {t.error!r}"
    assert chaos.error is None, f"chaos: {chaos.error!r}"
    assert chaos.kills_done == KILLS and len(chaos.kill_log) == KILLS, chaos.kill_log
    return chaos, threads


def test_kill_9_under_load_loses_nothing_and_half_applies_nothing(cluster: dict[str, Proc], database_url: str,
                                                                   receiver: Receiver,
                                                                   request: pytest.FixtureRequest):
    began = time.monotonic()
    apis = [cluster["api0"].url, cluster["api1"].url]
    with httpx.Client(base_url=apis[0], headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as admin:
        subscribe(admin, receiver.url)
    tally = Tally()
    sent_log: list[Sent] = []

    # Orders are placed before the chaos starts, through the same failover client (keys "place:…").
    numbers = [f"CR-{n:03d}" for n in range(CLIENTS * OWN_ORDERS + SHARED)]
    setup = FailoverClient(apis, tally)
    for number in numbers:
        placed = setup.post(Sent("place", f"place:{number}", "/v1/orders", order_body(number), number))
        assert placed.status == 201, placed
        sent_log.append(placed)
    setup.close()

    probe = Database.connect(database_url, pool_size=1)
    request.addfinalizer(probe.dispose)

    def busy(proc: Proc) -> bool:
        """An API process with POSTs in flight; a worker while deliveries are claimed (by it or the other)."""
        if proc.port is not None:
            return tally.posts_in_flight[proc.url] >= 2
        with probe.engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM webhook_deliveries "
                                        "WHERE status = 'delivering'")).scalar_one() > 0

    chaos, threads = run_load_under_chaos(cluster, apis, numbers, tally, sent_log, busy)
    load_done = time.monotonic()

    # Every process is back; the outbox drains.
    for proc in cluster.values():
        assert proc.alive(), f"{proc.name} is not running: {proc.tail()}"
    db = Database.connect(database_url, pool_size=2)
    request.addfinalizer(db.dispose)

    def count(sql: str) -> int:
        with db.engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar_one()

    def outbox() -> str:
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT status, count(*), max(attempts) FROM webhook_deliveries "
                                        "WHERE status <> 'delivered' GROUP BY status")).all()
        return f"the outbox is not drained: (status, rows, most attempts) {[tuple(r) for r in rows]}"

    wait_until(lambda: count("SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'") == 0,
               DRAIN_DEADLINE, outbox)
    world = checks.World(db)

    # No 5xx but 503 (connection errors are counted apart); no timeouts.
    assert tally.server_errors == [], tally.server_errors[:10]
    assert tally.timeouts == 0
    # Refusals are the races of clients sharing orders (409), never a key "reused" with another
    # body (a retry sends the very same one) nor a malformed request.
    assert set(tally.statuses) <= {200, 201, 409, 503}, tally.statuses
    assert set(tally.codes) <= RACE_CODES | {"database_unavailable"}, tally.codes

    acked = [s for s in sent_log if s.acknowledged]
    unacked = [s for s in sent_log if not s.acknowledged]
    problems = checks.request_problems(world, sent_log)
    problems += checks.reconciliation_problems(world)
    problems += checks.order_problems(world)
    problems += replay_problems(apis, acked)  # re-sent with their keys: the stored answers, nothing new
    assert count("SELECT count(*) FROM events") == len(world.events), "a replay changed something"
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])

    # Webhooks: one delivery per event, all delivered, the receiver got every event at least once.
    event_ids = {e["id"] for e in world.events}
    assert world.deliveries == Counter({"delivered": len(event_ids)}), world.deliveries
    missing = event_ids - receiver.seen
    assert not missing, f"{len(missing)} events never reached the receiver, e.g. {sorted(missing)[:5]}"
    first_body = {}
    for got in receiver.requests:
        first_body.setdefault(got.id, got.json())
    mismatched = [e["id"] for e in world.events
                  if (first_body[e["id"]]["type"], first_body[e["id"]]["sequence"]) != (e["type"], e["sequence"])]
    assert not mismatched, mismatched[:5]

    for proc in cluster.values():  # nothing went wrong inside a process either
        assert "Traceback" not in proc.tail(10**6), f"{proc.name}: {proc.tail()}"

    kinds = Counter(checks.kind_of(s.key) for s in acked)
    unanswered = [s for s in unacked if s.status is None]
    applied_unanswered = sum(1 for s in unanswered if world.done(s.key) is not None)
    # Applied by a process that died before answering: the retry got the stored answer.
    saved = sum(1 for s in acked if s.dropped and s.replayed)
    print(f"\ncrash-safety: {len(sent_log) - len(numbers)} operations sent, {len(acked) - len(numbers)} "
          f"acknowledged ({dict(sorted(kinds.items()))}), {len(unacked) - len(unanswered)} refused, "
          f"{len(unanswered)} never answered ({applied_unanswered} of them applied), "
          f"skipped {sum(t.skipped for t in threads)}; {saved} applied by "
          f"a killed process and answered by replay; kills {chaos.kill_log}, restarts took "
          f"{chaos.restart_seconds} s, clients waited {chaos.gated_seconds:.1f} s for kills; connections refused "
          f"{tally.refused}, dropped mid-request {tally.dropped}; statuses "
          f"{dict(sorted(tally.statuses.items()))}, error codes {dict(tally.codes.most_common())}; "
          f"events {len(event_ids)} delivered to the receiver in {len(receiver.requests)} requests; "
          f"load {load_done - began:.1f} s, total {time.monotonic() - began:.1f} s")
