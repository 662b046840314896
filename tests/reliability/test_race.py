"""20 concurrent clients over real HTTP against `kalem serve --workers 2` on PostgreSQL, all
cancelling the same line: accepted quantities never exceed the line, and the events match."""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.ports import server_port
from tests.reliability.crash_cluster import KALEM, Proc
from tests.support import SEED_ORDER, order

ADMIN = "race-admin-token"


@pytest.fixture
def two_process_server(postgres: str, tmp_path: Path) -> Iterator[Proc]:
    name = "race_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = postgres.rsplit("/", 1)[0] + "/" + name
    env = {**os.environ, "KALEM_DATABASE_URL": url, "KALEM_ADMIN_TOKEN": ADMIN,
           "KALEM_SECRET_KEY": "race-secret-key-of-at-least-32-bytes", "KALEM_RATE_LIMIT_PER_SECOND": "0"}
    subprocess.run([*KALEM, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = server_port()
    # Logs to a file and a process group of its own (Proc): a server slow to start fails the test with
    # its log, and no API process outlives it.
    server = Proc("race-server", [*KALEM, "serve", "--port", str(port), "--workers", "2"], env, tmp_path, port)
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def _order_of_30_units(base: str, number: str, line_id: str) -> None:
    """An order of one 30-unit line (a new database: the order creates its seller)."""
    line = {**SEED_ORDER["lines"][0], "line_id": line_id, "quantity": 30}
    with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
        assert client.post("/v1/orders", json=order(number, lines=[line], packages=[], create_seller=True)
                           ).status_code == 201


def _twenty_at_once(base: str, work: Callable[[random.Random, httpx.Client], None]) -> None:
    """`work` by twenty clients, each its own connection and seed, let go at the same moment."""
    start = threading.Barrier(20)

    def client(seed: int) -> None:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
            start.wait()
            work(random.Random(seed), http)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_twenty_clients_never_cancel_more_than_the_line(two_process_server: Proc) -> None:
    base = two_process_server.url
    _order_of_30_units(base, "RACE-1", "race-line")
    accepted: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()

    def work(rng: random.Random, client: httpx.Client) -> None:
        for _ in range(5):
            qty = rng.randint(1, 3)
            response = client.post("/v1/orders/RACE-1/cancellations",
                                   json={"lines": [{"line_id": "race-line", "quantity": qty, "reason_id": 136}]})
            assert response.status_code in (200, 409), response.text
            with lock:
                (accepted if response.status_code == 200 else refused).append(qty)

    _twenty_at_once(base, work)
    assert len(accepted) + len(refused) == 100
    assert sum(accepted) <= 30
    with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
        final = client.get("/v1/orders/RACE-1").json()
        events = client.get("/v1/orders/RACE-1/events").json()["data"]
    assert final["lines"][0]["cancelled_quantity"] == sum(accepted)
    cancelled_events = [e for e in events if e["type"] == "lines.cancelled"]
    assert sorted(e["data"]["items"][0]["quantity"] for e in cancelled_events) == sorted(accepted)
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    # 100 requests for up to 300 units against 30: the line is used up
    assert sum(accepted) > 30 - 3


def test_twenty_clients_sending_the_same_keys_apply_each_key_once(two_process_server: Proc) -> None:
    """Each `Idempotency-Key` sent by several clients at once: on PostgreSQL's event loop the key is
    stored by the cancel's own statement, so one of them cancels and every other answers its bytes."""
    base = two_process_server.url
    _order_of_30_units(base, "RACE-2", "race-keyed")
    keys = [f"race-key-{k}" for k in range(10)]
    answers: dict[str, list[tuple[int, bytes, bool]]] = {key: [] for key in keys}
    lock = threading.Lock()

    def work(rng: random.Random, client: httpx.Client) -> None:
        for key in rng.sample(keys, 5):
            response = client.post("/v1/orders/RACE-2/cancellations", headers={"Idempotency-Key": key},
                                   json={"lines": [{"line_id": "race-keyed", "quantity": 1, "reason_id": 136}]})
            with lock:
                answers[key].append((response.status_code, response.content,
                                     response.headers.get("Idempotent-Replayed") == "true"))

    _twenty_at_once(base, work)
    used = {key: got for key, got in answers.items() if got}
    assert sum(len(got) for got in used.values()) == 100
    for key, got in used.items():
        assert {status for status, _, _ in got} == {200}, key
        assert len({body for _, body, _ in got}) == 1, key   # every answer the first's bytes
        assert [replayed for _, _, replayed in got].count(False) == 1, key   # the one that cancelled
    with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
        final = client.get("/v1/orders/RACE-2").json()
        events = client.get("/v1/orders/RACE-2/events").json()["data"]
    assert final["lines"][0]["cancelled_quantity"] == len(used)
    assert [e["type"] for e in events].count("lines.cancelled") == len(used)


def group_members(group: int) -> set[int]:
    """The live processes of a process group (/proc/PID/stat's fifth field)."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                members.add(int(stat.parent.name))
    return members


def test_a_killed_server_leaves_none_of_its_api_processes_behind(two_process_server: Proc) -> None:
    assert two_process_server.process is not None
    group = two_process_server.process.pid
    assert len(group_members(group)) >= 3   # uvicorn's supervisor and its two API processes
    two_process_server.kill9()
    deadline = time.monotonic() + 30   # SIGKILL is delivered at once, the exits follow when scheduled
    while group_members(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group_members(group) == set()


def test_a_server_that_never_answers_fails_with_its_log_and_is_stopped(tmp_path: Path) -> None:
    program = "print('still importing', flush=True); import time; time.sleep(600)"
    silent = Proc("silent", [sys.executable, "-c", program], dict(os.environ), tmp_path, server_port())
    silent.start()
    try:
        with pytest.raises(AssertionError, match=r"silent not healthy after 1 s: (?s:.*)still importing"):
            silent.wait_ready(seconds=1)
    finally:
        silent.stop()
    assert not silent.alive()
