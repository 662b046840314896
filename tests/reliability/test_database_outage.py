"""PostgreSQL goes away under load — a crash (`immediate`) and a clean stop (`fast`) — and comes back.

A throwaway PostgreSQL of its own (stopping it leaves the session database alone), two API processes
(`kalem serve`) and one webhook worker (`kalem worker`) as subprocesses, a real local webhook
receiver subscribed to every event, and a few client threads sending a bounded number of requests
(native intake, cancels and reads, the Hebiar face, a GraphQL query; every write with an
`Idempotency-Key`). kalem's processes are never restarted. The test checks:

- while the database is down, every answer is a 503 in the called face's envelope with the stable
  code `database_unavailable` and `Retry-After`; never a 500, never a hang past the client timeout;
  `/healthz` stays 200 (liveness) and `/readyz` says 503 on both API processes;
- after the restart both processes become ready again on their own, every write is acknowledged
  exactly once (retried with its key: applied once or replayed), and nothing is corrupt: each line's
  ledger sums to its quantity, each order's events are gapless up to `last_sequence`, no key is left
  claimed, and the worker, still alive, delivers every event (outbox drained).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from kalem.devtools.postgres import ThrowawayPostgres
from kalem.webhooks.worker import BACKOFF_CAP_SECONDS, backoff
from tests.ports import server_port
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

ADMIN = "outage-admin-token"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CLIENTS = 3
KINDS = ("intake", "cancel", "read", "hebiar", "graphql", "cancel")
BEFORE = 6  # acknowledged requests per client before the stop
STOPPING_CAP = 12  # requests per client while `pg_ctl stop` runs (then the client waits)
DURING = len(KINDS)  # requests per client while the database is down: every kind once
AFTER = 2 * len(KINDS)  # fresh requests per client after the restart
CLIENT_TIMEOUT = 15.0  # a hang fails the test as a transport error
WORKER_OUTAGE_LINE = "webhook worker: database unavailable"  # its back-off's log line
UNITS = 500  # units on each home line: more than the cancels a run can send
# Deadlines (hang guards with a message, not timing assertions).
SERVER_START_DEADLINE = 60.0
PHASE_DEADLINE = 60.0
RECOVERY_DEADLINE = 45.0
DRAIN_DEADLINE = 90.0


def wait_until(condition: Callable[[], bool], deadline_seconds: float, message: str, pause: float = 0.05) -> None:
    deadline = time.monotonic() + deadline_seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{message} (waited {deadline_seconds:.0f} s)")
        time.sleep(pause)


# --- the stack: PostgreSQL, two API processes, a worker, a receiver ------------------------------

@dataclass
class Stack:
    pg: ThrowawayPostgres
    bases: list[str]
    servers: list[subprocess.Popen[bytes]]
    worker: subprocess.Popen[bytes]
    receiver: Receiver
    logs: Path

    def log(self, name: str) -> str:
        return (self.logs / name).read_text(errors="replace")

    def sql(self, statement: str, **params: Any) -> list[Any]:
        engine = sa.create_engine(self.pg.url, poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(statement), params).all())
        finally:
            engine.dispose()


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "kalem.cli", *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=out)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("outage-logs")
    pg = ThrowawayPostgres(settings={"shared_buffers": "32MB", "max_connections": "100"}).start()
    receiver = Receiver().start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        bases = start_kalem(pg.url, receiver, logs, processes)
        yield Stack(pg, bases, processes[:2], processes[2], receiver, logs)
    finally:
        for process in processes:
            _stop(process)
        receiver.stop()
        pg.close()


def start_kalem(database_url: str, receiver: Receiver, logs: Path, processes: list[subprocess.Popen[bytes]]
                ) -> list[str]:
    """Migrate, then two API processes (single-process servers, so each can be asked directly) and a
    webhook worker, appended to `processes`; a subscription of `receiver` to every event. Returns the
    servers' base URLs."""
    env = {**os.environ, "KALEM_DATABASE_URL": database_url, "KALEM_ADMIN_TOKEN": ADMIN,
           "KALEM_SECRET_KEY": "outage-secret-key-of-at-least-32-bytes", "KALEM_RATE_LIMIT_PER_SECOND": "0",
           "KALEM_WEBHOOK_ALLOW_PRIVATE_URLS": "true", "KALEM_DB_POOL_SIZE": "4",
           # A claim left by a request that died with the database is taken over after this lease.
           "KALEM_IDEMPOTENCY_LEASE_SECONDS": "2",
           # The worker's schedule in fractions of a second, so the drain is quick.
           "KALEM_WEBHOOK_POLL_SECONDS": "0.05", "KALEM_WEBHOOK_LEASE_SECONDS": "10",
           "KALEM_WEBHOOK_TIMEOUT_SECONDS": "3", "KALEM_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
           "KALEM_WEBHOOK_RETRY_CAP_SECONDS": "0.5", "KALEM_LOG_LEVEL": "warning"}
    migrated = subprocess.run([sys.executable, "-m", "kalem.cli", "db", "upgrade"], env=env,
                              capture_output=True, text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    ports = [server_port(), server_port()]
    for n, port in enumerate(ports):
        processes.append(_spawn(["serve", "--port", str(port)], env, logs / f"server{n}.log"))
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    for n, base in enumerate(bases):
        wait_until(lambda base=base: _answers(base, "/readyz") == 200, SERVER_START_DEADLINE,
                   f"server {n} did not become ready: {(logs / f'server{n}.log').read_text()[-2000:]}")
    with httpx.Client(base_url=bases[0], headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as api:
        sub = api.post("/v1/webhook-subscriptions", json={"url": receiver.url, "event_types": ["*"],
                                                           "dialect": "native", "secret": WEBHOOK_SECRET})
        assert sub.status_code == 201, sub.text
    processes.append(_spawn(["worker"], env, logs / "worker.log"))
    return bases


def _answers(base: str, path: str) -> int | None:
    try:
        return httpx.get(base + path, timeout=2).status_code
    except httpx.HTTPError:
        return None


# --- the load ------------------------------------------------------------------------------------

@dataclass
class Op:
    kind: str
    server: int
    method: str
    path: str
    json: Any
    headers: dict[str, str]

    @property
    def face(self) -> str:
        return {"hebiar": "hebiar", "graphql": "graphql"}.get(self.kind, "native")

    @property
    def writes(self) -> bool:
        return self.kind in ("intake", "cancel", "hebiar")


@dataclass
class Outcome:
    op: Op
    started: str  # the phase when the request was sent …
    ended: str  # … and when its answer (or error) came
    status: int | None = None
    body: Any = None
    retry_after: str | None = None
    error: str | None = None  # a transport error or timeout: kalem hung or dropped the connection


@dataclass
class Run:
    """The phases main moves through; clients read them to classify what they see."""

    mode: str
    phase: str = "before"
    down: threading.Event = field(default_factory=threading.Event)
    restarted: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: list[Outcome] = field(default_factory=list)
    counts: dict[tuple[int, str], int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def count(self, client: int, phase: str) -> int:
        with self.lock:
            return self.counts.get((client, phase), 0)


@dataclass
class Home:
    """A client's own order: the target of its cancels, reads and face calls."""

    number: str
    zonos_id: str
    native_line: str
    hebiar_line: str


class Client:
    def __init__(self, run: Run, index: int, home: Home, bases: list[str]) -> None:
        self.run, self.index, self.home = run, index, home
        self.http = [httpx.Client(base_url=b, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=CLIENT_TIMEOUT)
                     for b in bases]
        self.issued: dict[str, int] = {}  # writes per kind, each acknowledged exactly once in the end
        self.orders: list[str] = []  # numbers of the orders this client took in
        self.pending: list[Op] = []  # requests not acknowledged yet: sent again, same key, after the restart

    def op(self, n: int) -> Op:
        kind = KINDS[n % len(KINDS)]
        server = (n + n // len(KINDS)) % 2  # both servers, every kind on each over time
        key = {"Idempotency-Key": f"{self.run.mode}-{self.index}-{n}-{uuid.uuid4().hex[:8]}"}
        if kind in ("intake", "cancel", "hebiar"):
            self.issued[kind] = self.issued.get(kind, 0) + 1
        if kind == "intake":
            number = f"{self.run.mode}-{self.index}-{n}"
            self.orders.append(number)
            body = {"order_number": number, "seller_id": "acme", "currency": "TRY",
                    "lines": [{"line_id": f"{number}-a", "sku": "A", "name": "A", "quantity": 2, "unit_price": "10.00"},
                              {"line_id": f"{number}-b", "sku": "B", "name": "B", "quantity": 3, "unit_price": "4.00"}]}
            return Op(kind, server, "POST", "/v1/orders", body, key)
        if kind == "cancel":
            body = {"lines": [{"line_id": self.home.native_line, "quantity": 1, "reason_id": 136}]}
            return Op(kind, server, "POST", f"/v1/orders/{self.home.number}/cancellations", body, key)
        if kind == "hebiar":
            unit = self.issued["hebiar"]  # a unit line not cancelled yet
            body = [{"sourceOrderItemLineId": f"{self.home.hebiar_line}-{unit}", "quantity": 1, "reasonId": 151,
                     "reasonDesc": "outage test"}]
            return Op(kind, server, "POST", "/Orders/CancelOrderItemLineList", body, key)
        if kind == "graphql":
            body = {"query": "query($id: ID!) { order(orderId: $id) { id } }", "variables": {"id": self.home.zonos_id}}
            return Op(kind, server, "POST", "/graphql", body, {"credentialToken": ADMIN})
        return Op(kind, server, "GET", f"/v1/orders/{self.home.number}", None, {})

    def send(self, op: Op) -> Outcome:
        outcome = Outcome(op, started=self.run.phase, ended="")
        try:
            response = self.http[op.server].request(op.method, op.path, json=op.json, headers=op.headers)
        except httpx.HTTPError as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"
        else:
            outcome.status, outcome.retry_after = response.status_code, response.headers.get("retry-after")
            try:
                outcome.body = response.json()
            except ValueError:
                outcome.body = response.text
        outcome.ended = self.run.phase
        with self.run.lock:
            self.run.outcomes.append(outcome)
            self.run.counts[(self.index, outcome.started)] = self.run.counts.get((self.index, outcome.started), 0) + 1
        return outcome

    def settle(self, op: Op) -> None:
        """Send `op` (again, with the same key) until it is acknowledged: 503 and a claim left by a
        request that died with the database (409 `idempotency_key_in_use`, until its lease ends) wait."""
        deadline = time.monotonic() + RECOVERY_DEADLINE
        while True:
            outcome = self.send(op)
            if outcome.status is not None and 200 <= outcome.status < 300:
                return
            if not (outcome.status == 503 or _code(outcome) == "idempotency_key_in_use"):
                raise AssertionError(f"{op.kind} after the restart: {outcome.status} {outcome.body} {outcome.error}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{op.kind} was not acknowledged within {RECOVERY_DEADLINE} s of the restart: "
                                     f"{outcome.status} {outcome.body}")
            time.sleep(0.2)

    def __call__(self) -> None:
        try:
            self._load()
        except BaseException as exc:  # noqa: BLE001 - main reports it
            self.run.failures.append(f"client {self.index}: {type(exc).__name__}: {exc}")
        finally:
            for http in self.http:
                http.close()

    def _load(self) -> None:
        for n in itertools.count():
            phase = self.run.phase
            if phase == "stopping" and self.count(phase) >= STOPPING_CAP:
                assert self.run.down.wait(PHASE_DEADLINE), "the database did not stop"
                continue
            if phase in ("down", "restarting") and self.count("down") >= DURING:
                assert self.run.restarted.wait(PHASE_DEADLINE), "the database did not come back"
                continue
            if phase == "after":
                for op in self.pending:
                    self.settle(op)
                self.pending.clear()
                if self.count("after") >= AFTER:
                    return
            assert n < 10 * (BEFORE + STOPPING_CAP + DURING + AFTER), "runaway client loop"
            op = self.op(n)
            if phase == "after":
                self.settle(op)
                continue
            outcome = self.send(op)
            if not (outcome.status is not None and 200 <= outcome.status < 300):
                self.pending.append(op)

    def count(self, phase: str) -> int:
        return self.run.count(self.index, phase)


def _code(outcome: Outcome) -> str | None:
    """kalem's stable code, from whichever envelope the face answers in."""
    body = outcome.body
    if not isinstance(body, dict):
        return None
    if outcome.op.face == "graphql":
        errors = body.get("errors") or [{}]
        return (errors[0].get("extensions") or {}).get("code")
    if outcome.op.face == "hebiar":
        errors = body.get("errors") or [{}]
        return errors[0].get("code")
    return (body.get("error") or {}).get("code")


def _is_database_unavailable(outcome: Outcome) -> bool:
    """The clear 503: the face's envelope, the stable code, and when to retry."""
    if outcome.status != 503 or outcome.retry_after is None or not outcome.retry_after.isdigit():
        return False
    body = outcome.body
    if not isinstance(body, dict):
        return False
    if outcome.op.face == "graphql":
        return body.get("data") is None and _code(outcome) == "DATABASE_UNAVAILABLE"
    if outcome.op.face == "hebiar":
        return body.get("isSuccess") is False and body.get("statusCode") == 503 and \
            _code(outcome) == "database_unavailable"
    return _code(outcome) == "database_unavailable" and bool(body["error"]["message"])


def _acknowledged(outcome: Outcome) -> bool:
    if outcome.status is None or not 200 <= outcome.status < 300:
        return False
    if outcome.op.kind == "graphql":
        wanted = outcome.op.json["variables"]["id"]
        return not outcome.body.get("errors") and outcome.body["data"]["order"]["id"] == wanted
    if outcome.op.kind == "hebiar":
        return outcome.body == {"isSuccess": True, "statusCode": 0}
    return True


def _assert_postgres_is_down(pg: ThrowawayPostgres) -> None:
    try:
        psycopg.connect(host="127.0.0.1", port=pg.port, user="kalem", dbname="kalem", connect_timeout=3).close()
    except psycopg.OperationalError:
        return
    pytest.fail("PostgreSQL still accepts connections after `pg_ctl stop`")


def _homes(stack: Stack, mode: str) -> list[Home]:
    homes = []
    with httpx.Client(base_url=stack.bases[0], headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as api:
        for c in range(CLIENTS):
            number = f"{mode}-home-{c}"
            # Sold through Zonos: driven through the native API, Hebiar's OMS face and its own channel's face.
            # The first creates the seller (a new database).
            body = {"order_number": number, "seller_id": "acme", "create_seller": c == 0, "currency": "TRY",
                    "channel": "zonos", "lines": [
                {"line_id": f"{number}-n", "sku": "N", "name": "N", "quantity": UNITS, "unit_price": "1.00"},
                {"line_id": f"{number}-h", "sku": "H", "name": "H", "quantity": UNITS, "unit_price": "1.00"}]}
            created = api.post("/v1/orders", json=body)
            assert created.status_code == 201, created.text
            homes.append(Home(number, "order_" + created.json()["id"].removeprefix("ord_"), f"{number}-n",
                              f"{number}-h"))
    return homes


# --- the test ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["immediate", "fast"])
def test_database_outage_under_load(stack: Stack, mode: str) -> None:
    run = Run(mode)
    clients, threads = start_clients(stack, run)
    worker_warnings = stack.log("worker.log").count(WORKER_OUTAGE_LINE)
    run.phase = "stopping"
    stack.pg.stop(mode)  # with the clients' requests in flight
    _assert_postgres_is_down(stack.pg)
    run.phase = "down"
    run.down.set()

    probes = [(base, path, httpx.get(base + path, timeout=CLIENT_TIMEOUT)) for base in stack.bases
              for path in ("/healthz", "/readyz")]
    wait_until(lambda: all(run.count(c, "down") >= DURING for c in range(CLIENTS)) or run.failures,
               PHASE_DEADLINE, "the clients did not send their requests while the database was down")
    wait_until(lambda: stack.log("worker.log").count(WORKER_OUTAGE_LINE) > worker_warnings, PHASE_DEADLINE,
               f"the worker did not report the outage: {stack.log('worker.log')[-2000:]}")
    run.phase = "restarting"
    stack.pg.restart_after_stop()  # the same port: kalem's pools reconnect to it on their own
    finish_clients(stack, run, threads, "did not become ready again after the restart")

    # Liveness stays up; readiness says why nothing works.
    for base, path, response in probes:
        if path == "/healthz":
            assert response.status_code == 200 and response.json() == {"status": "ok"}, (base, response.text)
        else:
            assert response.status_code == 503, (base, response.text)
            assert response.json()["error"]["code"] == "database_unavailable" and response.headers["retry-after"]

    # Never a hang, never a 500: every answer is a success, a refusal the client caused, or the clear 503.
    outcomes = run.outcomes
    assert [o for o in outcomes if o.error] == [], "transport errors or client timeouts"
    assert [(o.op.kind, o.status, o.body) for o in outcomes if o.status is not None and o.status >= 500
            and not _is_database_unavailable(o)] == []
    # Before the stop: everything acknowledged.
    calm = [o for o in outcomes if o.started == o.ended == "before"]
    assert len(calm) >= CLIENTS * BEFORE
    assert [(o.op.kind, o.status, o.body) for o in calm if not _acknowledged(o)] == []
    # While it was down: every request, on every face and both servers, got the clear 503.
    down = [o for o in outcomes if o.started == "down"]
    assert len(down) == CLIENTS * DURING
    assert [(o.op.kind, o.status, o.body, o.retry_after) for o in down if not _is_database_unavailable(o)] == []
    assert {o.op.kind for o in down} == set(KINDS) and {o.op.server for o in down} == {0, 1}
    # In flight at the stop or just after the restart: acknowledged or the clear 503 (checked above), or
    # a replay's 409 while a dead request's claim lasts; and nothing else.
    assert [(o.op.kind, o.status, o.body) for o in outcomes if o.status is not None and o.status < 500
            and not _acknowledged(o) and _code(o) != "idempotency_key_in_use"] == []

    _assert_everything_applied_once(stack, mode, clients)
    _assert_the_outbox_drains(stack)
    for name, process in (("server 0", stack.servers[0]), ("server 1", stack.servers[1]),
                          ("worker", stack.worker)):
        assert process.poll() is None, f"{name} exited during the outage"
    for name in ("server0.log", "server1.log", "worker.log"):
        assert "Traceback" not in stack.log(name), stack.log(name)[-3000:]


def start_clients(stack: Stack, run: Run) -> tuple[list[Client], list[threading.Thread]]:
    """The clients, each on its own home order, running until they got through the first requests."""
    homes = _homes(stack, run.mode)
    clients = [Client(run, c, homes[c], stack.bases) for c in range(CLIENTS)]
    threads = [threading.Thread(target=client, name=f"{run.mode}-client-{c}", daemon=True)
               for c, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    wait_until(lambda: all(run.count(c, "before") >= BEFORE for c in range(CLIENTS)) or run.failures,
               PHASE_DEADLINE, "the clients did not get through the first requests")
    assert not run.failures, run.failures
    return clients, threads


def finish_clients(stack: Stack, run: Run, threads: list[threading.Thread], not_ready: str) -> None:
    """Once every server is ready again: the clients settle what is pending, send their last requests, end."""
    for n, base in enumerate(stack.bases):
        wait_until(lambda base=base: _answers(base, "/readyz") == 200, RECOVERY_DEADLINE, f"server {n} {not_ready}")
    run.phase = "after"
    run.restarted.set()
    for thread in threads:
        thread.join(RECOVERY_DEADLINE + PHASE_DEADLINE)
        assert not thread.is_alive(), f"{thread.name} did not finish"
    assert not run.failures, run.failures


def _assert_everything_applied_once(stack: Stack, mode: str, clients: list[Client]) -> None:
    with httpx.Client(base_url=stack.bases[1], headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as api:
        for client in clients:
            home = api.get(f"/v1/orders/{client.home.number}").json()
            lines = {line["line_id"]: line for line in home["lines"]}
            # Every cancel was acknowledged in the end, each exactly once (a retry applies or replays).
            assert lines[client.home.native_line]["cancelled_quantity"] == client.issued.get("cancel", 0)
            assert lines[client.home.hebiar_line]["cancelled_quantity"] == client.issued.get("hebiar", 0)
            for number in client.orders:
                taken = api.get(f"/v1/orders/{number}")
                assert taken.status_code == 200, f"acknowledged order {number} is missing: {taken.text}"
                lines.update({line["line_id"]: line for line in taken.json()["lines"]})
            for line in lines.values():
                assert sum(line["ledger"].values()) == line["quantity"], line
    numbers = {n for (n,) in stack.sql("SELECT order_number FROM orders WHERE order_number LIKE :p", p=f"{mode}-%")}
    assert numbers == {n for c in clients for n in [*c.orders, c.home.number]}  # none lost, none extra
    # Events per order: 1..last_sequence, no gap, no duplicate (across both outages so far).
    gaps = stack.sql("SELECT o.order_number, o.last_sequence, count(e.id), count(DISTINCT e.sequence), "
                     "coalesce(min(e.sequence), 0), coalesce(max(e.sequence), 0) FROM orders o "
                     "LEFT JOIN events e ON e.order_id = o.id GROUP BY o.order_number, o.last_sequence "
                     "HAVING NOT (count(e.id) = o.last_sequence AND count(DISTINCT e.sequence) = o.last_sequence "
                     "AND (o.last_sequence = 0 OR (min(e.sequence) = 1 AND max(e.sequence) = o.last_sequence)))")
    assert gaps == []
    assert stack.sql("SELECT principal, key FROM idempotency_keys WHERE state <> 'done'") == []


def _assert_the_outbox_drains(stack: Stack) -> None:
    def open_deliveries() -> int:
        return stack.sql("SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'")[0][0]

    wait_until(lambda: open_deliveries() == 0, DRAIN_DEADLINE,
               f"the worker did not drain the outbox: {stack.log('worker.log')[-2000:]}", pause=0.25)
    events = {e for (e,) in stack.sql("SELECT id FROM events")}
    delivered = {e for (e,) in stack.sql("SELECT event_id FROM webhook_deliveries")}
    assert delivered == events  # one subscription to every event: every event had its delivery
    with stack.receiver.lock:
        received = set(stack.receiver.seen)
    assert events <= received, f"{len(events - received)} events never reached the receiver"


def test_the_worker_backs_off_after_database_errors() -> None:
    """The wait doubles after each database error in a row, up to a cap: no busy loop while it is down."""
    waits = [backoff(n) for n in range(1, 12)]
    assert waits[0] > 0 and waits == sorted(waits) and waits[-1] == BACKOFF_CAP_SECONDS
    assert all(later in (2 * earlier, BACKOFF_CAP_SECONDS) for earlier, later in itertools.pairwise(waits))
