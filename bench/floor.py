"""The floor: a minimal raw-ASGI app doing a direct cancel's transaction shape, beside pgbench.

What any Python web service could reach on this machine for a cancel's work, with nothing of kalem's
around it: no framework, no middleware, no domain, no authentication. Each request
`POST /v1/orders/{n}/cancellations` (the same wrk script and the same loaded database as
bench/cancel.py) runs one transaction on psycopg's async connection on the event loop:
`SELECT … FOR UPDATE` of the order, `UPDATE` of its body and version, `INSERT` of one event, `COMMIT`,
and answers the order's body as JSON. kalem's figures are read against this one and pgbench's, all
measured in the same run on the same PostgreSQL.

The same cancel is also measured as a compare-and-swap (`FLOOR_SHAPE=cas`): in autocommit, the order
read without a lock, then one statement that updates it at the version read and appends its event
(nothing when the version moved: then read again and retry). Two round trips instead of five, and
no explicit transaction: what the round trips and the row lock of kalem's transaction shape cost.

    .venv/bin/python bench/floor.py --seconds 6 --warmup 2 --pgbench-seconds 6

Serving (started by the benchmark itself): `uvicorn --app-dir bench floor:app --workers 2` with
`FLOOR_DATABASE_URL` set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

_PATH = re.compile(r"^/v1/orders/([^/]+)/cancellations$")
_POOL = int(os.environ.get("FLOOR_POOL_SIZE", "10"))
_CAS = os.environ.get("FLOOR_SHAPE", "locked") == "cas"   # see the module docstring
_LOCK = "SELECT id, seller_id, version, last_sequence, body FROM orders WHERE order_number = %s FOR UPDATE"
_SAVE = ("UPDATE orders SET version = %s, last_sequence = %s, updated_at = %s, body = %s "
         "WHERE id = %s AND version = %s")
_EVENT = ("INSERT INTO events (id, order_id, seller_id, sequence, type, occurred_at, actor, data) "
          "VALUES (%s, %s, %s, %s, 'floor.cancelled', %s, 'operator:floor', %s)")


class _Connections:
    """A fixed set of psycopg async connections, handed out one per request."""

    def __init__(self) -> None:
        self.free: asyncio.Queue[Any] = asyncio.Queue()

    @contextlib.asynccontextmanager
    async def borrowed(self) -> AsyncIterator[Any]:
        conn = await self.free.get()
        try:
            yield conn
        finally:
            self.free.put_nowait(conn)

    async def open(self, url: str) -> None:
        import psycopg
        for _ in range(_POOL):
            self.free.put_nowait(await psycopg.AsyncConnection.connect(url, autocommit=_CAS))


_connections = _Connections()


_READ = "SELECT id, seller_id, version, last_sequence, body FROM orders WHERE order_number = %s"
_SWAP = ("WITH saved AS (UPDATE orders SET version = %(next)s, last_sequence = %(sequence)s, updated_at = %(now)s, "
         "body = %(body)s WHERE id = %(id)s AND version = %(version)s RETURNING id, seller_id) "
         "INSERT INTO events (id, order_id, seller_id, sequence, type, occurred_at, actor, data) "
         "SELECT %(event)s, id, seller_id, %(sequence)s, 'floor.cancelled', %(now)s, 'operator:floor', %(data)s "
         "FROM saved")


def _cancelled(body: str, version: int, request: dict[str, Any]) -> str:
    order = json.loads(body)
    order["version"] = version + 1
    order["floor_cancels"] = order.get("floor_cancels", 0) + len(request["lines"])
    return json.dumps(order)


async def _swap(number: str, request: dict[str, Any]) -> bytes | None:
    """The cancel as a compare-and-swap in autocommit: read, then write at the version read, else again."""
    async with _connections.borrowed() as conn, conn.cursor() as cur:
        while True:
            await cur.execute(_READ, (number,), prepare=True)
            row = await cur.fetchone()
            if row is None:
                return None
            order_id, _, version, sequence, body = row
            encoded = _cancelled(body, version, request)
            await cur.execute(_SWAP, {"next": version + 1, "sequence": sequence + 1, "now": datetime.now(UTC),
                                      "body": encoded, "id": order_id, "version": version,
                                      "event": uuid.uuid4().hex, "data": json.dumps(request)}, prepare=True)
            if cur.rowcount == 1:
                return encoded.encode()


async def _cancel(number: str, request: dict[str, Any]) -> bytes | None:
    if _CAS:
        return await _swap(number, request)
    async with _connections.borrowed() as conn, conn.transaction(), conn.cursor() as cur:
        await cur.execute(_LOCK, (number,), prepare=True)
        row = await cur.fetchone()
        if row is None:
            return None
        order_id, seller_id, version, sequence, body = row
        encoded = _cancelled(body, version, request)
        now = datetime.now(UTC)
        await cur.execute(_SAVE, (version + 1, sequence + 1, now, encoded, order_id, version), prepare=True)
        await cur.execute(_EVENT, (uuid.uuid4().hex, order_id, seller_id, sequence + 1, now,
                                   json.dumps(request)), prepare=True)
    return encoded.encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await _connections.open(os.environ["FLOOR_DATABASE_URL"])
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    status, answer = 404, b'{"error":"not found"}'
    match = _PATH.match(scope["path"])
    if scope["path"] == "/healthz":
        status, answer = 200, b"{}"
    elif match and scope["method"] == "POST":
        found = await _cancel(match.group(1), json.loads(body))
        if found is not None:
            status, answer = 200, found
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


# --- the benchmark ---------------------------------------------------------------------------------

@contextlib.contextmanager
def floor_server(database_url: str, *, workers: int, shape: str = "locked") -> Iterator[str]:
    """The floor under uvicorn in its own process group, in this session (as `common.kalem_server`);
    `shape`: "locked" (kalem's transaction shape) or "cas" (see the module docstring)."""
    import signal

    import common
    port = common.free_port()
    workdir = tempfile.mkdtemp(prefix="kalem-floor-")
    log_path = Path(workdir) / "floor.log"
    env = {**os.environ, "FLOOR_DATABASE_URL": common.libpq_url(database_url), "FLOOR_SHAPE": shape}
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([str(common.BIN / "uvicorn"), "--app-dir", str(Path(__file__).parent), "floor:app",
                                 "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                                 "--no-access-log", "--log-level", "info"],
                                env=env, cwd=workdir, stdout=log_file, stderr=subprocess.STDOUT, process_group=0)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while log_path.read_text(errors="replace").count("Application startup complete") < workers:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the floor did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        while common._status(f"{base}/healthz") != 200:  # noqa: SLF001
            if time.monotonic() > deadline:
                raise RuntimeError("the floor is not answering")
            time.sleep(0.1)
        common.SERVER_GROUPS[base] = proc.pid
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def measure(pg: Any, url: str, orders: int, *, seconds: int, warmup: int, clients: int,
            workers: int, shape: str = "locked") -> tuple[Any, tuple[float, float]]:
    """The floor's cancels on an already loaded database: the measured run, CPU ms per cancel
    (the floor's processes, PostgreSQL). Shared with bench/cancel.py, which shows it beside kalem."""
    import common
    script = Path(__file__).resolve().parent / "cancel.lua"
    with floor_server(url, workers=workers, shape=shape) as base:
        args = (str(orders), common.ADMIN_TOKEN)
        if warmup:
            common.wrk(f"{base}/v1/orders", script, seconds=warmup, connections=clients, args=(*args, "11"))
        group = common.SERVER_GROUPS[base]
        cpu0 = common.group_cpu(group), common.postgres_cpu(pg)
        run = common.wrk(f"{base}/v1/orders", script, seconds=seconds, connections=clients, args=(*args, "12"))
        cpu1 = common.group_cpu(group), common.postgres_cpu(pg)
    if run.errors:
        raise RuntimeError(f"the floor: {run.errors} of {run.requests} cancels failed")
    per = (1000 * (cpu1[0] - cpu0[0]) / max(run.requests, 1), 1000 * (cpu1[1] - cpu0[1]) / max(run.requests, 1))
    return run, per


def main(argv: list[str] | None = None) -> int:
    import common
    from common import log
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    common.load_options(parser, seconds=20)
    args = parser.parse_args(argv)
    from kalem.store.migrate import upgrade
    load_before = os.getloadavg()[0]
    with common.postgres() as pg:
        version = common.server_version(pg)
        url = pg.createdb("floor")
        upgrade(url)
        common.load_orders_postgres(url, args.orders)
        tps_before = common.pgbench(pg, clients=args.clients, seconds=args.pgbench_seconds)
        run, cpu = measure(pg, url, args.orders, seconds=args.seconds, warmup=args.warmup, clients=args.clients,
                           workers=args.workers)
        swap, swap_cpu = measure(pg, url, args.orders, seconds=args.seconds, warmup=args.warmup,
                                 clients=args.clients, workers=args.workers, shape="cas")
        tps_after = common.pgbench(pg, clients=args.clients, seconds=args.pgbench_seconds, initialise=False)
    tps = (tps_before + tps_after) / 2
    log(f"floor: {run.throughput:.0f} cancels/s, as a compare-and-swap {swap.throughput:.0f}/s; "
        f"pgbench {tps_before:.0f} / {tps_after:.0f} tps; "
        f"ratio {run.throughput / tps:.2f} / {swap.throughput / tps:.2f}")
    if args.no_write:
        return 0
    m = common.machine()
    command = common.command_line("floor.py", argv)
    text = "\n".join([
        "## The floor: a cancel's transaction shape with nothing of kalem around it (`bench/floor.py`)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, PostgreSQL {version}. Measured "
        f"{time.strftime('%Y-%m-%d')}; {common.load_note(load_before)}.",
        "",
        f"Command: `{command}`",
        "",
        f"A raw ASGI app under uvicorn (`--workers {args.workers}`), psycopg's async connections on the event "
        "loop, no framework, middleware, domain or authentication: `SELECT … FOR UPDATE` of the order, `UPDATE` "
        "of its body, `INSERT` of one event, `COMMIT`, the body answered as JSON. The same wrk script and "
        f"database shape as bench/cancel.py ({args.orders:,} orders, {args.clients} connections, {args.warmup} s "
        f"warm-up, {args.seconds} s measured); pgbench tpcb-like right before and right after, on the same "
        "server. PostgreSQL (started as `postgres`, not through `pg_ctl`), the servers, wrk and pgbench all "
        "run in the benchmark's own session: the kernel shares the CPUs fairly between sessions (autogroup), "
        "so a process in a session of its own would get a session's share and measure another machine.",
        "",
        "Then the same cancel as a compare-and-swap in autocommit (`FLOOR_SHAPE=cas`), on the same database: "
        "the order read without a lock, then one statement that updates it at the version read and appends "
        "its event (none when the version moved: read again and retry) — two round trips instead of five "
        "(`BEGIN`, lock, `UPDATE`, `INSERT`, `COMMIT`). kalem's hot writes keep the locked shape (four round "
        "trips: the `UPDATE` and `INSERT` are one statement); this row measures what that shape costs.",
        "",
        "| | per s | p50 | p99 | / pgbench | CPU/cancel server + PG |",
        "|---|---:|---:|---:|---:|---:|",
        f"| floor | {run.throughput:,.0f} | {run.p50_ms:.1f} ms | {run.p99_ms:.1f} ms | "
        f"{run.throughput / tps:.2f} | {cpu[0]:.2f} + {cpu[1]:.2f} ms |",
        f"| floor as a compare-and-swap | {swap.throughput:,.0f} | {swap.p50_ms:.1f} ms | {swap.p99_ms:.1f} ms | "
        f"{swap.throughput / tps:.2f} | {swap_cpu[0]:.2f} + {swap_cpu[1]:.2f} ms |",
        f"| pgbench tpcb-like (before / after) | {tps_before:,.0f} / {tps_after:,.0f} | | | | |",
        "",
        f"Floor / pgbench: **{run.throughput / tps:.2f}**.",
    ])
    common.record("floor", command, text, [
        common.Figure("the floor: a cancel's transaction shape, raw ASGI", run.throughput, run.p50_ms, run.p99_ms, tps),
        common.Figure("the floor as a compare-and-swap in autocommit, raw ASGI", swap.throughput, swap.p50_ms,
                      swap.p99_ms, tps)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
