"""Direct partial-cancel throughput and latency over HTTP, against pgbench on the same server.

For each database size (10,000 and 1,000,000 orders by default): a fresh database on one throwaway
PostgreSQL, migrated, bulk-loaded with COPY; `kalem serve --workers 2`; wrk with 16 connections
POSTing `/v1/orders/{n}/cancellations` (one unit of a random line of a random loaded order); then
pgbench's built-in tpcb-like with 16 clients on the same server. Also the embedded default: SQLite
with one server process. Every answered cancel is checked against the events it committed.

    .venv/bin/python bench/cancel.py                       # the full run (about 10 minutes)
    .venv/bin/python bench/cancel.py --orders 10000 --seconds 10 --no-write   # a quick look
    .venv/bin/python bench/cancel.py --units 3 1000        # CPU per cancel by units per line (short)

`--units` compares lines of different lengths instead: the same SQLite run once per number of units
per line, and, in-process, what one cancel costs the request (read the order's body, cancel one unit,
write the body back) per number of units; units are kept as runs, so the length must not matter.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import Run, log  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "cancel.lua"


@dataclass
class SizeResult:
    orders: int
    load_seconds: float
    run: Run
    pgbench_tps: float
    loadavg: tuple[float, float]  # 1-minute load average before the kalem run and before pgbench
    cpu_ms: tuple[float, float]  # CPU per cancel in the measured run: kalem processes, PostgreSQL

    @property
    def ratio(self) -> float:
        return self.run.throughput / self.pgbench_tps


def _drive(base: str, orders: int, *, seconds: int, warmup: int, clients: int, seed: int,
           pg: object = None, keyed: bool = False) -> tuple[Run, int, tuple[float, float]]:
    """A warm-up run, then the measured one; returns the measured run, all cancels answered 200, and
    the CPU milliseconds per cancel of the measured run (kalem's processes; PostgreSQL's, if given)."""
    url = f"{base}/v1/orders"
    args: tuple[str, ...] = (str(orders), common.ADMIN_TOKEN)
    if keyed:
        return _drive_keyed(url, args, seconds=seconds, warmup=warmup, clients=clients, seed=seed, pg=pg)
    answered = 0
    if warmup:
        w = common.wrk(url, SCRIPT, seconds=warmup, connections=clients, args=(*args, str(seed)))
        answered += w.ok
    sid = common.SERVER_GROUPS[base]
    cpu0 = common.group_cpu(sid), common.postgres_cpu(pg) if pg else 0.0
    run = common.wrk(url, SCRIPT, seconds=seconds, connections=clients, args=(*args, str(seed + 1)))
    cpu1 = common.group_cpu(sid), common.postgres_cpu(pg) if pg else 0.0
    per = tuple(1000 * (b - a) / max(run.requests, 1) for a, b in zip(cpu0, cpu1, strict=True))
    return run, answered + run.ok, per  # type: ignore[return-value]


def _drive_keyed(url: str, args: tuple[str, ...], *, seconds: int, warmup: int, clients: int, seed: int,
                 pg: object) -> tuple[Run, int, tuple[float, float]]:
    """`_drive` with an Idempotency-Key of its own on every request (cancel.lua's "key")."""
    answered = 0
    if warmup:
        answered += common.wrk(url, SCRIPT, seconds=warmup, connections=clients, args=(*args, str(seed), "key")).ok
    group = common.SERVER_GROUPS[url.removesuffix("/v1/orders")]
    cpu0 = common.group_cpu(group), common.postgres_cpu(pg) if pg else 0.0
    run = common.wrk(url, SCRIPT, seconds=seconds, connections=clients, args=(*args, str(seed + 1), "key"))
    cpu1 = common.group_cpu(group), common.postgres_cpu(pg) if pg else 0.0
    per = tuple(1000 * (b - a) / max(run.requests, 1) for a, b in zip(cpu0, cpu1, strict=True))
    return run, answered + run.ok, per  # type: ignore[return-value]


@dataclass
class PathResult:
    """One way of serving the cancel, measured on the first size's database in the same run."""

    name: str
    run: Run
    cpu_ms: tuple[float, float]


_NO_REFUND = "kalem, on the event loop, refund policy `manual` (the cancel makes no refund)"


@contextlib.contextmanager
def _refund_policy(url: str, policy: str | None) -> Iterator[None]:
    """Every seller's seller-wide refund policy set to `policy` for the block (None: left as it is, the
    default `on_decision`, which refunds each cancel's units in the cancel's transaction)."""
    if policy is None:
        yield
        return
    import psycopg
    with psycopg.connect(common.libpq_url(url), autocommit=True) as conn:
        conn.execute("INSERT INTO refund_policies (seller_id, channel, policy, updated_at, updated_by) "
                     "SELECT id, '', %s, now(), 'bench' FROM sellers", (policy,))
    try:
        yield
    finally:
        with psycopg.connect(common.libpq_url(url), autocommit=True) as conn:
            conn.execute("DELETE FROM refund_policies WHERE updated_by = 'bench'")


def bench_paths(pg: object, url: str, orders: int, *, seconds: int, warmup: int, clients: int,
                workers: int) -> list[PathResult]:
    """The floor (bench/floor.py) and kalem's cancel on the event loop and on the thread pool, with and
    without an Idempotency-Key, and on the event loop with no refund per cancel (the refund policy
    `manual`), one after another on one database: each read against the same pgbench."""
    import floor
    results = []
    pool = {"KALEM_ASYNC_WRITES": "false"}
    # Whatever path came first measured slower than when it came later (about 15 %, in runs of this
    # script and of one path again and again): one unmeasured run takes that place, so none does.
    common.settle(url)
    with common.kalem_server(url, workers=workers) as base:
        _drive(base, orders, seconds=seconds, warmup=warmup, clients=clients, seed=90, pg=pg)
    for seed, (name, env, keyed) in enumerate((("kalem, on the event loop (a compare-and-swap)", {}, False),
                                               (_NO_REFUND, {}, False),
                                               ("kalem, on the event loop, with an Idempotency-Key", {}, True),
                                               ("kalem, locked transaction on the thread pool", pool, False),
                                               ("kalem, on the thread pool, with an Idempotency-Key", pool, True))):
        common.settle(url)   # each path from the same state, as pgbench's runs are
        with _refund_policy(url, "manual" if name == _NO_REFUND else None), \
                common.kalem_server(url, workers=workers, env=env) as base:
            # a seed of its own: no run sends another's Idempotency-Keys (they would be replays)
            run, _, cpu = _drive(base, orders, seconds=seconds, warmup=warmup, clients=clients, seed=100 + 10 * seed,
                                 pg=pg, keyed=keyed)
        if run.errors:
            raise RuntimeError(f"{name}: {run.errors} of {run.requests} cancels failed")
        log(f"{name}: {run.throughput:.0f} cancels/s; CPU {cpu[0]:.2f} + {cpu[1]:.2f} ms")
        results.append(PathResult(name, run, cpu))
    common.settle(url)
    run, cpu = floor.measure(pg, url, orders, seconds=seconds, warmup=warmup, clients=clients, workers=workers)
    log(f"floor: {run.throughput:.0f} cancels/s; CPU {cpu[0]:.2f} + {cpu[1]:.2f} ms")
    results.append(PathResult("the floor (bench/floor.py)", run, cpu))
    return results


def _check_committed(answered: int, committed: int, *, runs: int, clients: int) -> None:
    """Every cancel counted as answered committed; wrk stops with up to one request per connection in
    flight, which the server still commits but wrk does not count."""
    if not answered <= committed <= answered + runs * clients:
        raise RuntimeError(f"{answered} cancels answered 200 but {committed} committed")


def _committed_cancels(url: str) -> int:
    import psycopg
    with psycopg.connect(common.libpq_url(url)) as conn:
        return conn.execute("SELECT count(*) FROM events WHERE type = 'lines.cancelled'").fetchone()[0]


def bench_postgres(sizes: list[int], *, seconds: int, warmup: int, clients: int, workers: int,
                   pgbench_seconds: int, paths: list[PathResult] | None = None) -> tuple[str, list[SizeResult]]:
    """`paths`, if given, receives `bench_paths`'s figures, measured on the first size's database."""
    from kalem.store.migrate import upgrade
    results = []
    with common.postgres() as pg:
        version = common.server_version(pg)
        log(f"PostgreSQL {version} on port {pg.port}; pgbench -i -s 16")
        first = True
        for n in sizes:
            url = pg.createdb(f"kalem_{n}")
            upgrade(url)
            log(f"loading {n:,} orders")
            load = common.load_orders_postgres(url, n)
            log(f"loaded {n:,} orders in {load:.1f} s; kalem serve --workers {workers}, wrk -c {clients}")
            load_kalem = os.getloadavg()[0]
            with common.kalem_server(url, workers=workers) as base:
                run, answered, cpu = _drive(base, n, seconds=seconds, warmup=warmup, clients=clients, seed=n,
                                            pg=pg)
            committed = _committed_cancels(url)
            _check_committed(answered, committed, runs=2 if warmup else 1, clients=clients)
            if run.errors:
                raise RuntimeError(f"{run.errors} of {run.requests} cancels failed")
            log(f"kalem: {run.throughput:.0f} cancels/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms; "
                f"CPU per cancel: kalem {cpu[0]:.2f} ms, PostgreSQL {cpu[1]:.2f} ms")
            load_pgbench = os.getloadavg()[0]
            tps = common.pgbench(pg, clients=clients, seconds=pgbench_seconds, initialise=first)
            log(f"pgbench tpcb-like: {tps:.0f} tps; ratio {run.throughput / tps:.2f}")
            results.append(SizeResult(n, load, run, tps, (load_kalem, load_pgbench), cpu))
            if first and paths is not None:
                paths.extend(bench_paths(pg, url, n, seconds=seconds, warmup=warmup, clients=clients,
                                         workers=workers))
                after = common.pgbench(pg, clients=clients, seconds=pgbench_seconds, initialise=False)
                log(f"pgbench tpcb-like after the paths: {after:.0f} tps")
                results[-1] = SizeResult(n, load, run, (tps + after) / 2, (load_kalem, load_pgbench), cpu)
            first = False
    return version, results


def bench_sqlite(orders: int, *, seconds: int, warmup: int, clients: int,
                 quantity: int | None = None) -> tuple[float, Run, float]:
    from kalem.store.migrate import upgrade
    with tempfile.TemporaryDirectory(prefix="kalem-bench-sqlite-") as tmp:
        url = f"sqlite:///{tmp}/kalem.db"
        upgrade(url)
        load = common.load_orders_repositories(url, orders, quantity=quantity)
        log(f"SQLite: loaded {orders:,} orders ({quantity or common.LINE_QUANTITY} units per line) in {load:.1f} s; "
            "kalem serve --workers 1")
        with common.kalem_server(url, workers=1) as base:
            run, answered, cpu = _drive(base, orders, seconds=seconds, warmup=warmup, clients=clients, seed=7)
        import sqlite3
        with sqlite3.connect(f"{tmp}/kalem.db") as conn:
            committed = conn.execute("SELECT count(*) FROM events WHERE type = 'lines.cancelled'").fetchone()[0]
        _check_committed(answered, committed, runs=2 if warmup else 1, clients=clients)
        if run.errors:
            raise RuntimeError(f"SQLite: {run.errors} of {run.requests} cancels failed")
        log(f"SQLite: {run.throughput:.0f} cancels/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms; "
            f"CPU per cancel {cpu[0]:.2f} ms")
        return load, run, cpu[0]


def cancel_cpu_ms(quantities: list[int], repeat: int = 300, rounds: int = 5) -> dict[int, float]:
    """In-process: milliseconds of CPU one cancel costs a request beyond HTTP and SQL — decode the
    order's stored body, cancel one unit ("any 1"), encode the body — for `common`'s order shape with
    each number of units per line, on an order where a third of that line's units are cancelled
    already (best of alternating rounds, `common.best_cpu_ms`)."""
    from dataclasses import replace
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from kalem.domain.events import Actor
    from kalem.domain.orders import CancelItem, cancel_lines, place_order
    from kalem.store.codec import load_order, order_body
    actor, now = Actor("operator", "bench"), datetime.now(UTC)
    base = common._spec(common.order_number(1), common.seller_of(1, 100))  # noqa: SLF001

    def cancel_of(quantity: int):
        spec = replace(base, lines=tuple(replace(ln, quantity=quantity) for ln in base.lines))
        order, _ = place_order(spec, order_id="ord_cpu", actor=actor, now=now)
        line_id = spec.lines[0].line_id
        order, _ = cancel_lines(order, [CancelItem(line_id, max(quantity // 3, 1), 136)], actor=actor, now=now)
        row = SimpleNamespace(id=order.id, seller_id=order.seller_id, order_number=order.order_number,
                              account_order_number=None, created_at=now, updated_at=now, version=order.version,
                              last_sequence=order.last_sequence, body=order_body(order), channel=order.channel)

        def one() -> str:
            changed, _ = cancel_lines(load_order(row), [CancelItem(line_id, 1, 136)], actor=actor, now=now)
            return order_body(changed)
        return one

    return common.best_cpu_ms({q: cancel_of(q) for q in quantities}, repeat=repeat, rounds=rounds)


def units_report(command: str, all_runs: dict[int, list[tuple[Run, float]]], cpu: dict[int, float],
                 args: argparse.Namespace) -> str:
    m = common.machine()
    runs = {q: min(rs, key=lambda r: r[1]) for q, rs in all_runs.items()}   # the least CPU per cancel
    small, big = min(runs), max(runs)
    spread = max(max(c for _, c in rs) / min(c for _, c in rs) - 1 for rs in all_runs.values())
    out = [
        "## Cancels on short and long lines (`bench/cancel.py --units`)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['os']}, Python {m['python']}. "
        f"Measured {time.strftime('%Y-%m-%d')}, load generator on the same machine: CPU per cancel is the "
        f"figure to compare, throughput is shown for completeness.",
        "",
        f"Command: `{command}`",
        "",
        f"SQLite (WAL), {args.sqlite_orders:,} orders of two lines, loaded through the repositories, "
        f"`kalem serve --workers 1`; wrk, {args.clients} connections, {args.warmup} s warm-up then {args.seconds} s "
        f"measured of `POST /v1/orders/{{n}}/cancellations` (one unit, \"any 1\": the lowest-numbered open unit, "
        f"of a random line of a random order). A fresh database per run; {args.repeat} runs per number of units, "
        f"alternating; the row shows the run with the least CPU per cancel, the last column every run's. "
        f"CPU/cancel is the server process's CPU time in the measured run divided by the cancels. "
        f"In-process: one cancel's "
        f"share that could grow with the line (decode the stored body, cancel one unit, encode the body) on a "
        f"line with a third of its units cancelled, best of 5 rounds of 300.",
        "",
        "| units per line | cancels/s | p50 | p99 | CPU/cancel (server) | in-process | CPU/cancel, every run |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for q in sorted(runs):
        run, cpu_ms = runs[q]
        every = ", ".join(f"{c:.2f}" for _, c in all_runs[q])
        out.append(f"| {q:,} | {run.throughput:,.0f} | {run.p50_ms:.1f} ms | {run.p99_ms:.1f} ms | "
                   f"{cpu_ms:.2f} ms | {cpu[q]:.3f} ms | {every} ms |")
    out += ["", f"{small} → {big:,} units per line: CPU per cancel (server) {runs[small][1]:.2f} → "
                f"{runs[big][1]:.2f} ms ({runs[big][1] / runs[small][1] - 1:+.1%}); in-process {cpu[small]:.3f} → "
                f"{cpu[big]:.3f} ms ({cpu[big] / cpu[small] - 1:+.1%}). Goal: within 10 %. Runs of the same line "
                f"length differ from each other by up to {spread:.0%} in server CPU per cancel, "
                f"so the in-process figure is the one that shows what the line's length costs."]
    return "\n".join(out)


def main_units(args: argparse.Namespace, command: str) -> int:
    cpu = cancel_cpu_ms(args.units)
    log("in-process CPU per cancel: " + ", ".join(f"{q} units {ms:.3f} ms" for q, ms in cpu.items()))
    runs: dict[int, list[tuple[Run, float]]] = {q: [] for q in args.units}
    for _ in range(args.repeat):   # alternating between the numbers of units
        for q in args.units:
            _, run, cpu_ms = bench_sqlite(args.sqlite_orders, seconds=args.seconds, warmup=args.warmup,
                                          clients=args.clients, quantity=q)
            runs[q].append((run, cpu_ms))
    text = units_report(command, runs, cpu, args)
    print(text)
    if not args.no_write:
        common.record("cancel-units", command, text, [
            common.Figure(f"direct partial cancel, {q:,} units per line", run.throughput, run.p50_ms, run.p99_ms,
                          database="SQLite") for q, (run, _) in sorted(
                              (q, min(rs, key=lambda r: r[1])) for q, rs in runs.items())])
    return 0


def report(command: str, version: str, pg: list[SizeResult], sqlite: tuple[int, Run, float] | None,
           args: argparse.Namespace, paths: list[PathResult] | None = None) -> str:
    m = common.machine()
    out = [
        "## Direct partial cancels (`bench/cancel.py`)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['os']}, Python {m['python']}, "
        f"PostgreSQL {version}. Measured {time.strftime('%Y-%m-%d')}.",
        "",
        f"Command: `{command}`",
        "",
        f"Each size is a fresh database on one throwaway PostgreSQL (fsync and synchronous_commit on; "
        f"settings in `bench/common.py`), bulk-loaded with COPY in the repositories' row format (orders of "
        f"two lines of {common.LINE_QUANTITY} units each, 100 sellers). `kalem serve --workers {args.workers}`; "
        f"wrk, {args.clients} connections, {args.warmup} s warm-up then {args.seconds} s measured, each request "
        f"`POST /v1/orders/{{n}}/cancellations` of one unit of a random line of a random order (operator token, "
        f"no Idempotency-Key). Then, on the same server, `pgbench -c {args.clients} -j 2 -T {args.pgbench_seconds} "
        f"-b tpcb-like` on a scale-16 database. The load generators run on the same machine as the servers. "
        f"Every cancel answered 200 was checked against the `lines.cancelled` events committed. "
        f"CPU/cancel is the CPU time the kalem server processes and the PostgreSQL server used in the measured "
        f"run, divided by the cancels: it depends far less on other work on the machine than throughput does. "
        f"The last column is the 1-minute load average just before the kalem run / before pgbench (it includes "
        f"this benchmark's own loading): well above 2, this machine's CPUs, other work was competing.",
        "",
        "| orders | load (COPY) | cancels/s | p50 | p90 | p99 | pgbench tps | kalem / pgbench "
        "| CPU/cancel kalem + PG | loadavg before |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in pg:
        out.append(f"| {r.orders:,} | {r.load_seconds:.0f} s | {r.run.throughput:,.0f} | {r.run.p50_ms:.1f} ms | "
                   f"{r.run.p90_ms:.1f} ms | {r.run.p99_ms:.1f} ms | {r.pgbench_tps:,.0f} | {r.ratio:.2f} | "
                   f"{r.cpu_ms[0]:.2f} + {r.cpu_ms[1]:.2f} ms | "
                   f"{r.loadavg[0]:.1f} / {r.loadavg[1]:.1f} |")
    if len(pg) >= 2:
        small, big = pg[0], pg[-1]
        diff = (small.run.throughput - big.run.throughput) / small.run.throughput
        cpu_small, cpu_big = sum(small.cpu_ms), sum(big.cpu_ms)
        out += ["", f"{small.orders:,} → {big.orders:,} orders: throughput changes by {-diff:+.1%} "
                    f"(goal: within 10%); p50 {small.run.p50_ms:.1f} → {big.run.p50_ms:.1f} ms; CPU per cancel "
                    f"(kalem + PostgreSQL) {cpu_small:.2f} → {cpu_big:.2f} ms ({cpu_big / cpu_small - 1:+.1%})."]
    if paths and pg:
        tps = pg[0].pgbench_tps
        out += ["", f"**Each path beside pgbench and the floor, same run.** On the first size's database, one after "
                    f"another with the same wrk load, each after a vacuum and a checkpoint (`common.settle`, as "
                    f"pgbench does before its runs) and all after one unmeasured run (the first run measured "
                    f"slower, whatever its path): kalem with the hot writes on the event loop (the default: the "
                    f"cancel is a compare-and-swap, with or without a key) and on the thread pool "
                    f"(`KALEM_ASYNC_WRITES=false`, locked transactions), each without "
                    f"and with an Idempotency-Key of its own on every request, then the floor (bench/floor.py). "
                    f"Under the default refund policy (`on_decision`) each cancel also refunds its unit in its "
                    f"transaction (the refund computed, its record and its `refund.created` event written); "
                    f"the second row is the same cancel with every seller's policy `manual`, which makes no "
                    f"refund. "
                    f"pgbench: the mean of the runs before and after them ({tps:,.0f} tps).", "",
                "| path | cancels/s | p50 | p99 | / pgbench | / floor | CPU/cancel server + PG |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        floor_rate = paths[-1].run.throughput
        for p in paths:
            out.append(f"| {p.name} | {p.run.throughput:,.0f} | {p.run.p50_ms:.1f} ms | {p.run.p99_ms:.1f} ms | "
                       f"{p.run.throughput / tps:.2f} | {p.run.throughput / floor_rate:.2f} | "
                       f"{p.cpu_ms[0]:.2f} + {p.cpu_ms[1]:.2f} ms |")
    if sqlite:
        n, run, cpu_ms = sqlite
        out += ["", f"Embedded default, SQLite (WAL, synchronous=NORMAL), {n:,} orders, `kalem serve --workers 1`, "
                    f"same wrk load: **{run.throughput:,.0f} cancels/s**, p50 {run.p50_ms:.1f} ms, "
                    f"p90 {run.p90_ms:.1f} ms, p99 {run.p99_ms:.1f} ms; {cpu_ms:.2f} ms CPU per cancel."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    quick = common.quick()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, nargs="+", default=[10_000] if quick else [10_000, 1_000_000])
    common.load_options(parser)
    parser.add_argument("--sqlite-orders", type=int, default=10_000, help="0 skips SQLite")
    parser.add_argument("--units", type=int, nargs="+", help="compare these units per line instead (SQLite only)")
    parser.add_argument("--repeat", type=int, default=2, help="--units: runs per number of units, alternating")
    parser.add_argument("--no-paths", action="store_true",
                        help="skip the event loop / thread pool / floor comparison on the first size")
    args = parser.parse_args(argv if argv is not None else [])
    command = common.command_line("cancel.py", argv)
    started = time.perf_counter()
    if args.units:
        return main_units(args, command)
    paths: list[PathResult] = []
    version, pg = bench_postgres(args.orders, seconds=args.seconds, warmup=args.warmup, clients=args.clients,
                                 workers=args.workers, pgbench_seconds=args.pgbench_seconds,
                                 paths=None if args.no_paths else paths)
    sqlite = None
    if args.sqlite_orders:
        _, run, cpu_ms = bench_sqlite(args.sqlite_orders, seconds=args.seconds, warmup=args.warmup,
                                      clients=args.clients)
        sqlite = (args.sqlite_orders, run, cpu_ms)
    text = report(command, version, pg, sqlite, args, paths)
    print(text)
    if not args.no_write:
        figures = [common.Figure(f"direct partial cancel, {r.orders:,} orders", r.run.throughput, r.run.p50_ms,
                                 r.run.p99_ms, r.pgbench_tps) for r in pg]
        figures += [common.Figure(f"direct partial cancel: {p.name}", p.run.throughput, p.run.p50_ms,
                                  p.run.p99_ms, pg[0].pgbench_tps) for p in paths]
        if sqlite:
            figures.append(common.Figure(f"direct partial cancel, {sqlite[0]:,} orders", sqlite[1].throughput,
                                         sqlite[1].p50_ms, sqlite[1].p99_ms, database="SQLite"))
        common.record("cancel", command, text, figures)
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
