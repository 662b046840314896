"""`python -m kalem.devtools.run --port 8000 --receiver-port 8001`: what `make run` runs once the demo is
loaded — the demo's webhook receiver, a webhook worker and the server — and stops all three together.

They stop when this process gets SIGINT, SIGTERM or SIGHUP (Ctrl-C at a terminal reaches every process
of the group; make passes a SIGTERM it gets on to the recipe it runs, which is this process), when make
itself begins to stop, and when one of the three exits by itself. A SIGINT sent to make alone reaches no
recipe: make only waits for its recipes to end. So this process watches make: as make begins to stop on
a signal it restores that signal's default action, which Linux shows in `/proc/<pid>/status`; where
there is no `/proc`, only make's end is seen.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

#: `kalem serve` and `kalem worker` finish what is under way within 8 s of a SIGTERM.
GRACE_SECONDS = 10.0
POLL_SECONDS = 0.2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def commands(host: str, port: int, receiver_port: int) -> dict[str, list[str]]:
    """By name, in the order they start: the receiver and the worker at a lower priority, so that the
    server answers first on a busy machine."""
    kalem = [sys.executable, "-m", "kalem.cli"]
    return {"receiver": ["nice", "-n", "10", sys.executable, "-m", "kalem.devtools.receiver",
                         "--port", str(receiver_port)],
            "worker": ["nice", "-n", "10", *kalem, "worker"],
            "server": [*kalem, "serve", "--host", host, "--port", str(port)]}


def caught_signals(pid: int) -> int | None:
    """The signals the process catches (a bit per signal, as `SigCgt` in `/proc/<pid>/status`), or None
    where that cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next((int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt:")), None)


def parent_stopping(parent: int, caught_at_start: int | None) -> Callable[[], bool]:
    """Whether the parent (make) is gone, or stopped catching SIGINT or SIGTERM since we started."""
    watched = sum(1 << (s - 1) for s in (signal.SIGINT, signal.SIGTERM)) & (caught_at_start or 0)

    def stopping() -> bool:
        if os.getppid() != parent:
            return True
        caught = caught_signals(parent)
        return caught is not None and caught & watched != watched

    return stopping


def supervise(processes: dict[str, subprocess.Popen[bytes]], stopping: Callable[[], bool]) -> int:
    """Wait until asked to stop or a process exits by itself; stop the rest. 0, or the exit code of the
    process that exited by itself."""
    requested: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        requested.append(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    ended: tuple[str, int] | None = None
    while not requested and ended is None and not stopping():
        ended = next(((name, code) for name, p in processes.items() if (code := p.poll()) is not None), None)
        if ended is None:
            time.sleep(POLL_SECONDS)
    if ended is not None:
        print(f"run: the {ended[0]} exited (code {ended[1]}); stopping the others", file=sys.stderr, flush=True)
    terminate(list(processes.values()))
    return 0 if ended is None else (ended[1] or 1)


def terminate(processes: list[subprocess.Popen[bytes]], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to each (the server first: it stops taking requests), SIGKILL to any still there after
    `grace` seconds."""
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--receiver-port", type=int, default=8001)
    args = parser.parse_args(argv)
    parent = os.getppid()
    stopping = parent_stopping(parent, caught_signals(parent))
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, command in commands(args.host, args.port, args.receiver_port).items():
            processes[name] = subprocess.Popen(command)
    except BaseException:
        terminate(list(processes.values()))
        raise
    return supervise(processes, stopping)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
