"""From a fresh clone to the first answer: `make run` in a new clone of this repository, timed until
`/healthz` answers, with when each step began. uv's cache is expected to hold the packages already
(run it twice on a new machine: the first run downloads them).

    .venv/bin/python bench/first_answer.py              # writes the "setup" section of docs/performance.md
    .venv/bin/python bench/first_answer.py --no-write
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path

import common

STEPS = (("create the venv and install uv", "venv --without-pip"), ("install the locked packages", "uv sync"),
         ("migrate the database", "kalem db upgrade"), ("load the demo", "demo credentials"),
         ("start receiver, worker and server", "receiver.*--port"))


def first_answer(clone: Path, port: int) -> tuple[float, list[tuple[str, float]]]:
    subprocess.run(["git", "clone", "-q", str(common.ROOT), str(clone)], check=True)
    env = {**os.environ, "KALEM_PORT": str(port), "KALEM_RECEIVER_PORT": str(common.free_port())}
    started = time.monotonic()
    make = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, process_group=0)
    seen: list[tuple[str, float]] = []

    def watch() -> None:  # note when each step's first line appears
        assert make.stdout is not None
        for line in make.stdout:
            for name, marker in STEPS:
                if name not in dict(seen) and re.search(marker, line):
                    seen.append((name, time.monotonic() - started))

    threading.Thread(target=watch, daemon=True).start()
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return time.monotonic() - started, list(seen)
            except OSError:
                assert make.poll() is None, "make run ended before answering"
                time.sleep(0.05)
    finally:
        os.killpg(make.pid, signal.SIGINT)
        make.wait(30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="fresh clone → make run → first answer")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        total, steps = first_answer(Path(tmp) / "kalem", common.free_port())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # make and everything it started, once they ended
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    m = common.machine()
    rows = "\n".join(f"| {name} | {at:.1f} s |" for name, at in steps)
    text = f"""## Setting up: fresh clone → first answer

`{common.command_line("first_answer.py", argv)}` — {date.today()}, {m['cpu']}, {m['nproc']} CPUs,
1-minute load average {load:.1f} when it started: `git clone`, then `make run` until `/healthz` answers,
with uv's cache already holding the packages.

| step | began after |
|---|---:|
{rows}
| **first answer** | **{total:.1f} s** |

CPU time of every process involved (clone, make, uv, kalem, worker, receiver; user + system): {cpu:.1f} s.
Everything after `uv sync` is Python starting up and importing (the first import of each package
also writes its bytecode) and the demo load; on a busy machine those stretch with the load average,
while the CPU time stays: on an idle machine the wall time comes close to it, as the steps run one
after another.
"""
    print(text)
    if not args.no_write:
        common.write_section("setup", text, first=True)


if __name__ == "__main__":
    main()
