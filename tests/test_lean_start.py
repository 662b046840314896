"""`kalem worker` and `kalem import` load no web framework: the API's (FastAPI, Strawberry, GraphQL,
Jinja2, uvicorn, kalem's HTTP edge and hub) costs seconds of CPU at start-up, paid by every worker
process and every import run. Each command runs for real, on both databases, under
`python -X importtime`, which lists on stderr every module the process imports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from tests.support import two_line_order
from tests.test_import import counts, write

#: What only `kalem serve` needs. Starlette is not among them for the worker: asgi-correlation-id,
#: whose filter puts the request id in every log line, imports its data structures.
SERVE_ONLY = ("fastapi", "strawberry", "graphql", "jinja2", "uvicorn", "kalem.api", "kalem.hub",
              "kalem.bootstrap.api")


def traced(*args: str, server) -> subprocess.Popen[str]:
    env = {**os.environ, "KALEM_DATABASE_URL": server.settings.database_url}
    return subprocess.Popen([sys.executable, "-X", "importtime", "-m", "kalem.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def among(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_the_worker_starts_without_the_web_app(server):
    worker = traced("worker", server=server)
    killer = threading.Timer(120, worker.kill)   # a worker that never says it started fails, not hangs
    killer.start()
    lines = []
    try:
        for line in worker.stderr:   # up to the line it logs once its delivery loop runs
            lines.append(line)
            if "worker delivering webhooks" in line:
                break
        worker.send_signal(signal.SIGTERM)
        rest = worker.communicate(timeout=60)[1]
    finally:
        killer.cancel()
    log = "".join(lines) + rest
    assert worker.returncode == 0 and "kalem worker stopped" in log, log[-3000:]
    modules = imported(log)
    assert {"kalem.webhooks.worker", "kalem.platforms.zonos.hooks"} <= modules
    assert among(modules, SERVE_ONLY) == []


def test_import_takes_orders_in_without_the_web_app(tmp_path, server, db):
    path = tmp_path / "orders.jsonl"
    write(path, [two_line_order("LEAN-1"), two_line_order("LEAN-2")])
    stdout, stderr = traced("import", str(path), "--no-progress", server=server).communicate(timeout=300)
    assert "2 taken in, 0 already there, 0 refused" in stdout, stdout + stderr[-3000:]
    assert counts(db) == (2, 4, 2)
    modules = imported(stderr)
    assert {"kalem.importer", "kalem.api.order_spec"} <= modules
    # The native order body's schema is the importer's (kalem.api.schemas): the framework is not.
    assert among(modules, ("starlette", *SERVE_ONLY)) == ["kalem.api", "kalem.api.error_bodies",
                                                          "kalem.api.examples", "kalem.api.order_spec",
                                                          "kalem.api.schemas"]
