"""The PostgreSQL primary dies (`kill -9`) under load and its synchronous standby is promoted; kalem,
given both hosts and `target_session_attrs=read-write`, moves to the new primary without a restart.

Two PostgreSQL servers of the test's own: a primary, and a standby streaming from it
(`pg_basebackup -R`) that the primary waits for on every commit (`synchronous_standby_names`), so an
acknowledged write is on both. Two API processes and a webhook worker, a receiver subscribed to every
event, and the outage test's clients (native intake and cancels, the Hebiar face, GraphQL reads, all
writes with an Idempotency-Key). Then, as for a database outage: every answer was a 2xx or the clear
503 with `Retry-After` — never a 500, never a hang; every acknowledged write is on the new primary
exactly once; the ledgers and event sequences hold; no key is left claimed; the outbox drains.
The time from the kill to the first acknowledged write is printed (docs/operations.md records it).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from kalem.devtools.postgres import ThrowawayPostgres
from tests.reliability.test_database_outage import (
    ADMIN,
    CLIENTS,
    DURING,
    KINDS,
    PHASE_DEADLINE,
    RECOVERY_DEADLINE,
    Run,
    Stack,
    _acknowledged,
    _assert_everything_applied_once,
    _assert_the_outbox_drains,
    _code,
    _is_database_unavailable,
    _stop,
    finish_clients,
    start_clients,
    start_kalem,
    wait_until,
)
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.failover]

SMALL = {"shared_buffers": "32MB", "max_connections": "100"}


def multi_host_url(*servers: ThrowawayPostgres) -> str:
    hosts = "&".join(f"host=127.0.0.1:{pg.port}" for pg in servers)
    return f"postgresql+psycopg://kalem@/kalem?{hosts}&target_session_attrs=read-write"


def _sql(pg: ThrowawayPostgres, statement: str) -> list[tuple]:
    with psycopg.connect(host="127.0.0.1", port=pg.port, user="kalem", dbname="kalem", autocommit=True) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else []


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, ThrowawayPostgres, ThrowawayPostgres]]:
    logs = tmp_path_factory.mktemp("failover-logs")
    primary = ThrowawayPostgres(settings=SMALL).start()
    standby = ThrowawayPostgres(settings=SMALL)
    receiver = Receiver().start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        standby.start_standby(primary)
        # Every commit now waits until the standby has it (set after the base backup, so the promoted
        # standby does not wait for a standby of its own).
        _sql(primary, "ALTER SYSTEM SET synchronous_standby_names = '*'")
        _sql(primary, "SELECT pg_reload_conf()")
        wait_until(lambda: _sql(primary, "SELECT sync_state FROM pg_stat_replication") == [("sync",)], 30,
                   "the standby did not become synchronous")
        bases = start_kalem(multi_host_url(primary, standby), receiver, logs, processes)
        # After the switch the standby is the database: the final checks read it.
        yield Stack(standby, bases, processes[:2], processes[2], receiver, logs), primary, standby
    finally:
        for process in processes:
            _stop(process)
        receiver.stop()
        standby.close()
        primary.close()


def _first_write_after(base: str, started: float) -> float:
    """Seconds from `started` until a write is acknowledged (the caller retrying as the 503 invites)."""
    body = {"order_number": "probe-after-kill", "seller_id": "acme", "currency": "TRY",
            "lines": [{"line_id": "probe-after-kill-a", "sku": "P", "name": "P", "quantity": 1, "unit_price": "1.00"}]}
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}",
                                              "Idempotency-Key": "probe-after-kill"}, timeout=15) as api:
        while True:
            response = api.post("/v1/orders", json=body)
            if response.status_code == 201:
                return time.monotonic() - started
            assert response.status_code in (503, 409), response.text  # 409: the key's claim, until its lease ends
            assert time.monotonic() - started < RECOVERY_DEADLINE, "no write acknowledged after the promotion"
            time.sleep(0.05)


def test_failover_loses_nothing(cluster: tuple[Stack, ThrowawayPostgres, ThrowawayPostgres]) -> None:
    stack, primary, standby = cluster
    run = Run("failover")
    clients, threads = start_clients(stack, run)
    run.phase = "stopping"
    killed = time.monotonic()
    primary.kill()  # with the clients' requests in flight
    wait_until(lambda: _refuses(primary), 10, "the primary still accepts connections after kill -9")
    run.phase = "down"
    run.down.set()
    wait_until(lambda: all(run.count(c, "down") >= DURING for c in range(CLIENTS)) or run.failures,
               PHASE_DEADLINE, "the clients did not send their requests while no primary was up")
    run.phase = "restarting"
    promoting = time.monotonic()
    standby.promote()
    first_write = _first_write_after(stack.bases[0], killed)
    after_promotion = killed + first_write - promoting
    finish_clients(stack, run, threads, "did not find the new primary")
    print(f"kill -9 → first acknowledged write: {first_write:.2f} s (the clients' requests while no primary "
          f"was up included); pg_ctl promote → first acknowledged write: {after_promotion:.2f} s")

    outcomes = run.outcomes
    assert [o for o in outcomes if o.error] == [], "transport errors or client timeouts"
    assert [(o.op.kind, o.status, o.body) for o in outcomes if o.status is not None and o.status >= 500
            and not _is_database_unavailable(o)] == [], "a 5xx other than the clear 503"
    down = [o for o in outcomes if o.started == "down"]
    assert len(down) == CLIENTS * DURING
    assert [(o.op.kind, o.status, o.body) for o in down if not _is_database_unavailable(o)] == []
    assert {o.op.kind for o in down} == set(KINDS)
    assert [(o.op.kind, o.status, o.body) for o in outcomes if o.status is not None and o.status < 500
            and not _acknowledged(o) and _code(o) != "idempotency_key_in_use"] == []
    _assert_everything_applied_once(stack, "failover", clients)
    _assert_the_outbox_drains(stack)
    assert _sql(standby, "SELECT pg_is_in_recovery()") == [(False,)]
    for process in (*stack.servers, stack.worker):
        assert process.poll() is None, "a kalem process exited during the failover"
    for name in ("server0.log", "server1.log", "worker.log"):
        assert "Traceback" not in stack.log(name), stack.log(name)[-3000:]


def _refuses(pg: ThrowawayPostgres) -> bool:
    try:
        psycopg.connect(host="127.0.0.1", port=pg.port, user="kalem", dbname="kalem", connect_timeout=2).close()
    except psycopg.OperationalError:
        return True
    return False
