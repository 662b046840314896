"""A claim is a lease, and its `lease_until` the claim's token: a worker sends a delivery only while
its lease lasts, never claims again a delivery it still holds, and records an outcome only for the
claim it belongs to. On SQLite and PostgreSQL, against a real local receiver."""

from __future__ import annotations

import threading
import time
from typing import Any

from kalem.bootstrap.worker import build_worker
from kalem.webhooks.worker import Worker
from tests.support import order
from tests.webhooks.conftest import FAST, deliveries, subscribe

LEASE = 0.5


def leased(server: Any, **overrides: Any) -> Worker:
    return build_worker(server.settings, server.db, poll_seconds=0.02, lease_seconds=LEASE, timeout_seconds=10,
                        retry=FAST, **overrides)


def past_the_lease() -> None:
    time.sleep(LEASE * 1.5)


def test_a_claim_taken_over_records_its_attempt_but_not_its_outcome(api, receiver, server):
    """A sends (the receiver answers 500) and is slow to record; its lease runs out and B claims the
    delivery. A's record keeps the attempt it made, yet cannot mark B's claim failed; B's 200 counts."""
    receiver.plan = [500]
    subscribe(api, receiver.url)
    assert api.post("/v1/orders", json=order("4000000901")).status_code == 201
    a, b = leased(server), leased(server)
    try:
        [claim_a] = a.claim(10)
        sent_a = a.deliver(claim_a)
        assert [t.status_code for t in sent_a] == [500]
        past_the_lease()
        [claim_b] = b.claim(10)
        assert claim_b.row["id"] == claim_a.row["id"] and claim_b.row["attempts"] == 2
        a.record([(claim_a, sent_a)])
        [row] = deliveries(api)
        assert (row["status"], row["attempt_count"], row["last_status"]) == ("delivering", 2, None)
        b.record([(claim_b, b.deliver(claim_b))])
    finally:
        a.close()
        b.close()
    [row] = deliveries(api)
    assert (row["status"], row["attempt_count"], row["last_status"]) == ("delivered", 2, 200)
    attempts = api.get(f"/v1/webhook-deliveries/{row['id']}").json()["attempts"]
    assert sorted(t["status_code"] for t in attempts) == [200, 500]   # every request that went out
    assert [r.id for r in receiver.requests] == [claim_a.row["event_id"]] * 2


def test_a_claim_is_not_sent_once_its_lease_ran_out_and_is_released_while_still_ours(api, receiver, server):
    subscribe(api, receiver.url)
    assert api.post("/v1/orders", json=order("4000000902")).status_code == 201
    worker = leased(server)
    try:
        [claim] = worker.claim(10)
        past_the_lease()
        assert worker.deliver(claim) is None
        worker.record([(claim, None)])
    finally:
        worker.close()
    assert receiver.requests == []
    [row] = deliveries(api)
    assert (row["status"], row["attempt_count"]) == ("pending", 0)   # given back, its claim undone


def test_a_claim_given_back_after_a_failed_attempt_is_failed_again_with_that_attempt_kept(api, receiver, server):
    """A stopping worker releases a claim it never sent: the delivery goes back to the status it was
    claimed from (failed, its first attempt still counted), as the delivery table's release says."""
    receiver.plan = [500]
    subscribe(api, receiver.url)
    assert api.post("/v1/orders", json=order("4000000903")).status_code == 201
    worker = leased(server)
    try:
        [first] = worker.claim(10)
        worker.record([(first, worker.deliver(first))])
        assert [(d["status"], d["attempt_count"]) for d in deliveries(api)] == [("failed", 1)]
        deadline = time.monotonic() + 30
        while not (claims := worker.claim(10)):   # due again after the (fast) backoff
            assert time.monotonic() < deadline
            time.sleep(0.02)
        [second] = claims
        assert second.row["attempts"] == 2
        worker.stop_event.set()
        assert worker.deliver(second) is None
        worker.record([(second, None)])
    finally:
        worker.close()
    [row] = deliveries(api)
    assert (row["status"], row["attempt_count"]) == ("failed", 1)
    assert len(receiver.requests) == 1


def test_a_worker_alone_never_sends_a_delivery_twice_when_its_lease_runs_out_mid_send(api, receiver, server):
    """The receiver holds the first request past the lease. The worker, still holding that claim, does
    not claim the delivery again (it would send it a second time beside the first); the other
    deliveries go on meanwhile, and the held one is recorded once answered — nobody took it over."""
    receiver.hold = threading.Event()
    subscribe(api, receiver.url)
    for n in range(3):
        assert api.post("/v1/orders", json=order(f"40000009{10 + n}")).status_code == 201
    worker = leased(server, concurrency=2, batch=10)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert receiver.first_arrived.wait(30)
        deadline = time.monotonic() + 30
        while len(receiver.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(LEASE * 3)   # leases run out while the first request is held; nothing may be sent again
        receiver.hold.set()
        while {d["status"] for d in deliveries(api)} != {"delivered"}:
            assert time.monotonic() < deadline, deliveries(api)
            time.sleep(0.02)
    finally:
        receiver.hold.set()
        worker.stop()
        thread.join(30)
        worker.close()
    ids = [r.id for r in receiver.requests]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert receiver.max_in_flight_same_id == 1
