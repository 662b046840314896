"""Split-with-cancel throughput and latency over HTTP on PostgreSQL, beside pgbench on the same server
(target: kalem / pgbench >= 0.3).

One throwaway PostgreSQL; a fresh database, migrated, bulk-loaded with COPY (bench/preload.py) with
orders whose one package is `Picking` (line a: 4 units, line b: 2 units); `kalem serve --workers 2`;
wrk with 16 connections, each request `POST /v1/orders/{n}/packages/{n}-1/split` with
`{"packages": [{"items": [{"line_id": "{n}-a", "quantity": 2}]}], "cancelled": [{"line_id": "{n}-a",
"quantity": 1, "reason_id": 136}]}` — a package splits once (it is `Unpacked` afterwards), so every
request takes the next unsplit order. Then pgbench's built-in tpcb-like with 16 clients on the same
server. Every split answered 200 is checked against the `package.split` events committed, and one
order's package graph is checked unit by unit.

    .venv/bin/python bench/split.py                               # the full run (under 2 minutes)
    .venv/bin/python bench/split.py --seconds 5 --warmup 2 --pgbench-seconds 5 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import httpx  # noqa: E402
import preload  # noqa: E402
import proc  # noqa: E402
from common import Run, log  # noqa: E402

from kalem.domain.orders import LineSpec, OrderSpec, PackageItem, PackageSpec, PackageStatus  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "split.lua"
THREADS = 2  # wrk threads; the script stripes order numbers over them


def spec(number: str, seller: str) -> OrderSpec:
    return OrderSpec(
        seller_id=seller, order_number=number, currency="TRY",
        lines=(LineSpec(f"{number}-a", "TS-BLUE-M", "T-Shirt", 4, Decimal("199.90"), Decimal("20.00"),
                        Decimal("20"), "p-1"),
               LineSpec(f"{number}-b", "MUG-01", "Mug", 2, Decimal("49.90"), Decimal("0"), Decimal("20"), "p-2")),
        packages=(PackageSpec(f"{number}-1", PackageStatus.PICKING,
                              (PackageItem(f"{number}-a", 4), PackageItem(f"{number}-b", 2)), "700000000001"),),
        shipping_amount=Decimal("29.90"), account_order_number=f"AO-{number}", channel="bench")


def _wrk(base_url: str, orders: int, start: int, *, seconds: int, clients: int) -> tuple[Run, int]:
    """One wrk run splitting orders from index `start` on; returns the run and the highest index requested."""
    with tempfile.NamedTemporaryFile(prefix="kalem-split-", suffix=".txt") as state:
        run = common.wrk(f"{base_url}/v1/orders", SCRIPT, seconds=seconds, connections=clients, threads=THREADS,
                         args=(str(orders), common.ADMIN_TOKEN, str(start), str(THREADS), state.name))
        highest = int(Path(state.name).read_text() or -1)
    if highest >= orders:
        raise RuntimeError(f"ran out of loaded orders (requested index {highest:,} of {orders:,}): pass a larger "
                           f"--orders")
    return run, highest


def _explain_errors(base_url: str, run: Run, what: str, index: int) -> None:
    """wrk only counts failures: on any, make one more split of the same shape and show its answer."""
    if run.errors:
        number = common.order_number(index)
        body = {"packages": [{"items": [{"line_id": f"{number}-a", "quantity": 2}]}],
                "cancelled": [{"line_id": f"{number}-a", "quantity": 1, "reason_id": common.CANCEL_REASON}]}
        sample = httpx.post(f"{base_url}/v1/orders/{number}/packages/{number}-1/split", json=body, timeout=30,
                            headers={"Authorization": f"Bearer {common.ADMIN_TOKEN}"})
        raise RuntimeError(f"{run.errors} of {run.requests} splits failed during the {what}; one more split "
                           f"answered {sample.status_code}: {sample.text[:1000]}")


def _committed(url: str) -> tuple[int, int, str]:
    """Splits and cancels committed, and the number of the order split last."""
    import psycopg
    with psycopg.connect(common.libpq_url(url)) as conn:
        splits, cancels = conn.execute("SELECT count(*) FILTER (WHERE type = 'package.split'), "
                                       "count(*) FILTER (WHERE type = 'lines.cancelled') FROM events").fetchone()
        last = conn.execute("SELECT o.order_number FROM events e JOIN orders o ON o.id = e.order_id "
                            "WHERE e.type = 'package.split' ORDER BY e.position DESC LIMIT 1").fetchone()[0]
    return splits, cancels, last


def _check_graph(base_url: str, number: str) -> None:
    """The split order's packages, unit by unit: parent Unpacked, [a:2] and remainder [a:1, b:2] Picking,
    [a:1] UnSupplied, all children of the parent."""
    got = httpx.get(f"{base_url}/v1/orders/{number}/packages",
                    headers={"Authorization": f"Bearer {common.ADMIN_TOKEN}"}, timeout=30).json()
    parent = f"{number}-1"
    shape = sorted((p["status"], tuple(sorted((i["line_id"][-1], i["quantity"]) for i in p["items"])),
                    p["package_id"] == parent or p["parent_id"] == parent) for p in got["packages"])
    want = sorted([("Unpacked", (("a", 4), ("b", 2)), True), ("Picking", (("a", 2),), True),
                   ("Picking", (("a", 1), ("b", 2)), True), ("UnSupplied", (("a", 1),), True)])
    if shape != want:
        raise RuntimeError(f"order {number} after the split: {got['packages']}")


def bench(args: argparse.Namespace) -> dict:
    from kalem.store.migrate import upgrade
    with common.postgres() as pg:
        version = common.server_version(pg)
        url = pg.createdb("kalem_split")
        upgrade(url)
        log(f"PostgreSQL {version} on port {pg.port}; loading {args.orders:,} orders with a Picking package")
        load_seconds = preload.load(url, args.orders, spec)
        log(f"kalem serve --workers {args.workers}, wrk -c {args.clients}")
        with common.kalem_server(url, workers=args.workers) as base_url:
            answered, start, runs = 0, 0, 0
            if args.warmup:
                warm, highest = _wrk(base_url, args.orders, start, seconds=args.warmup, clients=args.clients)
                _explain_errors(base_url, warm, "warm-up", highest + 1)
                answered, start, runs = warm.ok, highest + 1, 1
            roots = proc.listening_on(int(base_url.rsplit(":", 1)[1]), "kalem"), proc.postmaster(pg.data)
            before = [proc.tree_cpu(r) for r in roots]
            run, highest = _wrk(base_url, args.orders, start, seconds=args.seconds, clients=args.clients)
            cpu_ms = [(proc.tree_cpu(r) - b) / max(run.ok, 1) * 1000 for r, b in zip(roots, before, strict=True)]
            _explain_errors(base_url, run, "measured run", highest + 1)
            answered, runs = answered + run.ok, runs + 1
            time.sleep(1)  # requests in flight when wrk stopped may still commit
            splits, cancels, last = _committed(url)
            _check_graph(base_url, last)
        # wrk stops with up to one request per connection in flight, which may commit but is not counted.
        if not answered <= splits <= answered + runs * args.clients or cancels != splits:
            raise RuntimeError(f"{answered} splits answered 200, {splits} committed, {cancels} cancels")
        log(f"kalem: {run.throughput:.0f} splits/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms "
            f"({splits:,} orders split in all)")
        tps = common.pgbench(pg, clients=args.clients, seconds=args.pgbench_seconds)
        log(f"pgbench tpcb-like: {tps:.0f} tps; ratio {run.throughput / tps:.2f}")
    return {"version": version, "load": load_seconds, "run": run, "tps": tps, "splits": splits, "cpu_ms": cpu_ms}


def report(command: str, r: dict, args: argparse.Namespace) -> str:
    m, run, tps = common.machine(), r["run"], r["tps"]
    ratio = run.throughput / tps
    return "\n".join([
        "## Split with partial cancel (`bench/split.py`)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['os']}, Python {m['python']}, "
        f"PostgreSQL {r['version']}. Measured {time.strftime('%Y-%m-%d')}.",
        "",
        f"Command: `{command}`",
        "",
        f"One throwaway PostgreSQL (fsync and synchronous_commit on; settings in `bench/common.py`); "
        f"{args.orders:,} orders bulk-loaded with COPY in {r['load']:.0f} s (`bench/preload.py`: placed through "
        f"the domain, encoded by `codec`), each with one `Picking` package of line a (4 units) and line b "
        f"(2 units). `kalem serve --workers {args.workers}`; wrk, {args.clients} connections, {args.warmup} s "
        f"warm-up then {args.seconds} s measured; each request `POST /v1/orders/{{n}}/packages/{{n}}-1/split` "
        f"splitting 2 units of line a into a new package and cancelling 1 unit of it (reason 136), the rest "
        f"going to the automatic remainder package (operator token, no Idempotency-Key). A package splits "
        f"once, so every request takes the next unsplit order. Then, on the same server, "
        f"`pgbench -c {args.clients} -j 2 -T {args.pgbench_seconds} -b tpcb-like` on a scale-16 database. The "
        f"load generators run on the same machine. Every split answered 200 was checked against the "
        f"`package.split` and `lines.cancelled` events committed ({r['splits']:,} in all), and one order's "
        f"package graph unit by unit.",
        "",
        "| splits/s | p50 | p90 | p99 | max | pgbench tps | kalem / pgbench |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {run.throughput:,.0f} | {run.p50_ms:.1f} ms | {run.p90_ms:.1f} ms | {run.p99_ms:.1f} ms | "
        f"{run.max_ms:.0f} ms | {tps:,.0f} | **{ratio:.2f}** |",
        "",
        f"The target is a ratio of at least 0.3: {'reached' if ratio >= 0.3 else 'not reached here'}. "
        + proc.cpu_note("split", r["cpu_ms"], args.workers, int(m["nproc"])),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=60_000,
                        help="orders to load; each is split once, so more than the run can split")
    common.load_options(parser)
    args = parser.parse_args(argv if argv is not None else [])
    command = common.command_line("split.py", argv)
    started = time.perf_counter()
    result = bench(args)
    text = report(command, result, args)
    print(text)
    if not args.no_write:
        run = result["run"]
        common.record("split", command, text, [common.Figure(
            "package split with partial cancel", run.throughput, run.p50_ms, run.p99_ms, result["tps"])])
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
