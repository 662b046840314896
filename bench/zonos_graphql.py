"""Zonos `orderItemUpdate` throughput and latency over HTTP on PostgreSQL, beside pgbench on the same
server.

One throwaway PostgreSQL; a fresh database, migrated, bulk-loaded with COPY (bench/preload.py) with
orders bound for Turkey (landed cost on: duty by HS code, VAT, a percentage fee) of two unshipped
lines of 1,000 units each; `kalem serve --workers 2`; wrk with 16 connections, each request
`POST /graphql` (`credentialToken` header) with Zonos' documented `orderItemUpdate` — orderId,
accountOrderNumber, itemId and itemSku of a random item of a random order, `quantity: 1` (one unit
removed) — and the documented selection of the order. Each call cancels the unit, recomputes the
landed cost, revises the invoice and answers with the order (who created and last changed it read in
the same transaction).
Then pgbench's built-in tpcb-like with 16 clients on the same server.
Every call answered without GraphQL errors is checked against the events committed.

(Not named graphql.py: the benchmarks put bench/ first on sys.path, where a graphql.py would shadow
graphql-core, which Strawberry imports.)

    .venv/bin/python bench/zonos_graphql.py        # the full run (under 2 minutes)
    .venv/bin/python bench/zonos_graphql.py --seconds 5 --warmup 2 --pgbench-seconds 5 --no-write  # quick
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import httpx  # noqa: E402
import preload  # noqa: E402
import proc  # noqa: E402
from common import Run, log  # noqa: E402

from kalem.domain.orders import LineSpec, OrderSpec  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "zonos_graphql.lua"
# The mutation and selection of Zonos' Update orders example (tests/dialects/test_zonos.py).
QUERY = ("mutation($orderId: ID, $aon: String, $itemId: ID, $sku: String, $quantity: Int!) { "
         "orderItemUpdate(orderId: $orderId, accountOrderNumber: $aon, itemId: $itemId, itemSku: $sku, "
         "quantity: $quantity) { order { accountOrderNumber createdAt createdBy currencyCode id "
         "items { id name quantity amount currencyCode } status updatedAt updatedBy } } }")
assert '"' not in QUERY and "\\" not in QUERY  # the Lua script puts it into a JSON string as it is


def spec(number: str, seller: str) -> OrderSpec:
    return OrderSpec(
        seller_id=seller, order_number=number, currency="TRY",
        lines=(LineSpec(f"{number}-a", "TS-BLUE-M", "T-Shirt", common.LINE_QUANTITY, Decimal("199.90"),
                        Decimal("20.00"), Decimal("20"), "p-1", hs_code="610910"),
               LineSpec(f"{number}-b", "MUG-01", "Mug", common.LINE_QUANTITY, Decimal("49.90"), Decimal("0"),
                        Decimal("20"), "p-2", hs_code="691200")),
        shipping_amount=Decimal("29.90"), account_order_number=f"AO-{number}", channel="zonos",
        destination_country="TR")


def _one_call(base_url: str, index: int) -> httpx.Response:
    number = common.order_number(index)
    return httpx.post(f"{base_url}/graphql", headers={"credentialToken": common.ADMIN_TOKEN}, timeout=30, json={
        "query": QUERY, "variables": {"orderId": "order_" + preload.order_id(index).removeprefix("ord_"),
                                      "aon": f"AO-{number}", "itemId": f"item_{number}-a", "sku": "TS-BLUE-M",
                                      "quantity": 1}})


def _explain_errors(base_url: str, run: Run, what: str) -> None:
    """wrk only counts failures: on any, make one more call of the same shape and show its answer."""
    if run.errors:
        sample = _one_call(base_url, 0)
        raise RuntimeError(f"{run.errors} of {run.requests} calls failed during the {what}; one more call "
                           f"answered {sample.status_code}: {sample.text[:1000]}")


def _committed(url: str) -> dict[str, int]:
    import psycopg
    with psycopg.connect(common.libpq_url(url)) as conn:
        rows = conn.execute("SELECT type, count(*) FROM events WHERE type IN ('lines.cancelled', "
                            "'landed_cost.recomputed', 'invoice.revised') GROUP BY type").fetchall()
    return {"lines.cancelled": 0, "landed_cost.recomputed": 0, "invoice.revised": 0, **dict(rows)}


def _check_order(base_url: str) -> None:
    """Index 0 was changed by the sample call: its units, events, landed cost and invoice agree."""
    call = _one_call(base_url, 0).json()
    if call.get("errors"):
        raise RuntimeError(f"orderItemUpdate failed: {call['errors']}")
    items = {i["id"]: i["quantity"] for i in call["data"]["orderItemUpdate"]["order"]["items"]}
    auth = {"Authorization": f"Bearer {common.ADMIN_TOKEN}"}
    number = common.order_number(0)
    events = httpx.get(f"{base_url}/v1/orders/{number}/events", headers=auth, params={"limit": 1000}).json()["data"]
    removed = sum(1 for e in events if e["type"] == "lines.cancelled")
    costs = httpx.get(f"{base_url}/v1/orders/{number}/landed-costs", headers=auth).json()
    invoices = httpx.get(f"{base_url}/v1/orders/{number}/invoices", headers=auth).json()
    if (2 * common.LINE_QUANTITY - sum(items.values()) != removed or len(costs["data"]) != removed + 1
            or invoices["billable"] != costs["data"][-1]["total"]):
        raise RuntimeError(f"order {number}: items {items}, {removed} removals, landed costs "
                           f"{[c['total'] for c in costs['data']]}, billable {invoices['billable']}")


def bench(args: argparse.Namespace) -> dict:
    from kalem.store.migrate import upgrade
    with common.postgres() as pg:
        version = common.server_version(pg)
        url = pg.createdb("kalem_graphql")
        upgrade(url)
        log(f"PostgreSQL {version} on port {pg.port}; loading {args.orders:,} orders bound for TR")
        load_seconds = preload.load(url, args.orders, spec)
        log(f"kalem serve --workers {args.workers}, wrk -c {args.clients}")
        with common.kalem_server(url, workers=args.workers) as base_url:
            answered, runs = 0, 0
            if args.warmup:
                warm = common.wrk(base_url, SCRIPT, seconds=args.warmup, connections=args.clients,
                                  args=(str(args.orders), common.ADMIN_TOKEN, "1", QUERY))
                _explain_errors(base_url, warm, "warm-up")
                answered, runs = warm.ok, 1
            roots = proc.listening_on(int(base_url.rsplit(":", 1)[1]), "kalem"), proc.postmaster(pg.data)
            before = [proc.tree_cpu(r) for r in roots]
            run = common.wrk(base_url, SCRIPT, seconds=args.seconds, connections=args.clients,
                             args=(str(args.orders), common.ADMIN_TOKEN, "2", QUERY))
            cpu_ms = [(proc.tree_cpu(r) - b) / max(run.ok, 1) * 1000 for r, b in zip(roots, before, strict=True)]
            _explain_errors(base_url, run, "measured run")
            answered, runs = answered + run.ok, runs + 1
            time.sleep(1)  # requests in flight when wrk stopped may still commit
            committed = _committed(url)
            _check_order(base_url)
        removed = committed["lines.cancelled"]
        # wrk stops with up to one request per connection in flight, which may commit but is not counted.
        if not answered <= removed <= answered + runs * args.clients or len(set(committed.values())) != 1:
            raise RuntimeError(f"{answered} calls answered without errors, committed {committed}")
        log(f"kalem: {run.throughput:.0f} orderItemUpdate/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms "
            f"({removed:,} units removed in all)")
        tps = common.pgbench(pg, clients=args.clients, seconds=args.pgbench_seconds)
        log(f"pgbench tpcb-like: {tps:.0f} tps; ratio {run.throughput / tps:.2f}")
    return {"version": version, "load": load_seconds, "run": run, "tps": tps, "removed": removed, "cpu_ms": cpu_ms}


def report(command: str, r: dict, args: argparse.Namespace) -> str:
    m, run, tps = common.machine(), r["run"], r["tps"]
    return "\n".join([
        "## GraphQL `orderItemUpdate` (`bench/zonos_graphql.py`)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['os']}, Python {m['python']}, "
        f"PostgreSQL {r['version']}. Measured {time.strftime('%Y-%m-%d')}.",
        "",
        f"Command: `{command}`",
        "",
        f"One throwaway PostgreSQL (fsync and synchronous_commit on; settings in `bench/common.py`); "
        f"{args.orders:,} orders bulk-loaded with COPY in {r['load']:.0f} s (`bench/preload.py`), each bound "
        f"for TR (landed cost on) with two unshipped lines of {common.LINE_QUANTITY:,} units. "
        f"`kalem serve --workers {args.workers}`; wrk, {args.clients} connections, {args.warmup} s warm-up then "
        f"{args.seconds} s measured; each request `POST /graphql` (header `credentialToken`, the operator "
        f"token) with Zonos' documented `orderItemUpdate(orderId, accountOrderNumber, itemId, itemSku, "
        f"quantity: 1)` on a random item of a random order and the documented selection of the order: one unit "
        f"cancelled, the landed cost recomputed, the invoice revised, and the order answered with who created "
        f"and last changed it, read in the same transaction. Then, on the same server, "
        f"`pgbench -c {args.clients} -j 2 -T {args.pgbench_seconds} -b tpcb-like` on a scale-16 database. The "
        f"load generators run on the same machine. Every call answered without GraphQL errors was checked "
        f"against the `lines.cancelled`, `landed_cost.recomputed` and `invoice.revised` events committed "
        f"({r['removed']:,} each), and one order's units, landed costs and invoice against each other.",
        "",
        "| calls/s | p50 | p90 | p99 | max | pgbench tps | kalem / pgbench |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {run.throughput:,.0f} | {run.p50_ms:.1f} ms | {run.p90_ms:.1f} ms | {run.p99_ms:.1f} ms | "
        f"{run.max_ms:.0f} ms | {tps:,.0f} | **{run.throughput / tps:.2f}** |",
        "",
        proc.cpu_note("call", r["cpu_ms"], args.workers, int(m["nproc"])),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    common.load_options(parser)
    args = parser.parse_args(argv if argv is not None else [])
    command = common.command_line("zonos_graphql.py", argv)
    started = time.perf_counter()
    result = bench(args)
    text = report(command, result, args)
    print(text)
    if not args.no_write:
        run = result["run"]
        common.record("graphql", command, text, [common.Figure(
            "GraphQL orderItemUpdate (Zonos)", run.throughput, run.p50_ms, run.p99_ms, result["tps"])])
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
