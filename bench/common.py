"""Shared helpers for the benchmarks in bench/: a tuned throwaway PostgreSQL, fast bulk loading of
orders in the repositories' own row format, a `kalem serve` subprocess, wrk and pgbench runners, and
writing one marked section of docs/performance.md.

Benchmarks are not tests: they run only through `make bench` (bench/run_all.py) or by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx

from kalem.devtools.postgres import ThrowawayPostgres, free_port
from kalem.domain.events import Actor
from kalem.domain.orders import LineSpec, OrderSpec, place_order
from kalem.store import codec

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
BIN = Path(sys.executable).parent
ADMIN_TOKEN = "bench-admin-token"  # noqa: S105 - a throwaway server's operator token
CANCEL_REASON = 136  # kalem's "customer request"
LINE_QUANTITY = 1000  # enough units that every random partial cancel (quantity 1) succeeds

# Benchmark-only server settings. fsync and synchronous_commit stay on: every commit is durable, as
# in production. A larger WAL keeps checkpoints out of the measured window of both kalem and pgbench.
PG_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB", "min_wal_size": "1GB",
               "checkpoint_timeout": "30min", "wal_buffers": "64MB", "maintenance_work_mem": "512MB",
               "effective_cache_size": "4GB", "fsync": "on", "synchronous_commit": "on"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the machine ---------------------------------------------------------------------------

def machine() -> dict[str, str]:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    return {"nproc": str(os.cpu_count()), "memory": f"{mem_kb / 1024 / 1024:.1f} GiB", "cpu": cpu,
            "python": platform.python_version(), "os": platform.platform(terse=True)}


def load_note(before: float) -> str:
    """The 1-minute load average before a benchmark started (the one at its end counts its own
    processes), and whether other work shared the CPUs then."""
    shared = before >= (os.cpu_count() or 1)
    return (f"1-minute load average {before:.1f} before the run, {os.getloadavg()[0]:.1f} at its end with the "
            "benchmark's own processes" + (" (other work shared the CPUs: compare ratios to pgbench more than "
                                           "rates)" if shared else ""))


# --- docs/performance.md: one marked section per benchmark -----------------------------------

_DOC_HEAD = """# Performance

