"""Real processes: metrics across `kalem serve --workers 2` and from `kalem worker --metrics-port`, and
both stopping on SIGTERM under load — new work refused, work in flight answered or released, within
the 10 s process managers give before SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import threading
import time

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.processes import ADMIN, environment, fresh_database, serve, spawn, wait_until
from tests.ports import server_port
from tests.support import order
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {ADMIN}"}
STOP_DEADLINE = 10  # seconds from SIGTERM to exit: what a process manager gives before SIGKILL


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_add_up_across_api_processes(postgres, tmp_path):
    env = environment(fresh_database(postgres))
    with serve(env, tmp_path / "serve.log", "--workers", "2") as (base, _):
        for _ in range(40):  # a connection each, so both processes take some
            with httpx.Client(base_url=base, headers=AUTH) as client:
                assert client.get("/v1/reasons").status_code == 200
        key = ("kalem_http_requests_total", (("face", "native"), ("method", "GET"), ("route", "/v1/reasons"),
                                             ("status", "200")))
        for _ in range(6):  # whichever process answers the scrape reports every process's requests
            with httpx.Client(base_url=base, headers=AUTH) as client:
                assert samples(client.get("/metrics").text)[key] == 40


def test_worker_serves_its_metrics(postgres, tmp_path):
    env = environment(fresh_database(postgres), KALEM_WEBHOOK_POLL_SECONDS="0.05")
    receiver = Receiver().start()
    port = server_port()
    worker = spawn(["worker", "--metrics-port", str(port)], env, tmp_path / "worker.log")
    try:
        with serve(env, tmp_path / "serve.log") as (base, _), httpx.Client(base_url=base, headers=AUTH) as api:
            assert api.post("/v1/webhook-subscriptions", json={"url": receiver.url, "event_types": ["*"],
                                                               "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
                            ).status_code == 201
            for n in range(3):  # the first creates the seller: the database is new
                assert api.post("/v1/orders", json=order(f"47000000{n:02d}", create_seller=n == 0)
                                ).status_code == 201
            wait_until(lambda: len(receiver.requests) >= 3, 30, "the worker did not deliver")
            key = ("kalem_webhook_deliveries_total", (("dialect", "native"), ("outcome", "delivered")))
            wait_until(lambda: samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text).get(key) == 3, 30,
                       "the worker's metrics did not count 3 deliveries")
            scraped = samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
            assert scraped[("kalem_webhook_attempt_duration_seconds_count", (("dialect", "native"),))] == 3
    finally:
        worker.kill()
        worker.wait(10)
        receiver.stop()


def test_serve_stops_on_sigterm_under_load(postgres, tmp_path):
    """Clients keep writing (each on a new connection, with an Idempotency-Key) while SIGTERM arrives."""
    env = environment(fresh_database(postgres))
    results: list[tuple[str, int | None, str | None]] = []  # (order number, status, transport error)
    stop_clients = threading.Event()
    with serve(env, tmp_path / "serve.log", "--workers", "2") as (base, process):

        def client(n: int) -> None:
            for i in range(10_000):
                if stop_clients.is_set():
                    return
                number = f"48{i:05d}{n}"  # the last six digits name the line: unique too
                try:
                    # Whichever order comes first creates the seller: the database is new.
                    response = httpx.post(f"{base}/v1/orders", json=order(number, create_seller=True), timeout=15,
                                          headers={**AUTH, "Idempotency-Key": number, "Connection": "close"})
                    results.append((number, response.status_code, None))
                except httpx.HTTPError as exc:
                    results.append((number, None, type(exc).__name__))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(results) >= 40, 60, "the load did not start")
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        try:
            process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"kalem serve still running {STOP_DEADLINE} s after SIGTERM")
        stopped_after = time.monotonic() - signalled
        wait_until(lambda: any(error for _, _, error in results[-4:]), 30, "clients never saw the server gone")
        stop_clients.set()
        for thread in threads:
            thread.join(30)
    answered = {number for number, status, _ in results if status is not None}
    assert {status for _, status, _ in results if status is not None} == {201}, "every answer a success"
    engine = sa.create_engine(env["KALEM_DATABASE_URL"], poolclass=sa.NullPool)
    with engine.connect() as conn:
        stored = [row.order_number for row in conn.execute(sa.text("SELECT order_number FROM orders"))]
        claimed = conn.execute(sa.text("SELECT count(*) FROM idempotency_keys WHERE state <> 'done'")).scalar_one()
    engine.dispose()
    assert len(stored) == len(set(stored))
    # What was applied was answered (in flight when SIGTERM came: finished and answered); what got no
    # answer was refused, never applied.
    assert set(stored) == answered
    assert claimed == 0
    print(f"kalem serve exited {stopped_after:.2f} s after SIGTERM; {len(answered)} orders acknowledged")


def test_worker_stops_on_sigterm_with_deliveries_queued(postgres, tmp_path):
    """Thousands queued, a slow receiver; SIGTERM mid-stream. The worker exits in time, leaves nothing
    claimed, and what it sent is recorded; a second worker then delivers the rest."""
    env = environment(fresh_database(postgres), KALEM_WEBHOOK_POLL_SECONDS="0.05",
                      KALEM_WEBHOOK_TIMEOUT_SECONDS="5", KALEM_WEBHOOK_LEASE_SECONDS="60")
    receiver = Receiver().start()
    receiver.delay = 0.02
    subscriptions = 10
    with serve(env, tmp_path / "serve.log") as (base, _), httpx.Client(base_url=base, headers=AUTH) as api:
        for n in range(subscriptions):
            assert api.post("/v1/webhook-subscriptions", json={
                "url": f"{receiver.url}/s{n}", "event_types": ["*"],
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}).status_code == 201
        for n in range(200):  # the first creates the seller: the database is new
            assert api.post("/v1/orders", json=order(f"49{n:08d}", create_seller=n == 0)).status_code == 201
    engine = sa.create_engine(env["KALEM_DATABASE_URL"], poolclass=sa.NullPool)

    def count(where: str) -> int:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM webhook_deliveries WHERE {where}")).scalar_one()

    total = count("true")
    assert total == 200 * subscriptions
    try:
        worker = spawn(["worker"], env, tmp_path / "worker.log")
        wait_until(lambda: count("status = 'delivered'") >= 200, 60, "the worker did not start delivering")
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            worker.kill()
            pytest.fail(f"kalem worker still running {STOP_DEADLINE} s after SIGTERM")
        assert worker.returncode == 0, (tmp_path / "worker.log").read_text()[-2000:]
        assert count("status = 'delivering'") == 0, "a claim left behind"
        delivered_then = count("status = 'delivered'")
        assert 0 < delivered_then < total
        received = {(r.path, r.id) for r in receiver.requests}
        with engine.connect() as conn:
            recorded = conn.execute(sa.text(
                "SELECT count(*) FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id "
                "WHERE d.status = 'delivered'")).scalar_one()
            released_with_attempts = conn.execute(sa.text(
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts <> 0")).scalar_one()
        assert recorded == delivered_then and released_with_attempts == 0
        assert len(received) >= delivered_then  # everything recorded delivered did arrive
        second = spawn(["worker"], env, tmp_path / "worker2.log")
        try:
            wait_until(lambda: count("status <> 'delivered'") == 0, 120, "the second worker did not drain")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(STOP_DEADLINE)
        assert len({(r.path, r.id) for r in receiver.requests}) == total
    finally:
        engine.dispose()
        receiver.stop()
