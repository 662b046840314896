"""/readyz and `kalem doctor`: the database, the migration head, the outbox lag."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from kalem.store.health import expected_heads
from kalem.store.migrate import upgrade
from tests.conftest import serving
from tests.ports import server_port
from tests.support import SEED_ORDER

LINE = "item1691416223190"


def kalem(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kalem.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_readyz_reports_migrations_and_outbox_lag(anon, api):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    assert api.post("/v1/webhook-subscriptions", json={
        "url": "http://127.0.0.1:9/hook", "event_types": ["*"], "dialect": "native",
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}).status_code == 201
    assert api.post("/v1/orders/4000000001/cancellations",
                    json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}).status_code == 200
    body = anon.get("/readyz").json()
    assert body["status"] == "ready" and body["database"] == "ok"
    assert body["migrations"] == {"current": sorted(expected_heads()), "expected": sorted(expected_heads()),
                                  "at_head": True}
    # The cancel's two events, each a delivery: lines.cancelled and the refund the default policy (on
    # decision) makes with it.
    events = api.get("/v1/orders/4000000001/events").json()["data"]
    assert [e["type"] for e in events][-2:] == ["lines.cancelled", "refund.created"]
    assert body["outbox"]["depth"] == 2 and body["outbox"]["dead"] == 0
    assert body["outbox"]["oldest_age_seconds"] >= 0


def test_a_schema_behind_the_code_is_not_ready(server, tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    upgrade(url, "0001")
    settings = server.settings.model_copy(update={"database_url": url})
    from kalem.store.db import Database
    db = Database.connect(url)
    try:
        with serving(settings, db) as base:
            response = httpx.get(f"{base}/readyz")
    finally:
        db.dispose()
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "migrations_pending"
    assert error["details"]["current"] == ["0001"] and error["details"]["expected"] == sorted(expected_heads())


def test_doctor_prints_the_same(tmp_path):
    env = {"KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    (tmp_path / "k.db").touch()  # an empty database: no schema yet
    behind = kalem("doctor", env=env)
    assert behind.returncode == 1 and "behind: run kalem db upgrade" in behind.stdout
    assert kalem("db", "upgrade", env=env).returncode == 0
    ready = kalem("doctor", env=env)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "reachable     yes" in ready.stdout and "at head" in ready.stdout
    assert "outbox        0 undelivered, oldest 0.0 s, 0 dead" in ready.stdout
    assert ready.stdout.rstrip().endswith("ready         yes")
    gone = kalem("doctor", env={"KALEM_DATABASE_URL": f"postgresql://kalem@127.0.0.1:{server_port()}/kalem"})
    assert gone.returncode == 1 and "reachable     no (OperationalError" in gone.stdout


def test_doctor_never_creates_a_database(tmp_path):
    elsewhere = tmp_path / "not-a-checkout"
    elsewhere.mkdir()
    # the default URL, relative to where doctor runs: var/kalem.db
    run = subprocess.run([sys.executable, "-m", "kalem.cli", "doctor"], cwd=elsewhere, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "KALEM_DATABASE_URL": "sqlite:///var/kalem.db"})
    assert run.returncode == 1
    assert f"reachable     no (no database file at {elsewhere / 'var' / 'kalem.db'}" in run.stdout
    assert list(elsewhere.iterdir()) == []   # no file, and no var/ either
