"""Real `kalem serve` / `kalem worker` processes for the process-level tests, each on a database of its own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.ports import server_port

ADMIN = "processes-admin-token"
START_DEADLINE = 60.0

def wait_until(condition: Callable[[], bool], seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{message} (waited {seconds:.0f} s)"
        time.sleep(0.05)


def fresh_database(postgres_url: str) -> str:
    """A new, migrated database on the session's PostgreSQL server."""
    name = f"proc_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    done = kalem_run("db", "upgrade", env=environment(url))
    assert done.returncode == 0, done.stderr[-2000:]
    return url


def environment(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "KALEM_DATABASE_URL": database_url, "KALEM_ADMIN_TOKEN": ADMIN,
            "KALEM_SECRET_KEY": "processes-secret-key-of-at-least-32-bytes", "KALEM_RATE_LIMIT_PER_SECOND": "0",
            "KALEM_WEBHOOK_ALLOW_PRIVATE_URLS": "true", "KALEM_LOG_LEVEL": "warning", **extra}


def kalem_run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kalem.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A process group of its own: `stop` ends what it started too (the API processes of `--workers N`)."""
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "kalem.cli", *args], env=env, stdout=out, stderr=out,
                                start_new_session=True)


@contextlib.contextmanager
def serve(env: dict[str, str], log: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = server_port()
    process = spawn(["serve", "--port", str(port), *args], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(base + "/readyz") == 200, START_DEADLINE,
                   f"kalem serve did not become ready: {log.read_text(errors='replace')[-2000:]}")
        yield base, process
    finally:
        stop(process)


def answers(url: str, **headers: str) -> int | None:
    try:
        return httpx.get(url, timeout=2, headers=headers).status_code
    except httpx.HTTPError:
        return None


def stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):   # nothing of the group left
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
