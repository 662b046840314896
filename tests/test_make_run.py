"""`make run` stops everything it started — the server, the worker, the demo's receiver — when make
itself is sent SIGINT or SIGTERM (not only on a Ctrl-C, which reaches every process of the group)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.ports import server_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
WAIT_SECONDS = 300   # db upgrade, the demo and three processes starting, on a loaded machine


def descendants(pid: int) -> set[int]:
    """Every process under `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # the fields after the command's parenthesis: state, ppid, …
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_make_stops_every_process_of_make_run(tmp_path, signum):
    port, receiver_port = server_port(), server_port()
    # Run from a scratch directory (its var/ holds the database and the demo's tokens), with this
    # checkout's Makefile and virtualenv, which is taken as installed.
    make = subprocess.Popen(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), f"VENV={VENV}", "-o", f"{VENV}/.installed",
         "run", f"KALEM_PORT={port}", f"KALEM_RECEIVER_PORT={receiver_port}"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/var/kalem.db"})
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        started: set[int] = set()
        while time.monotonic() < deadline and make.poll() is None:
            started = descendants(make.pid)
            commands = {Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in started
                        if alive(pid)}
            if (_listening(port) and _listening(receiver_port)
                    and any(c.rstrip().endswith(b" worker") for c in commands)):
                break
            time.sleep(0.5)
        assert make.poll() is None, make.communicate()[0][-3000:]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200
        started = descendants(make.pid)
        assert len(started) >= 4   # the supervisor, the server, the worker, the receiver

        make.send_signal(signum)   # to make alone, as a process manager or `kill` sends it
        output = make.communicate(timeout=120)[0]
    finally:
        if make.poll() is None:
            make.kill()
            make.wait()
    assert make.returncode != 0   # make reports the interruption
    survivors = [pid for pid in started if alive(pid)]
    for pid in survivors:   # not left running when this fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == [], (survivors, output[-3000:])
    assert not _listening(port) and not _listening(receiver_port)
