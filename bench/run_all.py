"""Run every benchmark in bench/: each *.py here that defines a top-level `main()`.

Each runs in its own interpreter, one after another so they do not compete for the CPU, and writes
its own marked section of docs/performance.md (`common.write_section`) and its figures to
docs/performance.json. `make bench` calls this. A benchmark's own defaults are its long run; here
each gets the arguments in `RUNS` (short measured windows, every figure beside pgbench in the same
run), so that all of them together take under ten minutes on 2 CPUs.

    .venv/bin/python bench/run_all.py              # all of them (`make bench`)
    .venv/bin/python bench/run_all.py cancel       # only bench/cancel.py's runs
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"common.py", "run_all.py"}

_SHORT = ["--seconds", "6", "--warmup", "2", "--pgbench-seconds", "6"]
#: The arguments of each run of a benchmark under `make bench`; one not named here runs with none.
RUNS: dict[str, list[list[str]]] = {
    "cancel": [["--orders", "10000", "1000000", *_SHORT],
               ["--units", "3", "1000", "--seconds", "5", "--warmup", "2", "--sqlite-orders", "20000",
                "--repeat", "1"]],
    "floor": [_SHORT],
    "refund": [_SHORT],
    "split": [["--orders", "20000", *_SHORT]],
    "zonos_graphql": [_SHORT],
    "scaling": [["--seconds", "4", "--warmup", "1", "--pgbench-seconds", "4"]],
    "webhooks": [["--deliveries", "8000", "--latency-events", "400", "--pgbench-seconds", "6"]],
    "observability": [["--seconds", "4", "--warmup", "1", "--rounds", "2"]],
    "channels": [["--orders", "1000", "3000", "--cancels", "200", "--pgbench-seconds", "6"]],
    "ingest": [[*_SHORT, "--import-orders", "10000", "100000", "--import-jobs", "1", "2"]],
}


def benchmarks() -> list[Path]:
    """Scripts with a top-level `def main` (found without importing them)."""
    found = []
    for path in sorted(HERE.glob("*.py")):
        if path.name in SKIP or path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    only = set(argv if argv is not None else sys.argv[1:])
    failed = []
    for path in benchmarks():
        if only and path.stem not in only:
            continue
        for args in RUNS.get(path.stem, [[]]):
            print(f"=== bench/{path.name} {' '.join(args)}", flush=True)
            started = time.perf_counter()
            code = ("import runpy, sys; sys.path.insert(0, sys.argv[1]); "
                    "sys.exit(runpy.run_path(sys.argv[2])['main'](sys.argv[3:]) or 0)")
            result = subprocess.run([sys.executable, "-c", code, str(HERE), str(path), *args], cwd=HERE.parent,
                                    check=False)
            print(f"=== bench/{path.name}: exit {result.returncode} after {time.perf_counter() - started:.0f} s",
                  flush=True)
            if result.returncode:
                failed.append(path.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