Measured by `make bench`: bench/run_all.py runs every bench/*.py that defines `main()`, each with the
short runs listed in its `RUNS` (a few seconds measured per figure, pgbench tpcb-like on the same
server in the same run; all of it in under ten minutes on 2 CPUs), and writes docs/performance.json
and the sections below. Each benchmark owns one marked section and rewrites only that section; each
names its exact command and the machine, and the figures depend on both. Figures dated 2026-12-01
were taken while seven engineers shared the 2-CPU machine (load averages of 10 to 29): compare CPU
per request, and ratios measured side by side, more than throughput. Benchmarks are not part of
`make test`.
"""


def write_section(name: str, markdown: str, doc: Path = DOC, *, first: bool = False) -> None:
    """Replace (or add) the `<!-- bench:NAME -->` section, leaving every other section alone; a new
    section goes last, or right after the head with `first`.

    Serialised with an advisory lock on the file, so benchmarks may finish concurrently."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    doc.parent.mkdir(parents=True, exist_ok=True)
    with open(doc, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read() or _DOC_HEAD
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _m: block, text, count=1)
        elif first:
            head, sep, rest = text.partition("<!-- bench:")
            text = head.rstrip("\n") + "\n\n" + block + "\n\n" + sep + rest
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        handle.seek(0)
        handle.truncate()
        handle.write(text)
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)


# --- the command line every load benchmark shares ------------------------------------------------

def quick() -> bool:
    """`KALEM_BENCH_QUICK=1`: shorter runs (bench/run_all.py's quick look)."""
    return os.environ.get("KALEM_BENCH_QUICK") == "1"


def load_options(parser: argparse.ArgumentParser, *, seconds: int = 30, workers: bool = True) -> None:
    """The wrk/pgbench options of a load benchmark; `seconds` is the full run's measured time."""
    short = quick()
    parser.add_argument("--seconds", type=int, default=10 if short else seconds)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    if workers:
        parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pgbench-seconds", type=int, default=10 if short else seconds)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")


def command_line(script: str, argv: list[str] | None) -> str:
    """How to run this benchmark again, as docs/performance.md names it."""
    return f".venv/bin/python bench/{script}" + (" " + shlex.join(argv) if argv else "")


def heading(title: str, script: str, argv: list[str] | None, load_before: float) -> list[str]:
    """A section's first lines: its title, then the command, day, machine and load it was measured with."""
    m = machine()
    return [f"## {title} (`bench/{script}`)", "",
            f"`{command_line(script, argv)}` — {datetime.now().date().isoformat()}, {m['cpu']}, {m['nproc']} CPUs, "
            f"{load_note(load_before)}.", ""]


def publish(section: str, lines: list[str], *, write: bool) -> None:
    """A section's text, printed, and written into docs/performance.md if `write`."""
    text = "\n".join(lines)
    print(text)
    if write:
        write_section(section, text)


# --- the summary: one row per measured operation, from every benchmark ------------------------

RESULTS = ROOT / "docs" / "performance.json"


@dataclass(frozen=True)
class Figure:
    """One operation's headline figures, for the summary table at the top of docs/performance.md."""

    operation: str
    per_second: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    pgbench_tps: float | None = None
    database: str = "PostgreSQL"


def record(bench: str, command: str, text: str, figures: list[Figure]) -> None:
    """Write `bench`'s section, keep its figures in docs/performance.json and redraw the summary from all."""
    write_section(bench, text)
    import json
    with open(RESULTS, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        results = json.loads(handle.read() or "{}")
        results[bench] = {"command": command, "measured": time.strftime("%Y-%m-%d"),
                          "figures": [asdict(f) for f in figures]}
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(results, indent=1, sort_keys=True) + "\n")
        fcntl.flock(handle, fcntl.LOCK_UN)
    write_section("summary", summary(results), first=True)


def summary(results: dict) -> str:
    def ms(v: float | None) -> str:
        return "" if v is None else f"{v:.1f} ms"

    m = machine()
    out = ["## Summary", "",
           f"Every figure below is from `make bench` on {m['nproc']} CPUs ({m['cpu']}), with the load generator, "
           "kalem and the database on the same machine; each benchmark's own section below names the exact "
           "command, the setup and what was checked. pgbench (tpcb-like, same server, same run) is the yardstick "
           "for what the machine's PostgreSQL can commit; the floor (`bench/floor.py`: a raw ASGI app doing a "
           "cancel's transaction shape and nothing else, beside its own pgbench) is what this machine's server "
           "loop, driver and PostgreSQL allow at most, so each ratio reads against the floor's in the last "
           "column.", "",
           "| operation | database | per second | p50 | p99 | pgbench tps | kalem / pgbench | floor / pgbench | "
           "benchmark | measured |",
           "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    floor = _floor_ratio(results)
    for bench in sorted(results):
        entry = results[bench]
        for f in entry["figures"]:
            per, tps = f["per_second"], f.get("pgbench_tps")
            yardstick = ("", "", "") if tps is None else (f"{tps:,.0f}", f"{per / tps:.2f}", floor)
            out.append(f"| {f['operation']} | {f['database']} | {per:,.0f} | {ms(f.get('p50_ms'))} | "
                       f"{ms(f.get('p99_ms'))} | {' | '.join(yardstick)} | `{entry['command'].split()[1]}` | "
                       f"{entry['measured']} |")
    return "\n".join(out)


def _floor_ratio(results: dict) -> str:
    """bench/floor.py's own ratio to its pgbench, as the summary's floor column shows it."""
    for f in results.get("floor", {}).get("figures", []):
        if f.get("pgbench_tps"):
            return f"{f['per_second'] / f['pgbench_tps']:.2f}"
    return ""


# --- PostgreSQL --------------------------------------------------------------------------------

@contextlib.contextmanager
def postgres(settings: dict[str, str] | None = None) -> Iterator[ThrowawayPostgres]:
    # `postgres` itself, not `pg_ctl`: in this session, as every process of a benchmark (see `group_cpu`)
    with ThrowawayPostgres(settings={**PG_SETTINGS, **(settings or {})}, same_session=True) as pg:
        yield pg


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def server_version(pg: ThrowawayPostgres) -> str:
    import psycopg
    with psycopg.connect(libpq_url(pg.url)) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])


# --- bulk loading orders -------------------------------------------------------------------------

def order_number(i: int) -> str:
    return f"B{i:09d}"


def seller_of(i: int, sellers: int) -> str:
    return f"seller{i % sellers:03d}"


@dataclass(frozen=True)
class _Templates:
    """One order, placed through the domain and encoded by `codec`, with placeholders for what varies."""

    order: str
    lines: tuple[str, ...]
    event: str
    created: datetime


_N, _S, _ID, _EID, _HASH = "@N@", "@S@", "@ID@", "@EID@", "@HASH@"


def _spec(number: str, seller: str) -> OrderSpec:
    return OrderSpec(
        seller_id=seller, order_number=number, currency="TRY",
        lines=(LineSpec(f"{number}-a", "TS-BLUE-M", "T-Shirt", LINE_QUANTITY, Decimal("199.90"), Decimal("20.00"),
                        Decimal("20"), "p-1"),
               LineSpec(f"{number}-b", "MUG-01", "Mug", LINE_QUANTITY, Decimal("49.90"), Decimal("0"),
                        Decimal("20"), "p-2")),
        shipping_amount=Decimal("29.90"), account_order_number=f"AO-{number}", channel="bench")


def _rows(number: str, seller: str, order_id: str,
          now: datetime) -> tuple[list[object], list[list[object]], list[object]]:
    """The rows `OrderRepository.add` and `EventRepository.append` write for one placed order."""
    spec = _spec(number, seller)
    fields = asdict(spec)
    fields.pop("destination_country", None)  # as kalem.app.orders.place_order does when it is None
    intake = hashlib.sha256(codec.dumps(fields).encode()).hexdigest()
    order, events = place_order(spec, order_id=order_id, actor=Actor("operator", "bench"), now=now)
    (event,) = events
    order_row = [order.id, order.seller_id, order.order_number, order.account_order_number, order.status.value,
                 order.version, order.last_sequence, intake, order.created_at, order.updated_at,
                 codec.order_body(order)]
    line_rows = [[order.seller_id, ln.line_id, order.id] for ln in order.lines]
    event_row = [_EID, event.order_id, event.seller_id, event.sequence, event.type, event.occurred_at, event.actor,
                 codec.dumps(event.data)]
    return order_row, line_rows, event_row


def _copy_text(values: list[object]) -> str:
    out = []
    for v in values:
        text = "\\N" if v is None else v.isoformat() if isinstance(v, datetime) else str(v)
        if any(c in text for c in "\\\t\n\r") and text != "\\N":
            raise ValueError(f"template value needs COPY escaping: {text!r}")
        out.append(text)
    return "\t".join(out) + "\n"


def _templates(now: datetime) -> _Templates:
    order_row, line_rows, event_row = _rows(_N, _S, _ID, now)
    order_row[7] = _HASH
    return _Templates(_copy_text(order_row), tuple(_copy_text(r) for r in line_rows), _copy_text(event_row), now)


def _intake_template(now: datetime) -> str:
    fields = asdict(_spec(_N, _S))
    fields.pop("destination_country", None)
    return codec.dumps(fields)


def _fill(template: str, number: str, seller: str, order_id: str, extra: dict[str, str]) -> str:
    text = template.replace(_N, number).replace(_S, seller).replace(_ID, order_id)
    for k, v in extra.items():
        text = text.replace(k, v)
    return text


def _check_templates(t: _Templates, intake: str) -> None:
    """The fast path must write exactly what the domain and codec would: compare one order."""
    number, seller, oid = order_number(7), seller_of(7, 10), "ord_check"
    order_row, line_rows, event_row = _rows(number, seller, oid, t.created)
    event_row[0] = "eid"
    got_hash = hashlib.sha256(_fill(intake, number, seller, oid, {}).encode()).hexdigest()
    assert got_hash == order_row[7], "intake hash template differs from kalem.app.orders"
    assert _fill(t.order, number, seller, oid, {_HASH: got_hash}) == _copy_text(order_row)
    assert [_fill(x, number, seller, oid, {}) for x in t.lines] == [_copy_text(r) for r in line_rows]
    assert _fill(t.event, number, seller, oid, {_EID: "eid"}) == _copy_text(event_row)


ORDER_COLUMNS = ("id, seller_id, order_number, account_order_number, status, version, last_sequence, "
                 "intake_hash, created_at, updated_at, body")
EVENT_COLUMNS = "id, order_id, seller_id, sequence, type, occurred_at, actor, data"


def load_orders_postgres(url: str, count: int, *, sellers: int = 100, batch: int = 50_000) -> float:
    """COPY `count` orders (orders + order_lines + events + sellers) in batches; returns seconds taken.

    Each order is placed once through the domain and `codec`, then repeated with its number, seller
    and ids substituted (checked against the real encoding first), so a million orders load in minutes."""
    import psycopg
    started = time.perf_counter()
    now = datetime.now(UTC)
    t = _templates(now)
    intake = _intake_template(now)
    _check_templates(t, intake)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")  # the load only; the benchmark commits durably
        with conn.transaction(), conn.cursor() as cur, cur.copy("COPY sellers (id, created_at) FROM STDIN") as cp:
            for s in range(sellers):
                cp.write(f"{seller_of(s, sellers)}\t{now.isoformat()}\n")
        for start in range(0, count, batch):
            stop = min(count, start + batch)
            orders, lines, events = [], [], []
            for i in range(start, stop):
                number, seller = order_number(i), seller_of(i, sellers)
                oid = f"ord_{uuid.uuid4().hex[:26]}"
                digest = hashlib.sha256(_fill(intake, number, seller, oid, {}).encode()).hexdigest()
                orders.append(_fill(t.order, number, seller, oid, {_HASH: digest}))
                lines.extend(_fill(x, number, seller, oid, {}) for x in t.lines)
                events.append(_fill(t.event, number, seller, oid, {_EID: uuid.uuid4().hex}))
            with conn.transaction(), conn.cursor() as cur:
                for sql, rows in ((f"COPY orders ({ORDER_COLUMNS}) FROM STDIN", orders),
                                  ("COPY order_lines (seller_id, line_id, order_id) FROM STDIN", lines),
                                  (f"COPY events ({EVENT_COLUMNS}) FROM STDIN", events)):
                    with cur.copy(sql) as cp:
                        for k in range(0, len(rows), 5000):
                            cp.write("".join(rows[k:k + 5000]))
            if stop % 200_000 == 0 or stop == count:
                log(f"loaded {stop:,} orders ({time.perf_counter() - started:.0f} s)")
        conn.execute("VACUUM ANALYZE orders")
        conn.execute("VACUUM ANALYZE order_lines")
        conn.execute("VACUUM ANALYZE events")
        conn.execute("CHECKPOINT")  # the measured window does not pay for the load's dirty pages
    return time.perf_counter() - started


def settle(url: str) -> None:
    """Vacuum and analyse the tables a write benchmark changes, then checkpoint, as pgbench vacuums its
    own tables before each run: a measured run then pays less for the dead rows and dirty pages of the
    run before it, background work that otherwise lands in whichever run comes next."""
    import psycopg
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for table in ("orders", "order_lines", "events", "refunds", "webhook_deliveries", "idempotency_keys"):
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.execute("CHECKPOINT")


def load_orders_repositories(url: str, count: int, *, sellers: int = 100, quantity: int | None = None) -> float:
    """The same orders placed through the repositories themselves, on any database: SQLite has no COPY,
    and 10k take seconds. `quantity` replaces the units per line."""
    from kalem.store.db import Database
    from kalem.store.uow import UnitOfWork
    started = time.perf_counter()
    now = datetime.now(UTC)
    db = Database.connect(url)
    try:
        for start in range(0, count, 2000):
            uow = UnitOfWork(db)
            with uow:
                for s in range(sellers):
                    uow.sellers.ensure(seller_of(s, sellers), now)
                for i in range(start, min(count, start + 2000)):
                    spec = _spec(order_number(i), seller_of(i, sellers))
                    if quantity is not None:
                        spec = replace(spec, lines=tuple(replace(ln, quantity=quantity) for ln in spec.lines))
                    fields = asdict(spec)
                    fields.pop("destination_country", None)
                    order, events = place_order(spec, order_id=f"ord_{uuid.uuid4().hex[:26]}",
                                                actor=Actor("operator", "bench"), now=now)
                    uow.orders.add(order, hashlib.sha256(codec.dumps(fields).encode()).hexdigest())
                    uow.events.append(events)
                uow.commit()
    finally:
        db.dispose()
    return time.perf_counter() - started


# --- CPU accounting: robust to other load on the machine, unlike throughput -----------------------

def best_cpu_ms(calls: dict[int, Callable[[], object]], *, repeat: int, rounds: int) -> dict[int, float]:
    """Milliseconds of CPU per call of each variant, in-process: rounds alternate between the variants
    and the best round counts, so other work on the machine (which only ever adds time) weighs on
    every variant alike."""
    best = dict.fromkeys(calls, float("inf"))
    for call in calls.values():
        call()  # warm-up
    for _ in range(rounds):
        for key, call in calls.items():
            started = time.process_time()
            for _ in range(repeat):
                call()
            best[key] = min(best[key], (time.process_time() - started) * 1000 / repeat)
    return best


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _processes() -> list[tuple[int, int, int]]:
    """(pid, ppid, process group) of every process."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            out.append((int(entry.name), int(fields[1]), int(fields[2])))
    return out


def group_cpu(pgid: int) -> float:
    """CPU seconds used so far by the live processes of a process group (a `kalem serve` and its workers).

    Each server gets a process group of its own, not a session: every process of a benchmark stays in
    the benchmark's session, since the kernel shares the CPUs fairly between sessions (autogroup) and
    a server in a session of its own would get a session's share of them, not a process's."""
    return sum(_ticks(pid) for pid, _, g in _processes() if g == pgid) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(pg: ThrowawayPostgres) -> float:
    """CPU seconds used so far by a PostgreSQL server: its postmaster, its live children, and the
    children that have exited (a client's backend ends with its connection)."""
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    pids = [postmaster] + [pid for pid, ppid, _ in _processes() if ppid == postmaster]
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    exited = int(fields[13]) + int(fields[14])  # cutime + cstime: children the postmaster has reaped
    return (sum(_ticks(pid) for pid in pids) + exited) / os.sysconf("SC_CLK_TCK")


# --- kalem serve ---------------------------------------------------------------------------------

SERVER_GROUPS: dict[str, int] = {}  # base URL -> process group of the `kalem serve` behind it

@contextlib.contextmanager
def kalem_server(database_url: str, *, workers: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """`kalem serve` in its own process group, in this session (see `group_cpu`); ready once every worker
    has started its application
    (uvicorn's /healthz answers as soon as the first one has, which would measure one worker)."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="kalem-bench-")
    log_path = Path(workdir) / "serve.log"
    environment = {**os.environ, "KALEM_DATABASE_URL": database_url, "KALEM_ADMIN_TOKEN": ADMIN_TOKEN,
                   "KALEM_SECRET_KEY": "bench-secret-key-bench-secret-key",
                   # info, production's default: debug costs a cancel 0.17 ms of CPU (docs/performance.md)
                   "KALEM_LOG_LEVEL": "info",
                   "KALEM_RATE_LIMIT_PER_SECOND": "0",  # measure the server, not the per-token limiter
                   **(env or {})}
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([str(BIN / "kalem"), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(workers)], env=environment, cwd=workdir,
                                stdout=log_file, stderr=subprocess.STDOUT, process_group=0)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while _started(log_path.read_text(errors="replace")) < workers:
            if proc.poll() is not None or "Traceback" in log_path.read_text(errors="replace"):
                raise RuntimeError(f"kalem serve failed:\n{log_path.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("kalem serve did not start its workers in 120 s")
            time.sleep(0.2)
        # uvicorn logs "startup complete" a moment before its socket listens
        while _status(f"{base}/healthz") != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("kalem serve is not healthy")
            time.sleep(0.1)
        SERVER_GROUPS[base] = proc.pid  # process_group=0: its pid is the group's id
        yield base
        if "Traceback" in log_path.read_text(errors="replace"):  # e.g. a worker died and was replaced
            raise RuntimeError(f"kalem serve logged an error:\n{log_path.read_text(errors='replace')[-3000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _started(log_text: str) -> int:
    """API processes that have built their app: kalem's line at info level, or uvicorn's own at debug
    (older kalem, which the observability benchmark runs, logs only the latter)."""
    return max(len(re.findall(r"API process \d+ ready", log_text)), log_text.count("Application startup complete"))


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.TransportError:
        return None


# --- load generators -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def ok(self) -> int:
        return self.requests - self.errors

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds


def wrk(url: str, script: Path, *, seconds: int, connections: int, threads: int = 2,
        args: tuple[str, ...] = ()) -> Run:
    """wrk (C, event loop) costs far less CPU than a Python client, which would steal from the server."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s",
                          "-s", str(script), url, "--", *args], capture_output=True, text=True, check=True).stdout
    m = re.search(r"BENCH (.*)", out)
    if not m:
        raise RuntimeError(f"no BENCH line in wrk output:\n{out}")
    f = dict(kv.split("=") for kv in m.group(1).split())
    errors = sum(int(f[k]) for k in ("status", "connect", "read", "write", "timeout"))
    return Run(int(f["requests"]), errors, int(f["duration_us"]) / 1e6, int(f["p50_us"]) / 1e3,
               int(f["p90_us"]) / 1e3, int(f["p99_us"]) / 1e3, int(f["max_us"]) / 1e3)


def pgbench(pg: ThrowawayPostgres, *, database: str = "pgbench", scale: int = 16, clients: int = 16,
            threads: int = 2, seconds: int = 30, initialise: bool = True) -> float:
    """pgbench's built-in tpcb-like with `clients` clients; returns tps."""
    common = ["-h", "127.0.0.1", "-p", str(pg.port), "-U", "kalem"]
    exe = str(pg.bin / "pgbench") if (pg.bin / "pgbench").exists() else "pgbench"
    if initialise:
        pg.createdb(database)
        subprocess.run([exe, *common, "-i", "-q", "-s", str(scale), database], check=True, capture_output=True)
    out = subprocess.run([exe, *common, "-c", str(clients), "-j", str(threads), "-T", str(seconds), "-b", "tpcb-like",
                          database], check=True, capture_output=True, text=True).stdout
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if not m:
        raise RuntimeError(f"no tps in pgbench output:\n{out}")
    return float(m.group(1))
