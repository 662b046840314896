"""Run every benchmark in bench/: each *.py here that defines a top-level `main()`.

Each runs in its own interpreter (`main()` called with no arguments: its full default run), one after
another so they do not compete for the CPU, and writes its own marked section of
docs/performance.md (`common.write_section`). `make bench` calls this.

    .venv/bin/python bench/run_all.py              # all of them
    .venv/bin/python bench/run_all.py cancel       # only bench/cancel.py
    KALEM_BENCH_QUICK=1 .venv/bin/python bench/run_all.py   # shorter runs, if a script supports it
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"common.py", "run_all.py"}


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
        print(f"=== bench/{path.name}", flush=True)
        started = time.perf_counter()
        code = ("import runpy, sys; sys.path.insert(0, sys.argv[1]); "
                "sys.exit(runpy.run_path(sys.argv[2])['main']() or 0)")
        result = subprocess.run([sys.executable, "-c", code, str(HERE), str(path)], cwd=HERE.parent, check=False)
        print(f"=== bench/{path.name}: exit {result.returncode} after {time.perf_counter() - started:.0f} s",
              flush=True)
        if result.returncode:
            failed.append(path.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
