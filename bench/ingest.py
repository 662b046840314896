"""Getting orders in: single-order HTTP intake beside pgbench, and `kalem import` into PostgreSQL.

HTTP: a fresh database on a throwaway PostgreSQL, `kalem serve --workers 2`, wrk with 16
connections POSTing `/v1/orders` (every request a new two-line order, 100 sellers), then pgbench
tpcb-like on the same server. Every order answered 201 is checked against the orders committed.

Import: for each size and each `--import-jobs`, a JSON-lines file of that many orders (the same
shape) and a fresh database; `kalem import FILE --no-progress --jobs N` as a process, timed, with its
peak resident memory (the kernel's `ru_maxrss` of that process, or of its largest worker); every
order is checked to be stored with its lines and its event. A second run over the same file is
timed too (every order already there: the resume path).

    .venv/bin/python bench/ingest.py                                  # writes "ingest" in docs/performance.md
    .venv/bin/python bench/ingest.py --import-orders 10000 100000 1000000 --import-jobs 2 --no-http --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import Run, log  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "ingest.lua"


@dataclass
class Imported:
    orders: int
    jobs: int
    file_mb: float
    seconds: float
    resume_seconds: float
    peak_rss_mb: float
    cpu_ms: tuple[float, float]   # per order: the import process, PostgreSQL

    @property
    def rate(self) -> float:
        return self.orders / self.seconds


def order_line(i: int) -> str:
    number = f"M{i:09d}"
    return json.dumps({
        "order_number": number, "seller_id": common.seller_of(i, 100), "currency": "TRY",
        "account_order_number": f"AO-{number}", "shipping_amount": "29.90", "channel": "bench",
        "lines": [{"line_id": f"{number}-a", "sku": "TS-BLUE-M", "name": "T-Shirt", "quantity": 2,
                   "unit_price": "199.90", "discount": "20.00", "tax_rate": "20", "product_id": "p-1"},
                  {"line_id": f"{number}-b", "sku": "MUG-01", "name": "Mug", "quantity": 1, "unit_price": "49.90",
                   "tax_rate": "20", "product_id": "p-2"}]}, separators=(",", ":")) + "\n"


def write_file(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, count, 10_000):
            out.write("".join(order_line(i) for i in range(start, min(count, start + 10_000))))


def _stored(url: str) -> tuple[int, int, int]:
    import psycopg
    with psycopg.connect(common.libpq_url(url)) as conn:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]   # type: ignore[misc]
                     for t in ("orders", "order_lines", "events"))


def run_import(path: Path, url: str, jobs: int) -> tuple[float, float, float]:
    """`kalem import` as a process: (seconds it reports, peak RSS in MiB, CPU seconds of it and its workers)."""
    env = {**os.environ, "KALEM_DATABASE_URL": url}
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([str(common.BIN / "kalem"), "import", str(path), "--no-progress", "--jobs", str(jobs),
                                 "--new-seller"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)   # the process's usage and its workers' (waited for by it)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if proc.returncode:
        raise RuntimeError(f"kalem import failed:\n{text[-3000:]}")
    m = re.search(r"orders read in ([\d.]+) s", text)
    if not m:
        raise RuntimeError(f"no summary from kalem import:\n{text[-3000:]}")
    return float(m.group(1)), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def bench_import(pg: object, sizes: list[int], jobs: list[int], workdir: Path) -> list[Imported]:
    from kalem.store.migrate import upgrade
    results = []
    for n in sizes:
        path = workdir / f"orders-{n}.jsonl"
        write_file(path, n)
        for j in jobs:
            url = pg.createdb(f"kalem_import_{n}_{j}")  # type: ignore[attr-defined]
            upgrade(url)
            pg_cpu0 = common.postgres_cpu(pg)  # type: ignore[arg-type]
            seconds, rss, cpu = run_import(path, url, j)
            pg_cpu = common.postgres_cpu(pg) - pg_cpu0  # type: ignore[arg-type]
            stored = _stored(url)
            if stored != (n, 2 * n, n):
                raise RuntimeError(f"{n:,} orders imported but (orders, lines, events) stored: {stored}")
            resume, _, _ = run_import(path, url, j)
            if _stored(url) != stored:
                raise RuntimeError("a second import of the same file changed what was stored")
            result = Imported(n, j, path.stat().st_size / 2**20, seconds, resume, rss,
                              (1000 * cpu / n, 1000 * pg_cpu / n))
            log(f"import {n:,} orders, --jobs {j}: {result.rate:,.0f}/s ({seconds:.1f} s), peak RSS {rss:.0f} MiB, "
                f"CPU per order {result.cpu_ms[0]:.2f} + {result.cpu_ms[1]:.2f} ms; re-run {resume:.1f} s")
            results.append(result)
        path.unlink()
    return results


def bench_http(pg: object, *, seconds: int, warmup: int, clients: int, workers: int
               ) -> tuple[Run, tuple[float, float]]:
    from kalem.store.migrate import upgrade
    url = pg.createdb("kalem_http_ingest")  # type: ignore[attr-defined]
    upgrade(url)
    with common.kalem_server(url, workers=workers) as base:
        answered = 0
        if warmup:
            answered += common.wrk(f"{base}/v1/orders", SCRIPT, seconds=warmup, connections=clients,
                                   args=(common.ADMIN_TOKEN, "W")).ok
        sid = common.SERVER_GROUPS[base]
        cpu0 = common.group_cpu(sid), common.postgres_cpu(pg)  # type: ignore[arg-type]
        run = common.wrk(f"{base}/v1/orders", SCRIPT, seconds=seconds, connections=clients,
                         args=(common.ADMIN_TOKEN, "R"))
        cpu1 = common.group_cpu(sid), common.postgres_cpu(pg)  # type: ignore[arg-type]
    committed = _stored(url)[0]
    answered += run.ok
    if run.errors or not answered <= committed <= answered + 2 * clients:
        raise RuntimeError(f"{run.errors} errors; {answered} orders answered 201 but {committed} committed")
    per = tuple(1000 * (b - a) / max(run.requests, 1) for a, b in zip(cpu0, cpu1, strict=True))
    log(f"HTTP intake: {run.throughput:.0f} orders/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms; "
        f"CPU per order: kalem {per[0]:.2f} ms, PostgreSQL {per[1]:.2f} ms")
    return run, per  # type: ignore[return-value]


def report(command: str, version: str, http: tuple[Run, tuple[float, float]] | None, tps: float | None,
           imports: list[Imported], args: argparse.Namespace) -> str:
    m = common.machine()
    out = [
        "## Taking in orders (`bench/ingest.py`)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['os']}, Python {m['python']}, "
        f"PostgreSQL {version}. Measured {time.strftime('%Y-%m-%d')} while the machine was shared with other "
        f"work (1-minute load average {os.getloadavg()[0]:.1f} at the end): CPU per order is the figure that "
        "depends least on that.",
        "",
        f"Command: `{command}`",
        "",
        "Every order has two lines (2 and 1 units), one default package, 100 sellers. One throwaway "
        "PostgreSQL (fsync and synchronous_commit on; settings in `bench/common.py`).",
    ]
    if http is not None:
        run, cpu = http
        out += ["",
                f"**Single orders over HTTP.** `kalem serve --workers {args.workers}`; wrk, {args.clients} "
                f"connections, {args.warmup} s warm-up then {args.seconds} s measured, each request `POST /v1/orders` "
                "of a new order (operator token, no Idempotency-Key); every order answered 201 was checked against "
                f"the orders committed. Then `pgbench -c {args.clients} -j 2 -T {args.pgbench_seconds} -b tpcb-like` "
                "on the same server.",
                "",
                "| orders/s | p50 | p90 | p99 | pgbench tps | kalem / pgbench | CPU/order kalem + PG |",
                "|---:|---:|---:|---:|---:|---:|---:|",
                f"| {run.throughput:,.0f} | {run.p50_ms:.1f} ms | {run.p90_ms:.1f} ms | {run.p99_ms:.1f} ms | "
                f"{tps:,.0f} | {run.throughput / tps:.2f} | {cpu[0]:.2f} + {cpu[1]:.2f} ms |"]
    if imports:
        out += ["",
                "**`kalem import FILE --jobs N`** into a fresh database per run (500 orders per transaction, "
                "the default). Seconds are what the command reports (reading, validating, storing); peak RSS "
                "is the largest `ru_maxrss` of the import process and its workers; CPU per order is the "
                "import's (with its workers) and PostgreSQL's. Re-run: the same file again, every order "
                "already there.",
                "",
                "| orders | jobs | file | orders/s | seconds | peak RSS | CPU/order import + PG | re-run |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in imports:
            out.append(f"| {r.orders:,} | {r.jobs} | {r.file_mb:,.0f} MiB | {r.rate:,.0f} | {r.seconds:.1f} s | "
                       f"{r.peak_rss_mb:.0f} MiB | {r.cpu_ms[0]:.2f} + {r.cpu_ms[1]:.2f} ms | "
                       f"{r.resume_seconds:.1f} s |")
        single = [r for r in imports if r.jobs == imports[0].jobs]
        if len(single) >= 2:
            small, big = single[0], single[-1]
            out += ["", f"{small.orders:,} → {big.orders:,} orders: peak RSS {small.peak_rss_mb:.0f} → "
                        f"{big.peak_rss_mb:.0f} MiB ({big.peak_rss_mb / small.peak_rss_mb - 1:+.0%}), "
                        f"orders/s {small.rate:,.0f} → {big.rate:,.0f}."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    quick = common.quick()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.load_options(parser, seconds=20)
    parser.add_argument("--import-orders", type=int, nargs="*", default=[10_000] if quick else [10_000, 100_000])
    parser.add_argument("--import-jobs", type=int, nargs="*", default=[1, 2], help="`kalem import --jobs`, each")
    parser.add_argument("--no-http", action="store_true", help="only `kalem import`")
    args = parser.parse_args(argv if argv is not None else [])
    command = common.command_line("ingest.py", argv)
    with common.postgres() as pg, tempfile.TemporaryDirectory(prefix="kalem-bench-ingest-") as tmp:
        version = common.server_version(pg)
        http = tps = None
        if not args.no_http:
            http = bench_http(pg, seconds=args.seconds, warmup=args.warmup, clients=args.clients,
                              workers=args.workers)
            tps = common.pgbench(pg, clients=args.clients, seconds=args.pgbench_seconds)
            log(f"pgbench tpcb-like: {tps:.0f} tps; ratio {http[0].throughput / tps:.2f}")
        imports = bench_import(pg, args.import_orders, args.import_jobs, Path(tmp))
    text = report(command, version, http, tps, imports, args)
    print(text)
    if not args.no_write:
        figures = []
        if http is not None:
            figures.append(common.Figure("order intake, one order per request", http[0].throughput, http[0].p50_ms,
                                         http[0].p99_ms, tps))
        figures += [common.Figure(f"kalem import, {r.orders:,} orders, --jobs {r.jobs}", r.rate, pgbench_tps=tps)
                    for r in imports]
        common.record("ingest", command, text, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
