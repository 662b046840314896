"""The CLI: tokens print alone on stdout, migrations run, the demo loads once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from importlib.metadata import version
from queue import Empty, Queue
from typing import IO

import httpx
import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from kalem.app import access
from kalem.domain.errors import AuthenticationFailed
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from tests.ports import server_port


def kalem(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kalem.cli", *args], env={**os.environ, **env}, input=stdin,
                          capture_output=True, text=True, timeout=120)


class Lines:
    """A process's output line by line, failing after `timeout` seconds instead of waiting for ever on
    a process that stays silent."""

    def __init__(self, stream: IO[str], timeout: float = 120) -> None:
        self._lines: Queue[str | None] = Queue()
        self._timeout = timeout
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in iter(stream.readline, ""):
            self._lines.put(line)
        self._lines.put(None)

    def next(self) -> str:
        """The next line; "" at the end of the output."""
        try:
            return self._lines.get(timeout=self._timeout) or ""
        except Empty:
            raise AssertionError(f"no line within {self._timeout} s") from None

    def rest(self) -> str:
        return "".join(iter(self.next, ""))


def test_token_create_prints_the_token_alone(tmp_path):
    env = {"KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    assert kalem("db", "upgrade", env=env).returncode == 0
    unknown = kalem("token", "create", "--role", "seller", "--seller-id", "acme", env=env)
    assert unknown.returncode == 2 and unknown.stdout == "" and "seller acme is not known" in unknown.stderr
    seller = kalem("token", "create", "--role", "seller", "--seller-id", "acme", "--new-seller", env=env)
    assert seller.returncode == 0, seller.stderr
    assert seller.stdout.count("\n") == 1 and seller.stdout.startswith("kalem_")
    assert "token id: tok_" in seller.stderr   # the id to revoke it by, beside (not in) the secret
    pair = kalem("token", "create", "--role", "seller", "--seller-id", "acme", "--n11", env=env)
    appkey, appsecret = pair.stdout.split()
    assert appkey.startswith("n11k_") and len(appsecret) > 20
    bad = kalem("token", "create", "--role", "seller", env=env)
    assert bad.returncode != 0 and bad.stdout == ""
    engine = sa.create_engine(f"sqlite:///{tmp_path}/k.db")
    with engine.connect() as conn:
        assert list(conn.execute(sa.text("SELECT id FROM sellers")).scalars()) == ["acme"]
    engine.dispose()


def test_version_and_worker_defaults_are_shown():
    shown = kalem("--version", env={})
    assert shown.returncode == 0 and shown.stdout == f"kalem {version('kalem')}\n"
    helped = kalem("worker", "--help", env={"COLUMNS": "200"})
    assert "default: 16" in helped.stdout and "default: 100" in helped.stdout, helped.stdout


def serve_once(tmp_path, log_format: str, path: str = "/v1/orders") -> tuple[int, str, httpx.Response, str, str]:
    """Start `kalem serve`, read its first line, make one request as soon as that line is out, read the
    request's log line, stop it: (port, startup line, answer, access line, the rest of the log)."""
    env = {**os.environ, "KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db", "KALEM_LOG_FORMAT": log_format,
           "KALEM_SECRET_KEY": "s" * 40}
    assert kalem("db", "upgrade", env=env).returncode == 0
    port = server_port()
    server = subprocess.Popen([sys.executable, "-m", "kalem.cli", "serve", "--port", str(port)], env=env,
                              stderr=subprocess.PIPE, text=True)
    lines = Lines(server.stderr)
    try:
        ready = lines.next()   # the API process has built its app ...
        assert re.search(r"API process \d+ ready", ready), ready
        started = lines.next()   # ... and the port answers
        # printed once the port answers: the very next request gets through
        answer = httpx.get(f"http://127.0.0.1:{port}{path}", headers={"X-Request-ID": "trace-42"})
        access = lines.next()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    rest = lines.rest()
    return port, started, answer, access, rest


def test_serve_says_when_it_answers_logs_each_request_and_says_when_it_stops(tmp_path):
    port, first, answer, access_line, rest = serve_once(tmp_path, "json")
    assert answer.status_code == 401 and answer.headers["x-request-id"] == "trace-42"
    assert answer.json()["error"]["request_id"] == "trace-42"
    started, access = json.loads(first), json.loads(access_line)
    assert started["message"] == (f"kalem {version('kalem')} serving http://127.0.0.1:{port} "
                                  f"(database sqlite:///{tmp_path}/k.db, 1 API process)")
    assert {"time", "level", "logger", "request_id"} <= set(started)
    assert access["logger"] == "kalem.access" and access["request_id"] == "trace-42"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/v1/orders", 401)
    assert isinstance(access["duration_ms"], float)
    assert json.loads(rest.strip().splitlines()[-1])["message"] == f"kalem stopped serving http://127.0.0.1:{port}"


def test_the_default_log_is_one_readable_line_per_thing(tmp_path):
    port, started, _, access, rest = serve_once(tmp_path, "text")
    assert re.fullmatch(rf"\S+ \S+ INFO kalem \[-\] kalem \S+ serving http://127.0.0.1:{port} \(database "
                        rf"sqlite:///\S+/k.db, 1 API process\)\n", started), started
    assert re.fullmatch(r"\S+ \S+ INFO kalem.access \[trace-42\] GET /v1/orders 401 \d+\.\dms\n", access), access
    assert rest.strip().splitlines()[-1].endswith(f"kalem stopped serving http://127.0.0.1:{port}")
    from kalem.cli import _redacted
    assert _redacted("postgresql://kalem:s3cret@db.internal/kalem") == "postgresql://kalem:***@db.internal/kalem"


