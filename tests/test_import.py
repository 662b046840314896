"""`kalem import FILE`, run as a real process against both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import sqlalchemy as sa

from tests.support import two_line_order


def kalem_import(path, server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KALEM_DATABASE_URL": server.settings.database_url}
    return subprocess.run([sys.executable, "-m", "kalem.cli", "import", str(path), *args], env=env,
                          capture_output=True, text=True, timeout=300)


def counts(db) -> tuple[int, int, int]:
    with db.engine.connect() as conn:
        return tuple(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                     for t in ("orders", "order_lines", "events"))


def write(path, rows: list) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def test_import_takes_in_reports_refusals_by_line_and_resumes(tmp_path, server, db, api):
    orders = [two_line_order(f"IM-{i:04d}", seller=f"seller{i % 3}") for i in range(1200)]
    half = tmp_path / "half.jsonl"
    write(half, orders[:700])
    first = kalem_import(half, server, "--batch", "250", "--new-seller")
    assert first.returncode == 0, first.stderr
    assert "700 orders read" in first.stdout and "700 taken in, 0 already there, 0 refused" in first.stdout
    assert counts(db) == (700, 1400, 700)

    changed = {**orders[5], "shipping_amount": "9.99"}     # a stored number with another body
    full = tmp_path / "full.jsonl"
    write(full, [*orders[:5], changed, *orders[6:1000], "{not json", "",
                 {**two_line_order("IM-X"), "lines": []},                 # refused by the wire schema
                 {**two_line_order("IM-Y", seller="seller2"), "lines": orders[800]["lines"]},  # IM-0800's line ids
                 *orders[1000:]])
    again = kalem_import(full, server, "--no-progress")
    assert again.returncode == 1, again.stderr
    assert "1,203 orders read" in again.stdout
    assert "500 taken in, 699 already there, 4 refused" in again.stdout, again.stdout
    refused = [line for line in again.stdout.splitlines() if line.startswith("line ")]
    assert refused == [
        "line 6: order_already_exists: order IM-0005 exists with a different body",
        "line 1001: malformed_json: not a JSON order: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        "line 1003: invalid_request: lines: List should have at least 1 item after validation, not 0",
        "line 1004: line_id_in_use: line id IM-0800-a belongs to another order of this seller",
    ]
    assert counts(db) == (1200, 2400, 1200)   # every order with both its lines and its event, or nothing
    assert api.get("/v1/orders/IM-0005").json()["shipping_amount"] == "0"
    stored = api.get("/v1/orders/IM-1100")
    assert stored.status_code == 200 and stored.json()["seller_id"] == "seller2"
    assert [e["type"] for e in api.get("/v1/orders/IM-1100/events").json()["data"]] == ["order.placed"]


def test_import_of_a_missing_file_changes_nothing(tmp_path, server, db):
    gone = kalem_import(tmp_path / "absent.jsonl", server)
    assert gone.returncode == 2 and "does not exist" in gone.stderr
    assert counts(db) == (0, 0, 0)


def test_import_in_worker_processes_judges_as_one_process_does(tmp_path, server, db):
    orders = [two_line_order(f"JB-{i:04d}", seller=f"seller{i % 3}") for i in range(600)]
    first = tmp_path / "first.jsonl"
    write(first, orders[:300])
    assert kalem_import(first, server, "--batch", "50", "--jobs", "2", "--new-seller").returncode == 0
    assert counts(db) == (300, 600, 300)

    changed = {**orders[5], "shipping_amount": "9.99"}
    full = tmp_path / "full.jsonl"
    # Batches commit in any order: the repeated JB-0550 (another batch) is taken in once, either way.
    write(full, [*orders[:5], changed, *orders[6:400], "{not json", *orders[400:], orders[550]])
    run = kalem_import(full, server, "--batch", "50", "--jobs", "2", "--no-progress")
    assert run.returncode == 1, run.stderr
    assert "602 orders read" in run.stdout and "300 taken in, 300 already there, 2 refused" in run.stdout, run.stdout
    assert [line for line in run.stdout.splitlines() if line.startswith("line ")] == [
        "line 6: order_already_exists: order JB-0005 exists with a different body",
        "line 401: malformed_json: not a JSON order: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    ]
    assert counts(db) == (600, 1200, 600)
