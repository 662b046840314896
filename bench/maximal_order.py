"""The largest order kalem takes in, read through every face: time and memory per read.

Intake bounds an order (`KALEM_MAX_LINE_QUANTITY`, `KALEM_MAX_ORDER_LINES`, `KALEM_MAX_ORDER_UNITS`;
docs/security.md), so that no read of one order can cost without bound, however a face shows it: the
Akinon face shows one order item per unit and the Hebiar face one unit line per unit. This benchmark
places one maximal order (the default limits: 10,000 units) on the embedded SQLite database, reads it
through the native API and each face over real HTTP (a server in this process, so that tracemalloc sees
its allocations), and reports for each read the best time of `--repeat` and the peak of memory
allocated during it. The Akinon and Hebiar ids are computed, so no read writes; the first read through
each is still shown on its own (cold caches), and so are their order listings (a page of orders holds
at most 10,000 units).

    .venv/bin/python bench/maximal_order.py [--repeat 3] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import command_line, log, machine, write_section  # noqa: E402

from kalem.app import access  # noqa: E402
from kalem.bootstrap.api import build_app  # noqa: E402
from kalem.config import Settings  # noqa: E402
from kalem.devtools.postgres import free_port  # noqa: E402
from kalem.platforms.n11.key_pairs import create_key_pair  # noqa: E402
from kalem.store.db import Database  # noqa: E402
from kalem.store.migrate import upgrade  # noqa: E402
from kalem.store.uow import UnitOfWork  # noqa: E402

ADMIN = "bench-admin-token"
NUMBER = "MAX-0001"


def maximal_order(units: int, lines: int, number: str = NUMBER) -> dict[str, object]:
    per_line, extra = divmod(units, lines)
    return {"order_number": number, "seller_id": "acme", "currency": "TRY", "lines": [
        {"line_id": f"{number}-{i:03d}", "sku": f"SKU-{i}", "name": f"Product {i}",
         "quantity": per_line + (1 if i < extra else 0), "unit_price": "10.00", "tax_rate": "20"}
        for i in range(lines)]}


@contextlib.contextmanager
def serving(settings: Settings, db: Database) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(settings, db), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def measured(read: Callable[[], httpx.Response]) -> tuple[float, float, int]:
    """(seconds, peak MiB allocated during it, bytes answered)."""
    tracemalloc.reset_peak()
    start_size, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    response = read()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    if response.status_code != 200 or response.content.startswith(b'{"errors"'):
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return seconds, (peak - start_size) / 2**20, len(response.content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lines", type=int, default=100, help="the maximal order's lines (its units are the limit)")
    parser.add_argument("--orders", type=int, default=5, help="maximal orders placed (the listings show them)")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="kalem-maximal-"))
    url = f"sqlite:///{workdir}/k.db"
    upgrade(url)
    settings = Settings(database_url=url, admin_token=ADMIN, secret_key="bench-secret-key-bench-secret-key",
                        rate_limit_per_second=0)
    units = settings.max_order_units
    db = Database.connect(url)
    access.create_user(UnitOfWork(db), username="bench", password="bench-pass", role="operator", seller_id=None)
    appkey, appsecret = create_key_pair(UnitOfWork(db), seller_id="acme")
    tracemalloc.start()
    rows: list[tuple[str, float, float, int]] = []
    with serving(settings, db) as base, httpx.Client(base_url=base, timeout=600,
                                                     headers={"Authorization": f"Bearer {ADMIN}"}) as api:
        placed = api.post("/v1/orders", json=maximal_order(units, args.lines))
        if placed.status_code != 201:
            raise RuntimeError(placed.text)
        order_id = placed.json()["id"]
        for extra in range(2, args.orders + 1):   # older orders, which the listings' first page may show
            more = api.post("/v1/orders", json=maximal_order(units, args.lines, f"MAX-{extra:04d}"))
            if more.status_code != 201:
                raise RuntimeError(more.text)
        hebiar = api.post("/Auth/login", json={"UserName": "bench", "Password": "bench-pass"}).json()["token"]
        akinon = api.post("/api/v1/auth/login/", json={"username": "bench", "password": "bench-pass"}).json()["key"]
        reads: dict[str, Callable[[], httpx.Response]] = {
            "native `GET /v1/orders/{n}`": lambda: api.get(f"/v1/orders/{NUMBER}"),
            "Akinon `GET /api/v1/orders/?number=`": lambda: api.get(
                "/api/v1/orders/", params={"number": NUMBER}, headers={"Authorization": f"Token {akinon}"}),
            "Hebiar `GetOrderPackages`": lambda: api.get(
                "/orders/GetOrderPackages", params={"page": 0, "size": 15, "OrderNumber": NUMBER},
                headers={"Authorization": f"Bearer {hebiar}"}),
            "n11 `shipmentPackages`": lambda: api.get(
                "/rest/delivery/v1/shipmentPackages", params={"size": 100},
                headers={"appkey": appkey, "appsecret": appsecret, "Authorization": ""}),
            "Zonos `order`": lambda: api.post("/graphql", json={
                "query": "query($id: ID!) { order(orderId: $id) { id items { id quantity amount } } }",
                "variables": {"id": "order_" + order_id.removeprefix("ord_")}}, headers={"credentialToken": ADMIN}),
        }
        reads["Akinon listing `GET /api/v1/orders/?limit=100`"] = lambda: api.get(
            "/api/v1/orders/", params={"limit": 100}, headers={"Authorization": f"Token {akinon}"})
        reads["Hebiar listing `GetOrderPackages?size=100`"] = lambda: api.get(
            "/orders/GetOrderPackages", params={"page": 0, "size": 100}, headers={"Authorization": f"Bearer {hebiar}"})
        for name in ("Akinon `GET /api/v1/orders/?number=`", "Hebiar `GetOrderPackages`"):
            seconds, peak, size = measured(reads[name])
            rows.append((f"{name}, first read", seconds, peak, size))
            log(f"{rows[-1][0]}: {seconds * 1000:.0f} ms, {peak:.1f} MiB")
        for name, read in reads.items():
            runs = [measured(read) for _ in range(args.repeat)]
            best = min(runs)
            rows.append((name, best[0], max(r[1] for r in runs), best[2]))
            log(f"{name}: {best[0] * 1000:.0f} ms, {rows[-1][2]:.1f} MiB")
    db.dispose()
    table = "\n".join(f"| {name} | {seconds * 1000:,.0f} ms | {peak:,.1f} MiB | {size / 1024:,.0f} KiB |"
                      for name, seconds, peak, size in rows)
    text = f"""## The largest order, read through every face

`{command_line("maximal_order.py", argv)}` — {args.orders} orders of {units:,} units in {args.lines}
lines each (the default intake limits), on SQLite, read over HTTP from a server in the benchmark's own process: the
best of {args.repeat} reads, and the most memory allocated during one read (tracemalloc; the server's
allocations, the client's parsing of the answer included). Machine: {machine()["cpu"]}.

| read | time | memory allocated at the peak | answer |
|---|---|---|---|
{table}

Each read is bounded by the order's size, which intake bounds: nothing grows with the database."""
    print(text)
    if not args.no_write:
        write_section("maximal_order", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
