"""Webhook delivery throughput and commit-to-delivery latency on PostgreSQL.

Throughput: N orders are bulk-loaded (one `order.placed` event each) and one pending delivery per
event is queued to a local receiver (uvicorn, a separate process answering 200); then 1 or 2
`kalem worker` processes start and the clock runs until every delivery is `delivered`.
Latency: with one worker idle-polling, a producer commits events through the real outbox path
(`EventRepository.append` in a unit of work) at a steady rate; latency = the receiver's arrival time
minus the producer's commit time (same machine clock), p50/p99.

    .venv/bin/python bench/webhooks.py                 # writes the "webhooks" section of docs/performance.md
    .venv/bin/python bench/webhooks.py --deliveries 5000 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from common import log  # noqa: E402

from kalem.devtools.postgres import free_port  # noqa: E402
from kalem.domain.webhooks import OPEN_STATUSES  # noqa: E402
from kalem.store.webhooks import sql_in  # noqa: E402

ANY_OPEN = sa.text(f"SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE status IN {sql_in(OPEN_STATUSES)})")


def receiver_app():  # type: ignore[no-untyped-def]
    """A minimal ASGI receiver: records (webhook-id, arrival time) and the connections the requests came
    over; GET returns them."""
    arrivals: list[tuple[str, float]] = []
    clients: set[tuple[str, int]] = set()

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        if scope["method"] == "POST":
            while (await receive()).get("more_body"):
                pass
            hook_id = dict(scope["headers"]).get(b"webhook-id", b"").decode()
            arrivals.append((hook_id, time.time()))
            clients.add(scope["client"])
            body = b"ok"
        else:
            body = json.dumps({"count": len(arrivals), "connections": len(clients)} if scope["path"] == "/count"
                              else arrivals).encode()
            if scope["path"] == "/reset":
                arrivals.clear()
                clients.clear()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return app


def start_receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--receiver", str(port)], process_group=0)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/count", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("receiver did not start")


def workers(url: str, n: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "KALEM_DATABASE_URL": url, "KALEM_WEBHOOK_ALLOW_PRIVATE_URLS": "true"}
    procs = [subprocess.Popen([str(common.BIN / "kalem"), "worker"], env=env, stderr=subprocess.PIPE,
                              process_group=0) for _ in range(n)]
    for p in procs:  # ready (imports done, polling) before the clock starts
        assert b"delivering" in p.stderr.readline()  # type: ignore[union-attr]
        # Keep reading what it logs: a full pipe would block the worker's next write, and its exit.
        threading.Thread(target=p.stderr.read, daemon=True).start()  # type: ignore[union-attr]
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(20)


@dataclass
class Run:
    rate: float           # deliveries/s
    worker_ms: float      # CPU ms per delivery: the worker processes, the receiver, PostgreSQL
    receiver_ms: float
    postgres_ms: float
    connections: int      # connections the deliveries came over


def cpu(pids: list[int]) -> float:
    """CPU seconds so far of processes each started in a process group of its own."""
    return sum(common.group_cpu(pid) for pid in pids)


def throughput(engine: sa.Engine, pg: common.ThrowawayPostgres, receiver: tuple[int, str], n_workers: int) -> Run:
    """Workers start idle; N deliveries are queued in one transaction; the clock runs from that commit
    until every delivery is recorded `delivered`. CPU is counted over the same span."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM webhook_attempts"))
        conn.execute(sa.text("DELETE FROM webhook_deliveries"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE webhook_deliveries"))
    httpx.get(f"{receiver[1]}/reset")
    procs = workers(pg.url, n_workers)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO webhook_deliveries (subscription_id, event_id, event_position, order_id, sequence, "
                "status, attempts, next_attempt_at, created_at) SELECT 'bench', id, position, order_id, sequence, "
                "'pending', 0, now(), now() FROM events"))
            total = conn.execute(sa.text("SELECT count(*) FROM webhook_deliveries")).scalar_one()
        started = time.perf_counter()
        cpu0 = cpu([p.pid for p in procs]), cpu([receiver[0]]), common.postgres_cpu(pg)
        # Done when no delivery is open: a probe of the partial "due" index, not a scan of the table
        # (that would cost PostgreSQL more CPU than the deliveries it is waiting for).
        while True:
            with engine.connect() as conn:
                if not conn.execute(ANY_OPEN).scalar_one():
                    break
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        cpu1 = cpu([p.pid for p in procs]), cpu([receiver[0]]), common.postgres_cpu(pg)
        with engine.connect() as conn:
            delivered = conn.execute(sa.text("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'"
                                             )).scalar_one()
        assert delivered == total, f"{total - delivered} deliveries not delivered"
    finally:
        stop(procs)
    run = Run(total / elapsed, *(1000 * (b - a) / total for a, b in zip(cpu0, cpu1, strict=True)),
              connections=httpx.get(f"{receiver[1]}/count").json()["connections"])
    log(f"{n_workers} worker(s): {total:,} deliveries in {elapsed:.2f} s = {run.rate:,.0f}/s over {run.connections} "
        f"connections; CPU per delivery: workers {run.worker_ms:.2f} ms, receiver {run.receiver_ms:.2f} ms, "
        f"PostgreSQL {run.postgres_ms:.2f} ms")
    return run


def latency(db_url: str, receiver: str, events: int, rate: float) -> tuple[float, float]:
    from kalem.bootstrap import database
    from kalem.config import Settings
    from kalem.domain.events import Event
    from kalem.store.uow import UnitOfWork
    db = database(Settings(database_url=db_url))
    with db.engine.connect() as conn:
        orders = conn.execute(sa.text("SELECT id, seller_id, order_number FROM orders LIMIT :n"), {"n": events}).all()
    httpx.get(f"{receiver}/reset")
    procs = workers(db_url, 1)
    committed: dict[str, float] = {}
    try:
        for k, (oid, seller, number) in enumerate(orders):
            with UnitOfWork(db) as uow:
                [eid] = uow.events.append([Event("bench.ping", oid, seller, number, 1000 + k, datetime.now(UTC),
                                                 "operator:bench", {"k": k})])
                uow.commit()
            committed[eid] = time.time()
            time.sleep(1 / rate)
        deadline = time.monotonic() + 30
        while httpx.get(f"{receiver}/count").json()["count"] < len(committed) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop(procs)
    arrivals = {hook_id: at for hook_id, at in httpx.get(f"{receiver}/dump").json()}
    lat = sorted((arrivals[e] - c) * 1000 for e, c in committed.items() if e in arrivals)
    p50, p99 = statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    log(f"latency over {len(lat)} events at {rate:.0f}/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    db.dispose()
    return p50, p99


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--latency-events", type=int, default=1000)
    parser.add_argument("--latency-rate", type=float, default=100.0)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])  # run_all calls main() with no arguments
    if args.receiver:
        import uvicorn
        uvicorn.run(receiver_app(), host="127.0.0.1", port=args.receiver, log_level="warning", access_log=False)
        return
    load_before = os.getloadavg()[0]
    from kalem.store.migrate import upgrade
    receiver_proc, receiver = start_receiver()
    try:
        with common.postgres() as pg:
            upgrade(pg.url)
            common.load_orders_postgres(pg.url, args.deliveries)
            engine = sa.create_engine(pg.url.replace("postgresql+psycopg", "postgresql+psycopg", 1))
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO webhook_subscriptions (id, url, event_types, dialect, auth_kind, secret, enabled, "
                    "created_at) VALUES ('bench', :u, '[\"*\"]', 'native', 'standard', :s, true, now())"),
                    {"u": f"{receiver}/hooks", "s": "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIzNDU2"})
            one = throughput(engine, pg, (receiver_proc.pid, receiver), 1)
            two = throughput(engine, pg, (receiver_proc.pid, receiver), 2)
            p50, p99 = latency(pg.url, receiver, args.latency_events, args.latency_rate)
            engine.dispose()
            version = common.server_version(pg)
            tps = common.pgbench(pg, seconds=args.pgbench_seconds)
    finally:
        receiver_proc.terminate()
        receiver_proc.wait(10)
    m = common.machine()
    per_delivery = two.worker_ms + two.receiver_ms + two.postgres_ms
    bound = 1000 * int(m["nproc"]) / per_delivery
    best = max(one.rate, two.rate)
    verdict = "reached" if best >= 1500 else f"not reached here ({best:,.0f}/s at best)"
    text = f"""## Webhooks

`.venv/bin/python bench/webhooks.py --deliveries {args.deliveries} --latency-events {args.latency_events} \
--latency-rate {args.latency_rate:.0f} --pgbench-seconds {args.pgbench_seconds}` — {datetime.now(UTC):%Y-%m-%d}, \
{m.get('cpu', '?')}, {m['nproc']} CPUs,
PostgreSQL {version} (throwaway, fsync on), receiver: a uvicorn process answering 200, native dialect
with Standard Webhooks signatures, worker defaults (batch 100, 16 concurrent sends, poll 50 ms).

| | figure |
|---|---|
| deliveries/s, 1 worker ({args.deliveries:,} queued at once, commit → all recorded delivered) | {one.rate:,.0f} |
| deliveries/s, 2 workers | {two.rate:,.0f} |
| CPU per delivery, 2 workers: the worker processes | {two.worker_ms:.2f} ms |
| CPU per delivery, 2 workers: the receiver | {two.receiver_ms:.2f} ms |
| CPU per delivery, 2 workers: PostgreSQL | {two.postgres_ms:.2f} ms |
| connections the receiver accepted, 2 workers ({args.deliveries:,} deliveries) | {two.connections} |
| commit → receiver latency p50 ({args.latency_events:,} events at {args.latency_rate:.0f}/s, 1 worker) | {p50:.1f} ms |
| commit → receiver latency p99 | {p99:.1f} ms |

pgbench tpcb-like on the same server, same run (`pgbench -c 16 -j 2 -T {args.pgbench_seconds}`): {tps:,.0f} tps;
{common.load_note(load_before)}.
Everything (PostgreSQL, workers, receiver, producer) shares this machine's CPUs. On PostgreSQL an idle
worker wakes on the `NOTIFY` the outbox sends at commit (store/notify.py); the poll interval
(`KALEM_WEBHOOK_POLL_SECONDS`) is the fallback.
What was cut from a worker's CPU per delivery (py-spy `--gil` on one worker draining 20,000
deliveries; 1.2 ms before): the HTTP client — httpx spent ~0.6 ms per request building, validating
and pooling it, urllib3 sends the same pinned request for under half of that, over connections kept
alive per receiver address (the table's connection count: one per sending thread, not one per
delivery); the Standard Webhooks signer is built once per secret, not per send. Claiming, sending
and recording overlap: while one batch is on the wire the worker records the sends that are over
and claims the next (it holds two batches), so sending threads no longer wait for a round's slowest
send, its claim and its record. What is left per delivery: ~45 % sending (urllib3 and http.client),
~35 % the claim and record transactions (SQLAlchemy, psycopg), the rest signing, rendering and metrics.
The target is 1,500 deliveries/s with two workers: {verdict}. A second worker gives {two.rate / one.rate:.2f}× the
first's throughput on {m['nproc']} CPUs shared by PostgreSQL, the receiver and the workers. Together they spend
{per_delivery:.2f} ms of CPU per delivery (the table's three rows), which bounds these {m['nproc']} CPUs near
{bound:,.0f} deliveries/s with nothing else running; more cores, or workers on other machines, go further.
"""
    print(text)
    if not args.no_write:
        command = (f".venv/bin/python bench/webhooks.py --deliveries {args.deliveries} "
                   f"--latency-events {args.latency_events} --latency-rate {args.latency_rate:.0f} "
                   f"--pgbench-seconds {args.pgbench_seconds}")
        common.record("webhooks", command, text, [
            common.Figure("webhook deliveries, 1 worker", one.rate, pgbench_tps=tps),
            common.Figure("webhook deliveries, 2 workers", two.rate, pgbench_tps=tps),
            common.Figure(f"webhook commit → receiver latency at {args.latency_rate:.0f}/s", args.latency_rate,
                          p50, p99)])   # a fixed rate: no ratio to pgbench (its tps is in the section)


if __name__ == "__main__":
    main(sys.argv[1:])
