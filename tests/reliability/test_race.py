"""20 concurrent clients over real HTTP against `kalem serve --workers 2` on PostgreSQL, all
cancelling the same line: accepted quantities never exceed the line, and the events match."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest
import sqlalchemy as sa

from kalem.devtools.postgres import free_port
from tests.support import SEED_ORDER, order

ADMIN = "race-admin-token"


@pytest.fixture
def two_process_server(postgres):
    name = "race_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = postgres.rsplit("/", 1)[0] + "/" + name
    env = {**os.environ, "KALEM_DATABASE_URL": url, "KALEM_ADMIN_TOKEN": ADMIN,
           "KALEM_SECRET_KEY": "race-secret-key-of-at-least-32-bytes", "KALEM_RATE_LIMIT_PER_SECOND": "0"}
    kalem = [sys.executable, "-m", "kalem.cli"]
    subprocess.run([*kalem, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([*kalem, "serve", "--port", str(port), "--workers", "2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("server did not start: " + process.stderr.read().decode()[-2000:])
    yield base
    process.terminate()
    process.wait(timeout=20)


def test_twenty_clients_never_cancel_more_than_the_line(two_process_server):
    line = {**SEED_ORDER["lines"][0], "line_id": "race-line", "quantity": 30}
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=two_process_server, headers=headers, timeout=30) as client:
        assert client.post("/v1/orders", json=order("RACE-1", lines=[line], packages=[])).status_code == 201
    accepted: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=two_process_server, headers=headers, timeout=30) as client:
            start.wait()
            for _ in range(5):
                qty = rng.randint(1, 3)
                response = client.post("/v1/orders/RACE-1/cancellations",
                                       json={"lines": [{"line_id": "race-line", "quantity": qty, "reason_id": 136}]})
                assert response.status_code in (200, 409), response.text
                with lock:
                    (accepted if response.status_code == 200 else refused).append(qty)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) + len(refused) == 100
    assert sum(accepted) <= 30
    with httpx.Client(base_url=two_process_server, headers=headers, timeout=30) as client:
        final = client.get("/v1/orders/RACE-1").json()
        events = client.get("/v1/orders/RACE-1/events").json()["data"]
    assert final["lines"][0]["cancelled_quantity"] == sum(accepted)
    cancelled_events = [e for e in events if e["type"] == "lines.cancelled"]
    assert sorted(e["data"]["items"][0]["quantity"] for e in cancelled_events) == sorted(accepted)
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    # 100 requests for up to 300 units against 30: the line is used up
    assert sum(accepted) > 30 - 3
