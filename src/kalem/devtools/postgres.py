"""A throwaway PostgreSQL server from the machine's own binaries, for tests and benchmarks.

`initdb` into a temporary folder, start on a free loopback port, hand out the URL, and remove
everything on exit. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user
(which Debian's package creates).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise RuntimeError("no PostgreSQL server binaries (initdb) found; install Debian's postgresql")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    def __init__(self, *, port: int | None = None, settings: dict[str, str] | None = None,
                 same_session: bool = False) -> None:
        """`same_session`: run `postgres` itself as this process's child, in its session, instead of
        through `pg_ctl` (which starts the server in a session of its own). Benchmarks need it: the
        kernel shares the CPUs fairly between sessions (autogroup), so a server in a session of its
        own gets a session's share, whatever the load generator and the other servers get."""
        self.port = port or free_port()
        self._same_session = same_session
        self._server: subprocess.Popen[bytes] | None = None
        self.bin = bindir()
        self.root = Path(tempfile.mkdtemp(prefix="kalem-pg-"))
        self.data = self.root / "data"
        self.settings = {"fsync": "on", "max_connections": "300", "shared_buffers": "256MB",
                         "listen_addresses": "'127.0.0.1'", "unix_socket_directories": f"'{self.root}'",
                         **(settings or {})}
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://kalem@127.0.0.1:{self.port}/kalem"

    def _run(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self._as_user, *args], check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]

    def start(self) -> ThrowawayPostgres:
        if self._as_user:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "kalem", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8" if _has_locale("C.UTF-8") else "--no-locale")
        self.restart_after_stop()
        self.createdb("kalem")
        return self

    def start_standby(self, primary: ThrowawayPostgres) -> ThrowawayPostgres:
        """A streaming replica of `primary`: a base backup that follows it (`pg_basebackup -R`), read-only
        until promoted. initdb's default pg_hba.conf lets local replication connections in."""
        if self._as_user:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "kalem",
                  "-D", str(self.data), "-R", "-X", "stream", "-c", "fast")
        self.restart_after_stop()
        return self

    def promote(self) -> None:
        """Make a standby the primary (`pg_ctl promote`, waiting until it accepts writes)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "promote")

    def kill(self) -> None:
        """`kill -9` the postmaster: the server dies as in a crash of its machine's process."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)

    def createdb(self, name: str) -> str:
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "kalem", name)
        return f"postgresql+psycopg://kalem@127.0.0.1:{self.port}/{name}"

    def stop(self, mode: str = "fast") -> None:
        if self._server is not None:
            # PostgreSQL's shutdown modes by signal, as pg_ctl sends them (to the postmaster: under
            # runuser, the child is runuser's)
            with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, {"smart": signal.SIGTERM, "fast": signal.SIGINT}.get(mode, signal.SIGQUIT))
            try:
                self._server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait()
            self._server = None
            return
        subprocess.run([*self._as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                       capture_output=True, check=False)

    def restart_after_stop(self) -> None:
        if self._same_session:
            self._start_in_this_session()
            return
        options = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o",
                  f"-p {self.port} {options}", "-w", "-t", "60", "start")

    def _start_in_this_session(self) -> None:
        options = [arg for k, v in self.settings.items() for arg in ("-c", f"{k}={v.strip(chr(39))}")]
        with open(self.root / "log", "ab") as log:
            self._server = subprocess.Popen([*self._as_user, str(self.bin / "postgres"), "-D", str(self.data),
                                             "-p", str(self.port), *options], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while subprocess.run([str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                             check=False).returncode != 0:
            if self._server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start:\n{(self.root / 'log').read_text(errors='replace')}")
            time.sleep(0.1)

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _has_locale(name: str) -> bool:
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout.lower()
    return name.lower().replace("-", "") in out.replace("-", "")


if __name__ == "__main__":  # a manual server: python -m kalem.devtools.postgres
    with ThrowawayPostgres() as pg:
        print(pg.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
