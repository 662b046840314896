"""Two kalem processes for the channel tests: A serves its faces (standing in for the platforms), B holds
channel accounts pointing at A and runs `kalem sync`. Each gets a database of its own, SQLite or PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.observability.processes import (
    ADMIN,
    START_DEADLINE,
    answers,
    environment,
    fresh_database,
    kalem_run,
    spawn,
    stop,
    wait_until,
)
from tests.ports import server_port

AUTH = {"Authorization": f"Bearer {ADMIN}"}
#: A sync that pulls often, retries soon and leases a push briefly, and a webhook worker that retries a
#: failed delivery within a second or two (its own schedule, 5 s then 20 s then 80 s, can outlast a
#: test's wait when one delivery times out on a loaded machine), so that the tests wait little.
FAST_SYNC = {"KALEM_SYNC_PULL_SECONDS": "0.3", "KALEM_SYNC_POLL_SECONDS": "0.1", "KALEM_SYNC_LEASE_SECONDS": "2",
             "KALEM_SYNC_BACKOFF_SECONDS": "0.3", "KALEM_SYNC_BACKOFF_MAX_SECONDS": "1",
             "KALEM_WEBHOOK_RETRY_BASE_SECONDS": "0.5", "KALEM_WEBHOOK_RETRY_FACTOR": "2",
             "KALEM_WEBHOOK_RETRY_CAP_SECONDS": "2"}


def database(backend: str, postgres: str, tmp: Path, name: str) -> str:
    if backend == "postgresql":
        return fresh_database(postgres)
    url = f"sqlite:///{tmp / name}.db"
    done = kalem_run("db", "upgrade", env=environment(url))
    assert done.returncode == 0, done.stderr[-2000:]
    return url


class Kalem:
    """One kalem: its database, and its `serve` (on a port it keeps across restarts) and `sync` processes."""

    def __init__(self, name: str, url: str, logs: Path) -> None:
        self.name, self.env, self.logs = name, {**environment(url), **FAST_SYNC}, logs
        self.port = server_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server: subprocess.Popen[bytes] | None = None
        self.syncer: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    def run(self, *args: str) -> str:
        done = kalem_run(*args, env=self.env)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    def serve(self) -> None:
        self.server = spawn(["serve", "--port", str(self.port)], self.env, self.logs / f"{self.name}-serve.log")
        wait_until(lambda: answers(self.base + "/readyz") == 200, START_DEADLINE, f"kalem {self.name} did not start")

    def sync(self) -> subprocess.Popen[bytes]:
        self.syncer = spawn(["sync"], self.env, self.logs / f"{self.name}-sync.log")
        return self.syncer

    def deliver(self) -> subprocess.Popen[bytes]:
        """The webhook worker: what a platform standing in for one sends its clients."""
        self.worker = spawn(["worker"], self.env, self.logs / f"{self.name}-worker.log")
        return self.worker

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=AUTH, timeout=10)

    def accounts(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.run("channel", "list").splitlines()]

    def pushes(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.run("channel", "pushes").splitlines()]

    def close(self) -> None:
        for process in (self.syncer, self.worker, self.server):
            if process is not None:
                stop(process)


@contextlib.contextmanager
def kalems(backend: str, postgres: str) -> Iterator[tuple[Kalem, Kalem]]:
    tmp = Path(tempfile.mkdtemp(prefix="kalem-channels-"))
    a = Kalem("a", database(backend, postgres, tmp, "a"), tmp)
    b = Kalem("b", database(backend, postgres, tmp, "b"), tmp)
    try:
        yield a, b
    finally:
        a.close()
        b.close()
        shutil.rmtree(tmp, ignore_errors=True)


class Proxy:
    """An HTTP relay in front of A. `trap(path)`: the next request to `path` (whose body holds `holding`,
    when given) is relayed to A, A's answer is kept from the caller, and `trapped` is set — the moment
    to kill the caller mid-push. While `garbage` is set, every request is answered 200 with a page no
    platform sends (`Garbage.BODY`)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.garbage = False
        self.trapped = threading.Event()
        self._trap: str | None = None
        self._holding = b""
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if proxy.garbage:
                    self.send_response(200)
                    self.send_header("content-type", "text/html")
                    self.send_header("content-length", str(len(Garbage.BODY)))
                    self.end_headers()
                    self.wfile.write(Garbage.BODY)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                try:
                    answer = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers,
                                           timeout=10)
                except httpx.HTTPError:
                    self.send_error(502)
                    return
                if proxy._trap is not None and self.path.startswith(proxy._trap) and proxy._holding in body:
                    proxy._trap = None
                    proxy.trapped.set()
                    proxy._release.wait(30)
                    return  # the caller never hears the answer
                self.send_response(answer.status_code)
                self.send_header("content-type", answer.headers.get("content-type", "application/json"))
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = _relay

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def trap(self, path: str, holding: bytes = b"") -> None:
        self.trapped.clear()
        self._holding = holding
        self._trap = path

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()


class Stub:
    """A platform that answers every request the same way (`status`, `headers`, `body`), keeping the
    path of each request it gets."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.paths: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                stub.paths.append(self.path.split("?")[0])
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(status)
                for name, value in {**(headers or {}), "content-length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def requests(self) -> int:
        return len(self.paths)

    def close(self) -> None:
        self._server.shutdown()


class Garbage(Stub):
    """A server that answers every request 200 with a page no platform sends."""

    BODY = b"<html><body>Maintenance: back soon</body></html>"

    def __init__(self) -> None:
        super().__init__(200, self.BODY, {"content-type": "text/html"})


def sync_killed_mid_push(b: Kalem, proxy: Proxy, landed: Callable[[], bool]) -> None:
    """B's sync killed with SIGKILL once A has taken the push `proxy` trapped, before B heard A's
    answer, then started again: the push has landed on A (`landed`) and finishes, tried again (and
    reading A before sending)."""
    assert proxy.trapped.wait(60), "the push never reached A"
    assert b.syncer is not None
    os.kill(b.syncer.pid, signal.SIGKILL)
    b.syncer.wait(10)
    eventually(landed, "the trapped push did not land on A")
    b.sync()
    eventually(lambda: all(p["status"] == "done" for p in b.pushes()), "the retried push did not finish")
    assert max(p["attempts"] for p in b.pushes()) >= 2


def push_waits_while_a_is_down(a: Kalem, b: Kalem, cancel: Callable[[], object], landed: Callable[[], bool]) -> None:
    """A killed, then a cancel decided in B (`cancel`): B's push waits and retries with backoff (an error
    noted), and once A is back it lands (`landed`) and finishes."""
    assert a.server is not None
    os.kill(a.server.pid, signal.SIGKILL)
    a.server.wait(10)
    cancel()
    eventually(lambda: any(p["status"] == "pending" and p["last_error_kind"] for p in b.pushes()),
               "B did not notice A was down")
    a.serve()
    eventually(landed, "the push did not land once A came back")
    eventually(lambda: all(p["status"] == "done" for p in b.pushes()), "B's pushes did not finish")


def eventually(condition: Callable[[], bool], message: str, seconds: float = 60) -> None:
    wait_until(condition, seconds, message)
