"""Crash-test plumbing: `kalem serve` and `kalem worker` as separate processes on one PostgreSQL
database (each killable on its own), and a client that fails over between the API processes the way
a real integrator would: same request, same Idempotency-Key, other process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.ports import server_port

ADMIN = "crash-admin-token"
KALEM = [sys.executable, "-m", "kalem.cli"]
START_DEADLINE = 60.0  # a process that is not healthy by then is a failure, not a slow start


def cluster_env(database_url: str) -> dict[str, str]:
    """Settings for every process: short leases so a killed process's claims come back quickly."""
    return {
        **os.environ,
        "KALEM_DATABASE_URL": database_url, "KALEM_ADMIN_TOKEN": ADMIN,
        "KALEM_SECRET_KEY": "crash-secret-key-of-at-least-32-bytes!",
        "KALEM_RATE_LIMIT_PER_SECOND": "0", "KALEM_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "KALEM_DB_POOL_SIZE": "4",
        # A request whose process died leaves its key claimed; the retry takes it over after this.
        "KALEM_IDEMPOTENCY_LEASE_SECONDS": "2",
        "KALEM_WEBHOOK_LEASE_SECONDS": "2", "KALEM_WEBHOOK_POLL_SECONDS": "0.05",
        "KALEM_WEBHOOK_TIMEOUT_SECONDS": "1.5", "KALEM_WEBHOOK_BATCH": "20", "KALEM_WEBHOOK_CONCURRENCY": "4",
        "KALEM_WEBHOOK_RETRY_BASE_SECONDS": "0.05", "KALEM_WEBHOOK_RETRY_FACTOR": "2",
        "KALEM_WEBHOOK_RETRY_CAP_SECONDS": "0.5", "KALEM_WEBHOOK_MAX_ATTEMPTS": "50",
    }


