"""How throughput grows with the number of API processes: `kalem serve --workers 1, 2, 4` on one
PostgreSQL, for direct partial cancels (writes) and order reads, beside pgbench in the same run.

One throwaway PostgreSQL, one database of 10,000 bulk-loaded orders; for each process count a fresh
`kalem serve`, wrk with 16 connections (warm-up, then the measured run) for each operation. The CPU
count of the machine bounds what more processes can give: the figures say where that is.

    .venv/bin/python bench/scaling.py                               # the full run (about 6 minutes)
    .venv/bin/python bench/scaling.py --seconds 5 --no-write        # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import Run, log  # noqa: E402

HERE = Path(__file__).resolve().parent
OPERATIONS = {  # name -> (wrk script, what one request is)
    "cancel": (HERE / "cancel.lua", "`POST /v1/orders/{n}/cancellations`, one unit"),
    "read": (HERE / "read.lua", "`GET /v1/orders/{n}`"),
}


@dataclass
class Point:
    processes: int
    operation: str
    run: Run
    cpu_ms: float  # kalem's CPU per request in the measured run
    loadavg: float


def measure(url: str, orders: int, processes: int, *, seconds: int, warmup: int, clients: int,
            seed: int) -> list[Point]:
    points = []
    with common.kalem_server(url, workers=processes, env={"KALEM_RATE_LIMIT_PER_SECOND": "0"}) as base:
        sid = common.SERVER_GROUPS[base]
        for name, (script, _) in OPERATIONS.items():
            target = f"{base}/v1/orders"
            args = (str(orders), common.ADMIN_TOKEN)
            if warmup:
                common.wrk(target, script, seconds=warmup, connections=clients, args=(*args, str(seed)))
            loadavg = os.getloadavg()[0]
            cpu0 = common.group_cpu(sid)
            run = common.wrk(target, script, seconds=seconds, connections=clients, args=(*args, str(seed + 1)))
            cpu = 1000 * (common.group_cpu(sid) - cpu0) / max(run.requests, 1)
            if run.errors:
                raise RuntimeError(f"{name} with {processes} processes: {run.errors} of {run.requests} failed")
            log(f"{processes} process(es), {name}: {run.throughput:.0f}/s, p50 {run.p50_ms:.1f} ms, "
                f"p99 {run.p99_ms:.1f} ms, {cpu:.2f} ms CPU per request")
            points.append(Point(processes, name, run, cpu, loadavg))
            seed += 10
    return points


def report(command: str, version: str, points: list[Point], tps: float, args: argparse.Namespace) -> str:
    m = common.machine()
    out = [
        "## Scaling with API processes (`bench/scaling.py`)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['os']}, Python {m['python']}, "
        f"PostgreSQL {version}. Measured {time.strftime('%Y-%m-%d')}.",
        "",
        f"Command: `{command}`",
        "",
        f"One throwaway PostgreSQL with {args.orders:,} bulk-loaded orders; for each process count a fresh "
        f"`kalem serve --workers N`; wrk with {args.clients} connections, {args.warmup} s warm-up then "
        f"{args.seconds} s measured per operation ("
        + "; ".join(f"{k}: {d}" for k, (_, d) in OPERATIONS.items())
        + f"). pgbench tpcb-like on the same server, same run: **{tps:,.0f} tps** "
        f"(`pgbench -c {args.clients} -j 2 -T {args.pgbench_seconds}`). wrk, PostgreSQL and kalem share the "
        f"machine's {m['nproc']} CPUs, so processes beyond that count can only add contention. The last column "
        f"is the 1-minute load average just before each measured run; it includes this benchmark's own "
        f"warm-up and previous runs.",
        "",
        "| processes | operation | requests/s | vs 1 process | p50 | p99 | CPU/request (kalem) | loadavg before |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    base = {p.operation: p.run.throughput for p in points if p.processes == min(args.processes)}
    for p in sorted(points, key=lambda p: (p.operation, p.processes)):
        out.append(f"| {p.processes} | {p.operation} | {p.run.throughput:,.0f} | "
                   f"{p.run.throughput / base[p.operation]:.2f}× | {p.run.p50_ms:.1f} ms | {p.run.p99_ms:.1f} ms | "
                   f"{p.cpu_ms:.2f} ms | {p.loadavg:.1f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    common.load_options(parser, seconds=20, workers=False)
    args = parser.parse_args(argv if argv is not None else [])
    command = common.command_line("scaling.py", argv)
    started = time.perf_counter()
    from kalem.store.migrate import upgrade
    with common.postgres() as pg:
        version = common.server_version(pg)
        url = pg.createdb("kalem_scaling")
        upgrade(url)
        log(f"loading {args.orders:,} orders")
        common.load_orders_postgres(url, args.orders)
        points: list[Point] = []
        for n in args.processes:
            points += measure(url, args.orders, n, seconds=args.seconds, warmup=args.warmup, clients=args.clients,
                              seed=100 * n)
        tps = common.pgbench(pg, clients=args.clients, seconds=args.pgbench_seconds)
        log(f"pgbench tpcb-like: {tps:.0f} tps")
    text = report(command, version, points, tps, args)
    print(text)
    if not args.no_write:
        common.record("scaling", command, text, [
            common.Figure(f"{p.operation}, kalem serve --workers {p.processes}", p.run.throughput, p.run.p50_ms,
                          p.run.p99_ms, tps) for p in sorted(points, key=lambda p: (p.operation, p.processes))])
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
