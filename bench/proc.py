"""CPU time of a process tree, from /proc: how much CPU the server and the database each spent per
request during a measured run, which shows which of them limits throughput.

Not a benchmark itself (no `main()`): imported by bench/split.py and bench/zonos_graphql.py.
"""

from __future__ import annotations

import os
from pathlib import Path

_HZ = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, user + system CPU seconds) of every live process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        out[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _HZ)
    return out


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by `root` and its live descendants."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo.extend(children.get(pid, []))
    return total


def listening_on(port: int, program: str) -> int:
    """The pid of the `program` process started with `--port <port>` (e.g. `kalem serve`)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(a.endswith(program.encode()) for a in args[:2]) and str(port).encode() in args and \
                    b"--port" in args:
                return int(entry.name)
    raise RuntimeError(f"no {program} process with --port {port}")


def postmaster(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def cpu_note(what: str, cpu_ms: list[float], workers: int, nproc: int) -> str:
    """A sentence for docs/performance.md: CPU per request of the server and of the database."""
    server, database = cpu_ms
    return (f"CPU per {what} in the measured run (from /proc): `kalem serve` ({workers} workers) {server:.2f} ms, "
            f"PostgreSQL {database:.2f} ms; on {nproc} CPUs that alone bounds throughput near "
            f"{nproc * 1000 / (server + database):,.0f} per second.")
