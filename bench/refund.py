"""Cancel-with-refund throughput and latency over HTTP, against pgbench on the same server.

One throwaway PostgreSQL: a fresh database, migrated, bulk-loaded with COPY (`common.load_orders_postgres`:
orders of two lines of `common.LINE_QUANTITY` units); `kalem serve --workers 2`; wrk with 16 connections
POSTing `/v1/orders/{n}/cancellations-with-refund` (one unit of a random line of a random order, reason
136, the original payment method; the seller's strategy is the default). For scale, the plain partial
cancel (`bench/cancel.lua`) runs next on the same server and database, then pgbench's built-in
tpcb-like with 16 clients. Every answered cancel-with-refund is checked against what it committed: one
`lines.cancelled` and one `refund.created` event and one pending refund of one unit each.

    .venv/bin/python bench/refund.py                         # the full run (about 3 minutes)
    .venv/bin/python bench/refund.py --seconds 10 --no-write # a quick look
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import Run, log  # noqa: E402

HERE = Path(__file__).resolve().parent
REFUND_SCRIPT = HERE / "refund.lua"
CANCEL_SCRIPT = HERE / "cancel.lua"


@dataclass
class Result:
    version: str
    orders: int
    load_seconds: float
    refund: Run
    cancel: Run | None
    pgbench_tps: float

    @property
    def ratio(self) -> float:
        return self.refund.throughput / self.pgbench_tps


def _drive(base: str, script: Path, orders: int, *, seconds: int, warmup: int, clients: int,
           seed: int) -> tuple[Run, int, int]:
    """A warm-up run, then the measured one: (measured run, requests answered below 400 in both, runs)."""
    url = f"{base}/v1/orders"
    args = (str(orders), common.ADMIN_TOKEN)
    answered, runs = 0, 1
    if warmup:
        w = common.wrk(url, script, seconds=warmup, connections=clients, args=(*args, str(seed)))
        if w.errors:
            raise RuntimeError(f"warm-up: {w.errors} of {w.requests} requests failed")
        answered, runs = w.ok, 2
    run = common.wrk(url, script, seconds=seconds, connections=clients, args=(*args, str(seed + 1)))
    if run.errors:
        raise RuntimeError(f"{run.errors} of {run.requests} requests failed")
    return run, answered + run.ok, runs


def _committed(url: str) -> dict[str, int]:
    import psycopg
    with psycopg.connect(common.libpq_url(url)) as conn:
        events = dict(conn.execute("SELECT type, count(*) FROM events GROUP BY type").fetchall())
        refunds, one_unit, pending = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE body::jsonb -> 'lines' -> 0 ->> 1 = '1' "
            "AND jsonb_array_length(body::jsonb -> 'lines') = 1 AND (body::jsonb ->> 'amount')::numeric > 0), "
            "count(*) FILTER (WHERE status = 'pending') FROM refunds").fetchone()
    return {"cancelled": events.get("lines.cancelled", 0), "refund_events": events.get("refund.created", 0),
            "refunds": refunds, "one_unit": one_unit, "pending": pending}


def _check(answered: int, got: dict[str, int], *, runs: int, clients: int) -> None:
    """Each answered request committed a cancel, a refund event and a pending one-unit refund of a
    positive amount. wrk stops with up to one request per connection in flight, which the server still
    commits but wrk does not count."""
    n = got["refunds"]
    if not (got["cancelled"] == got["refund_events"] == n == got["one_unit"] == got["pending"]):
        raise RuntimeError(f"cancels and refunds disagree: {got}")
    if not answered <= n <= answered + runs * clients:
        raise RuntimeError(f"{answered} cancel-with-refunds answered 201 but {n} committed")


def bench(args: argparse.Namespace) -> Result:
    from kalem.store.migrate import upgrade
    with common.postgres() as pg:
        version = common.server_version(pg)
        url = pg.createdb("kalem_refund")
        upgrade(url)
        log(f"PostgreSQL {version} on port {pg.port}; loading {args.orders:,} orders")
        load = common.load_orders_postgres(url, args.orders)
        log(f"loaded in {load:.1f} s; kalem serve --workers {args.workers}, wrk -c {args.clients}")
        cancel = None
        with common.kalem_server(url, workers=args.workers) as base:
            refund, answered, runs = _drive(base, REFUND_SCRIPT, args.orders, seconds=args.seconds,
                                            warmup=args.warmup, clients=args.clients, seed=11)
            got = _committed(url)
            _check(answered, got, runs=runs, clients=args.clients)
            log(f"kalem cancel-with-refund: {refund.throughput:.0f}/s, p50 {refund.p50_ms:.1f} ms, "
                f"p99 {refund.p99_ms:.1f} ms ({got['refunds']:,} refunds committed and checked)")
            if args.compare_cancel:
                cancel, _, _ = _drive(base, CANCEL_SCRIPT, args.orders, seconds=args.seconds,
                                      warmup=args.warmup, clients=args.clients, seed=23)
                log(f"kalem plain cancel: {cancel.throughput:.0f}/s, p50 {cancel.p50_ms:.1f} ms, "
                    f"p99 {cancel.p99_ms:.1f} ms")
        tps = common.pgbench(pg, clients=args.clients, seconds=args.pgbench_seconds)
        log(f"pgbench tpcb-like: {tps:.0f} tps; ratio {refund.throughput / tps:.2f}")
    return Result(version, args.orders, load, refund, cancel, tps)


def report(command: str, r: Result, args: argparse.Namespace) -> str:
    m = common.machine()
    out = [
        "## Cancel with refund (`bench/refund.py`)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['os']}, Python {m['python']}, "
        f"PostgreSQL {r.version}. Measured {time.strftime('%Y-%m-%d')}.",
        "",
        f"Command: `{command}`",
        "",
        f"One throwaway PostgreSQL (fsync and synchronous_commit on; settings in `bench/common.py`), a fresh "
        f"database bulk-loaded with COPY ({r.orders:,} orders of two lines of {common.LINE_QUANTITY} units "
        f"each, 100 sellers, default cancellation strategy). `kalem serve --workers {args.workers}`; wrk, "
        f"{args.clients} connections, {args.warmup} s warm-up then {args.seconds} s measured, each request "
        f"`POST /v1/orders/{{n}}/cancellations-with-refund` with "
        f"`{{\"lines\": [{{\"line_id\", \"quantity\": 1, \"reason_id\": 136}}]}}` for a random line of a random "
        f"order (operator token, original payment method, no Idempotency-Key): the cancel, the refund record "
        f"and both events in one transaction. Every request answered 201 was checked against what was "
        f"committed (one `lines.cancelled`, one `refund.created`, one pending one-unit refund each). "
        f"Then, on the same server, `pgbench -c {args.clients} -j 2 -T {args.pgbench_seconds} -b tpcb-like` "
        f"on a scale-16 database. The load generators run on the same machine as the servers.",
        "",
        "| request | per s | p50 | p90 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = [("cancel with refund", r.refund)] + ([("plain cancel, same server and data", r.cancel)]
                                                 if r.cancel else [])
    for name, run in rows:
        out.append(f"| {name} | {run.throughput:,.0f} | {run.p50_ms:.1f} ms | {run.p90_ms:.1f} ms | "
                   f"{run.p99_ms:.1f} ms | {run.max_ms:.0f} ms |")
    out += ["", f"pgbench tpcb-like: **{r.pgbench_tps:,.0f} tps**. Cancel with refund / pgbench: "
                f"**{r.ratio:.2f}**" + (f"; cancel with refund / plain cancel: "
                                        f"{r.refund.throughput / r.cancel.throughput:.2f}." if r.cancel else ".")]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    quick = os.environ.get("KALEM_BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10 if quick else 30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pgbench-seconds", type=int, default=10 if quick else 30)
    parser.add_argument("--no-compare-cancel", dest="compare_cancel", action="store_false",
                        help="skip the plain-cancel run")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv if argv is not None else [])
    command = ".venv/bin/python bench/refund.py" + (" " + shlex.join(argv) if argv else "")
    started = time.perf_counter()
    result = bench(args)
    text = report(command, result, args)
    print(text)
    if not args.no_write:
        common.write_section("refund", text)
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