def test_a_request_cannot_forge_a_log_line(tmp_path):
    """A path with an encoded newline (and an escape sequence) is logged on one line, escaped."""
    _, _, answer, access, rest = serve_once(tmp_path, "text", "/v1/orders%0a2026-01-01%2000:00:00,000%20INFO%1b[0m")
    assert answer.status_code == 404
    assert access.count("\n") == 1 and access.endswith("ms\n"), access
    assert "GET /v1/orders\\n2026-01-01 00:00:00,000 INFO\\x1b[0m 404 " in access, access


def test_token_revoke(tmp_path):
    env = {"KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    assert kalem("db", "upgrade", env=env).returncode == 0
    created = kalem("token", "create", "--role", "seller", "--seller-id", "acme", "--new-seller", env=env)
    token_id = created.stderr.split("token id: ")[1].split()[0]
    secret = created.stdout.strip()
    db = Database.connect(env["KALEM_DATABASE_URL"])
    try:
        assert access.authenticate(UnitOfWork(db), secret).subject == token_id
        revoked = kalem("token", "revoke", token_id, env=env)
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(AuthenticationFailed):
            access.authenticate(UnitOfWork(db), secret)
        assert kalem("token", "revoke", token_id, env=env).returncode == 0   # again: nothing changes
        unknown = kalem("token", "revoke", "tok_nope", env=env)
        assert unknown.returncode == 2 and "tok_nope not found" in unknown.stderr
    finally:
        db.dispose()


def test_demo_loads_once(tmp_path):
    env = {"KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert kalem("db", "upgrade", env=env).returncode == 0
        first = kalem("demo", "--receiver-url", "http://127.0.0.1:8001/hooks", env=env)
        second = kalem("demo", env=env)
    finally:
        os.chdir(cwd)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert "operator token: kalem_" in first.stdout
    assert "story order 4000000901" in first.stdout and (tmp_path / "var/demo-webhook-secret").exists()
    engine = sa.create_engine(f"sqlite:///{tmp_path}/k.db")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar() == 50 + 4
        pending = [json.loads(b) for b in conn.execute(sa.text(
            "SELECT body FROM cancel_requests WHERE status = 'pending'")).scalars()]
        assert any(len(p["items"]) > 1 and any(quantity > 1 for _, quantity, *_ in p["items"]) for p in pending)
        assert conn.execute(sa.text("SELECT count(*) FROM events WHERE type = 'package.split'")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM events WHERE type = 'return.approved'")).scalar() == 1
        # The default policy: every decision that cancelled or returned units made its refund, pending
        # settlement; the story's return is one of them; the German order's removed belt was credited
        # on its paid invoice instead.
        refunds = conn.execute(sa.text("SELECT order_number, status, body FROM refunds")).all()
        assert conn.execute(sa.text("SELECT count(*) FROM events WHERE type = 'refund.created'")).scalar() == \
            len(refunds) > 1
        assert {(status, json.loads(body)["on_decision"]) for _, status, body in refunds} == {("pending", True)}
        assert [(json.loads(body)["cause"], json.loads(body)["amount"]) for number, _, body in refunds
                if number == "4000000903"] == [("return", "149.50")]
        assert "4000000904" not in {number for number, _, _ in refunds}
        assert conn.execute(sa.text("SELECT count(*) FROM events WHERE type = 'credit_note.issued'")).scalar() == 1
        assert conn.execute(sa.text("SELECT url FROM webhook_subscriptions")).scalars().all() == [
            "http://127.0.0.1:8001/hooks"]
        assert conn.execute(sa.text("SELECT count(*) FROM webhook_deliveries")).scalar() == \
            conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
        assert conn.execute(sa.text("SELECT count(DISTINCT seller_id) FROM orders")).scalar() == 2
        assert conn.execute(sa.text("SELECT count(*) FROM cancel_requests WHERE status = 'pending'")).scalar() > 0
        statuses = set(conn.execute(sa.text("SELECT DISTINCT status FROM orders")).scalars())
    engine.dispose()
    assert {"open", "shipped", "delivered"} <= statuses


def test_the_demo_receiver_takes_only_correctly_signed_events(tmp_path):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    (tmp_path / "secret").write_text(secret)
    port = server_port()
    receiver = subprocess.Popen([sys.executable, "-m", "kalem.devtools.receiver", "--port", str(port),
                                 "--secret-file", str(tmp_path / "secret")], stdout=subprocess.PIPE, text=True)
    lines = Lines(receiver.stdout)
    try:
        assert "listening" in lines.next()
        body = json.dumps({"id": "evt_1", "type": "order.placed", "order_number": "4000000001", "seller_id": "acme",
                           "sequence": 1, "occurred_at": "2026-01-01T00:00:00Z", "data": {}})
        at = datetime.now(UTC)
        headers = {"webhook-id": "evt_1", "webhook-timestamp": str(int(at.timestamp())),
                   "webhook-signature": Webhook(secret).sign("evt_1", at, body), "content-type": "application/json"}
        url = f"http://127.0.0.1:{port}/hooks"
        assert httpx.post(url, content=body, headers=headers).status_code == 204
        assert "order.placed order 4000000001 #1 (signature verified)" in lines.next()
        forged = {**headers, "webhook-signature": Webhook("whsec_" + "A" * 43 + "=").sign("evt_1", at, body)}
        assert httpx.post(url, content=body, headers=forged).status_code == 401
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