class Proc:
    """One kalem process that can be killed with SIGKILL and started again."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path,
                 port: int | None = None) -> None:
        self.name, self.args, self.env, self.port = name, args, env, port
        self.log = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        assert self.port is not None
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts + 1}\n".encode())
            out.flush()
            # A process group of its own, so a kill reaches what it starts too (the API processes of
            # `serve --workers N`): orphaned, they would live on, holding the port and the database.
            self.process = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.starts += 1

    def wait_ready(self, seconds: float = START_DEADLINE) -> None:
        """API processes: until /healthz answers. Workers have no endpoint: alive is ready."""
        deadline = time.monotonic() + seconds
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}: {self.tail()}")
            if self.port is None:
                return
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not healthy after {seconds:.0f} s: {self.tail()}")
            time.sleep(0.05)

    def kill9(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.terminate()

    def stop(self) -> None:
        """SIGTERM and the grace to finish; then SIGKILL for whatever is left of the group."""
        if self.process is None:
            return
        if self.alive():
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):   # none left: the usual case
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def make_cluster(database_url: str, log_dir: Path) -> dict[str, Proc]:
    env = cluster_env(database_url)
    procs = {}
    for n in range(2):
        port = server_port()
        procs[f"api{n}"] = Proc(f"api{n}", [*KALEM, "serve", "--port", str(port)], env, log_dir, port)
    for n in range(2):
        procs[f"worker{n}"] = Proc(f"worker{n}", [*KALEM, "worker"], env, log_dir)
    return procs


# --- the client ---------------------------------------------------------------------------------

@dataclass
class Sent:
    """One logical POST and what became of it after every retry."""

    kind: str
    key: str
    path: str
    body: dict[str, Any]
    order_number: str
    status: int | None = None           # the final answer; None: never got one
    response: Any = None
    code: str | None = None             # the error code of a final 4xx
    tries: int = 0
    dropped: int = 0                    # tries whose connection broke mid-request (the process died)
    replayed: bool = False              # the final answer was a stored one (an earlier try was applied)

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Tally:
    """Every HTTP answer and transport failure seen during the run, across threads."""

    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    refused: int = 0                    # connection refused: the process was down, nothing was sent
    dropped: int = 0                    # the connection broke mid-request: the process died under it
    timeouts: int = 0
    server_errors: list[str] = field(default_factory=list)  # 5xx other than 503
    posts_in_flight: Counter[str] = field(default_factory=Counter)  # by API base URL, for the chaos to aim
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sending(self, url: str, delta: int) -> None:
        with self.lock:
            self.posts_in_flight[url] += delta

    def answer(self, method: str, path: str, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 400:
                self.codes[_error_code(response) or "?"] += 1
            if response.status_code >= 500 and response.status_code != 503:
                self.server_errors.append(f"{method} {path} → {response.status_code} {response.text[:300]}")

    def failure(self, error: Exception) -> None:
        with self.lock:
            if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
                self.refused += 1
            elif isinstance(error, httpx.TimeoutException):
                self.timeouts += 1
            else:
                self.dropped += 1


def _error_code(response: httpx.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


# Retried: the request was never sent (refused, connect timeout) or the connection broke under it.
# A read timeout is not: the first try may still be running.
RETRYABLE = (httpx.ConnectTimeout, httpx.NetworkError, httpx.RemoteProtocolError)
MAX_TRIES = 16          # a request gives up after this many answers-or-failures
IN_USE_PAUSE = 0.4      # the key is claimed by a request whose process died: wait out its lease
DOWN_PAUSE = 1.0        # after a connection failure, send elsewhere for this long


class FailoverClient:
    """Spreads requests over the API processes; on a connection error or a 503 sends the same
    request (same Idempotency-Key) to the other process, a bounded number of times."""

    def __init__(self, urls: list[str], tally: Tally, *, first: int = 0) -> None:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        # A generous read timeout: it is counted (the test allows none), never retried.
        self._urls = urls
        self._clients = [httpx.Client(base_url=u, headers=headers, timeout=httpx.Timeout(60, connect=5))
                         for u in urls]
        self._tally = tally
        self._next = first
        self._down_until = [0.0] * len(urls)  # a process that just failed is left alone for a moment

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def _pick(self) -> int:
        now = time.monotonic()
        for _ in range(len(self._clients)):
            index = self._next % len(self._clients)
            self._next += 1
            if self._down_until[index] <= now:
                break
        return index  # every process failed lately: try one anyway

    def _failed(self, index: int, error: Exception) -> None:
        self._tally.failure(error)
        self._down_until[index] = time.monotonic() + DOWN_PAUSE
        time.sleep(0.02)

    def get(self, path: str, **params: Any) -> Any:
        """The JSON of a 200, or None if every try failed."""
        for _ in range(MAX_TRIES):
            index = self._pick()
            try:
                response = self._clients[index].get(path, params=params or None)
            except RETRYABLE as exc:
                self._failed(index, exc)
                continue
            except httpx.TimeoutException as exc:
                self._tally.failure(exc)
                return None
            self._tally.answer("GET", path, response)
            if response.status_code == 200:
                return response.json()
            if response.status_code != 503:
                raise AssertionError(f"GET {path}: {response.status_code} {response.text[:500]}")
            time.sleep(0.2)
        return None

    def post(self, sent: Sent) -> Sent:
        headers = {"Idempotency-Key": sent.key}
        while sent.tries < MAX_TRIES:
            sent.tries += 1
            index = self._pick()
            self._tally.sending(self._urls[index], 1)
            try:
                response = self._clients[index].post(sent.path, json=sent.body, headers=headers)
            except RETRYABLE as exc:
                sent.dropped += not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                self._failed(index, exc)
                continue
            except httpx.TimeoutException as exc:
                self._tally.failure(exc)
                return sent
            finally:
                self._tally.sending(self._urls[index], -1)
            self._tally.answer("POST", sent.path, response)
            code = _error_code(response)
            if response.status_code == 503:
                time.sleep(0.2)
                continue
            if response.status_code == 409 and code == "idempotency_key_in_use":
                time.sleep(IN_USE_PAUSE)
                continue
            sent.status, sent.code = response.status_code, code
            sent.replayed = response.headers.get("Idempotent-Replayed") == "true"
            sent.response = response.json() if response.headers.get("content-type", "").startswith(
                "application/json") else response.text
            return sent
        return sent
