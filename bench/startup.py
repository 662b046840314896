"""Start-up of `kalem worker` and `kalem import`: wall and CPU seconds from starting the process to its
first piece of work, on SQLite (what is measured is Python start-up, not the database), median of `--runs`.

- worker: a database holding due deliveries (the demo's, subscribed to a receiver in this process);
  from spawning `kalem worker` to the receiver's first request, and the worker's CPU seconds by then.
- import: `kalem import FILE --no-progress` of a one-order file into a fresh database, the whole
  process (start-up, one batch, exit), and its CPU seconds (with its workers' for `--jobs 2`).
- `kalem worker --help`: the CLI alone (each command imports what it runs inside its body).

    .venv/bin/python bench/startup.py --runs 5
"""

from __future__ import annotations

import argparse
import http.server
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import proc  # noqa: E402
from ingest import order_line  # noqa: E402


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Answers every webhook 200 and notes when the first one arrived."""
    first: threading.Event = threading.Event()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()
        type(self).first.set()

    def log_message(self, *args: object) -> None:
        pass


def _kalem(*args: str, env: dict[str, str], cwd: Path) -> None:
    subprocess.run([str(common.BIN / "kalem"), *args], env=env, cwd=cwd, check=True, capture_output=True)


def worker_runs(runs: int, workdir: Path) -> list[tuple[float, float]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    template = workdir / "worker.db"
    env = {**os.environ, "KALEM_DATABASE_URL": f"sqlite:///{template}", "KALEM_WEBHOOK_ALLOW_PRIVATE_URLS": "true"}
    _kalem("db", "upgrade", env=env, cwd=workdir)   # the demo keeps its tokens in ./var: the workdir's
    _kalem("demo", "--orders", "1", "--receiver-url", f"http://127.0.0.1:{server.server_port}/hooks", env=env,
           cwd=workdir)
    results = []
    for _ in range(runs):
        db = workdir / "run.db"
        shutil.copy(template, db)
        _Receiver.first.clear()
        started = time.monotonic()
        worker = subprocess.Popen([str(common.BIN / "kalem"), "worker"], env={**env, "KALEM_DATABASE_URL": f"sqlite:///{db}"},
                                  cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not _Receiver.first.wait(60):
                raise RuntimeError("kalem worker delivered nothing within 60 s")
            results.append((time.monotonic() - started, proc.tree_cpu(worker.pid)))
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
    server.shutdown()
    return results


def import_runs(runs: int, jobs: int, workdir: Path) -> list[tuple[float, float]]:
    template, orders = workdir / "import.db", workdir / "one.jsonl"
    orders.write_text(order_line(0))
    if not template.exists():
        _kalem("db", "upgrade", env={**os.environ, "KALEM_DATABASE_URL": f"sqlite:///{template}"}, cwd=workdir)
    results = []
    for _ in range(runs):
        db = workdir / "run.db"
        shutil.copy(template, db)
        results.append(_timed("import", str(orders), "--no-progress", "--jobs", str(jobs), "--new-seller",
                              env={**os.environ, "KALEM_DATABASE_URL": f"sqlite:///{db}"}))
    return results


def _timed(*args: str, env: dict[str, str]) -> tuple[float, float]:
    """A kalem command to its end: its wall seconds, and its CPU seconds with its workers' (waited for by it)."""
    started = time.monotonic()
    process = subprocess.Popen([str(common.BIN / "kalem"), *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"kalem {' '.join(args)} failed")
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime


def _median(name: str, results: list[tuple[float, float]]) -> None:
    wall, cpu = (statistics.median(r[i] for r in results) for i in (0, 1))
    runs = ", ".join(f"{w:.2f}/{c:.2f}" for w, c in results)
    print(f"{name:<24} median {wall:.2f} s wall, {cpu:.2f} s CPU   (wall/CPU per run: {runs})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory(prefix="kalem-startup-") as tmp:
        workdir = Path(tmp)
        _median("kalem worker --help", [_timed("worker", "--help", env=dict(os.environ)) for _ in range(args.runs)])
        _median("kalem worker", worker_runs(args.runs, workdir))
        _median("kalem import --jobs 1", import_runs(args.runs, 1, workdir))
        _median("kalem import --jobs 2", import_runs(args.runs, 2, workdir))


if __name__ == "__main__":
    main(sys.argv[1:])
