"""What serving the faces' writes lean saves: each face's write through FastAPI's route and through its
lean route (`api/lean.py`), in-process, on PostgreSQL.

The whole app (middleware, routing, the face's credentials, the endpoint, the use case, SQL; no HTTP
server) is called directly, one write after another, built twice on one database: as it is (the
write served by its lean route) and with the lean routes taken out (FastAPI's route: its dependency
solving, parameter resolution and exit stack). Either way the transaction runs on the thread pool,
where the faces' writes run it (api/app.py). Each write
changes an order of its own, taken in beforehand through the app: n11's split of a Picking package
with a partial cancel, Hebiar OMS's direct cancel of a unit line, HepsiGlobal's cancel of an order
item and Akinon's cancel of an order item. Each figure is the process's CPU per write (its threads
included), the two builds taking turns every few dozen writes.

    .venv/bin/python bench/face_writes.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

Request = tuple[str, str, dict[str, str], Any]   # method, path, headers, JSON body


async def call(app: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    """One request to the ASGI app: its status and its JSON answer."""
    raw = b"" if body is None else json.dumps(body).encode()
    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(raw)).encode()),
                         *((k.lower().encode(), v.encode()) for k, v in headers.items())],
             "client": ("127.0.0.1", 1), "server": ("bench", 80)}
    messages = [{"type": "http.request", "body": raw, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body_sent = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], json.loads(body_sent) if body_sent else None


def _line(spec: dict[str, Any], n: int, channel: str) -> dict[str, Any]:
    number = f"F{channel[:2].upper()}{n:07d}"
    return {**spec, "order_number": number, "seller_id": "acme", "currency": "TRY", "channel": channel,
            "lines": [{"line_id": f"{number}-a", "sku": f"SKU-{number}", "name": "Line a", "quantity": 3,
                       "unit_price": "100.00", "discount": "10.00", "tax_rate": "20"}]}


class Face:
    """One face's write: how its orders are taken in and what is read to name them, and the write."""

    def __init__(self, name: str, channel: str, headers: dict[str, str],
                 write: Callable[[dict[str, Any], Any], Request], extra: dict[str, Any] | None = None,
                 ids: Callable[[str], Request] | None = None) -> None:
        self.name, self.channel, self.headers, self.write, self.extra, self.ids = (
            name, channel, headers, write, extra or {}, ids)


def faces(n11_pair: tuple[str, str]) -> list[Face]:
    admin = {"Authorization": f"Bearer {common.ADMIN_TOKEN}"}
    n11 = {"appkey": n11_pair[0], "appsecret": n11_pair[1]}
    akinon = {"Authorization": f"Token {common.ADMIN_TOKEN}"}
    return [
        Face("n11 `splitPackageByQuantity`, one unit split off and one cancelled", "n11", n11,
             lambda o, line: ("POST", "/rest/delivery/v1/splitPackageByQuantity", n11, {
                 "splitPackages": [{"packageDetails": [{"orderLineId": line, "quantities": 1}]}],
                 "cancelledItems": [{"cancelReasonId": 61, "orderLineId": line, "quantity": 1}]}),
             {"packages": [{"package_id": "{n}-p", "status": "Picking",
                            "items": [{"line_id": "{n}-a", "quantity": 3}]}]},
             lambda number: ("GET", f"/rest/delivery/v1/shipmentPackages?packageIds={number}-p", n11, None)),
        Face("Hebiar OMS `CancelOrderItemLineList`, one unit line", "direct", admin,
             lambda o, _: ("POST", "/Orders/CancelOrderItemLineList", admin, [
                 {"sourceOrderItemLineId": f"{o['order_number']}-a-1", "quantity": 1, "reasonId": 136}])),
        Face("HepsiGlobal cancel of an order item", "hepsiglobal", admin,
             lambda o, _: ("PUT", f"/v1/orders/{o['order_number']}/order_items/{o['order_number']}-a", admin, {
                 "cancel_items": [{"cancel_quantity": 1, "reason": "out_of_stock"}]})),
        Face("Akinon cancel of an order item", "direct", akinon,
             lambda o, pks: ("POST", f"/api/i1/orders/{pks[0]}/cancel/", akinon, {
                 "order": pks[0], "cancel_items": {str(pks[1]): 1}, "forced_refund_amount": None,
                 "reasons": {str(pks[1]): 136}}),
             ids=lambda number: ("GET", f"/api/v1/orders/?number={number}", akinon, None)),
    ]


def _found(face: Face, answer: Any) -> Any:
    """What a face's read names the order's line by (n11's line id; Akinon's order and item pks)."""
    if face.channel == "n11":
        return answer["content"][0]["lines"][0]["orderLineId"]
    [order] = answer["results"]
    return order["pk"], order["orderitem_set"][-1]["pk"]


async def prepare(app: Any, face: Face, first: int, count: int) -> list[Request]:
    """`count` orders taken in for `face`, and the write of each."""
    admin = {"Authorization": f"Bearer {common.ADMIN_TOKEN}"}
    writes = []
    for n in range(first, first + count):
        spec = _line(json.loads(json.dumps(face.extra).replace("{n}", f"F{face.channel[:2].upper()}{n:07d}")),
                     n, face.channel)
        status, answer = await call(app, "POST", "/v1/orders", admin, spec)
        if status != 201:
            raise RuntimeError(f"intake answered {status}: {answer}")
        named = None
        if face.ids is not None:
            status, answer = await call(app, *face.ids(spec["order_number"]))
            if status != 200:
                raise RuntimeError(f"{face.name}: read answered {status}: {answer}")
            named = _found(face, answer)
        writes.append(face.write(spec, named))
    return writes


async def run(app: Any, writes: list[Request]) -> float:
    """The process's CPU seconds the writes took."""
    started = time.process_time()
    for method, path, headers, body in writes:
        status, answer = await call(app, method, path, headers, body)
        if status not in (200, 201, 202):
            raise RuntimeError(f"{method} {path} answered {status}: {answer}")
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--writes", type=int, default=1200, help="writes per face and build")
    parser.add_argument("--chunk", type=int, default=50, help="writes run before the other build's turn")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    from kalem.api.lean import LeanRoute
    from kalem.bootstrap.api import build_app
    from kalem.config import Settings
    from kalem.platforms.n11.key_pairs import create_key_pair
    from kalem.store.db import Database
    from kalem.store.migrate import upgrade
    from kalem.store.uow import UnitOfWork
    before = os.getloadavg()[0]
    spent: dict[tuple[str, bool], float] = {}
    with common.postgres() as pg:
        url = pg.createdb("faces")
        upgrade(url)
        db = Database.connect(url)
        settings = Settings(database_url=url, admin_token=common.ADMIN_TOKEN, rate_limit_per_second=0,
                            secret_key="bench-secret-key-bench-secret-key")
        apps = {True: build_app(settings, db), False: build_app(settings, db)}
        apps[False].router.routes[:] = [r for r in apps[False].router.routes if not isinstance(r, LeanRoute)]
        pair = create_key_pair(UnitOfWork(db), seller_id="acme")
        loop = asyncio.new_event_loop()
        for i, face in enumerate(faces(pair)):
            writes = {lean: loop.run_until_complete(prepare(apps[lean], face, (2 * i + lean) * args.writes,
                                                            args.writes)) for lean in (False, True)}
            common.settle(url)
            for lean in (False, True):   # warm both, unmeasured
                loop.run_until_complete(run(apps[lean], writes[lean][:args.chunk]))
            # This machine's speed drifts by a fifth within a minute: the builds take turns every `chunk`
            # writes (ABBA), so each has its share of every moment.
            for c, start in enumerate(range(args.chunk, args.writes, args.chunk)):
                for lean in (False, True) if c % 2 == 0 else (True, False):
                    took = loop.run_until_complete(run(apps[lean], writes[lean][start:start + args.chunk]))
                    spent[(face.name, lean)] = spent.get((face.name, lean), 0.0) + took
        loop.close()
        db.dispose()
    measured = args.writes - args.chunk
    per = {key: value * 1000 / measured for key, value in spent.items()}
    rows = [f"| {face.name} | {per[(face.name, False)]:.3f} | {per[(face.name, True)]:.3f} | "
            f"{1 - per[(face.name, True)] / per[(face.name, False)]:.0%} |" for face in faces(("", ""))]
    common.publish("face-writes", [
        *common.heading("The faces' writes, served lean", "face_writes.py", argv, before),
        "The whole app called in-process (no HTTP server) on PostgreSQL, built twice on one database: as it is "
        "(each face's write served by its lean route) and with the lean routes taken out (FastAPI's route: its "
        "dependency solving, parameter resolution and exit stack); either way the write's transaction runs on the "
        "thread pool, as the faces' writes run it. "
        f"Each write changes an order of its own; each figure is the process's CPU per write over "
        f"{args.writes - args.chunk:,} writes of each build after {args.chunk} unmeasured, the builds taking turns "
        f"every {args.chunk} writes.",
        "",
        "| write | FastAPI's route, ms | lean, ms | saved |",
        "|---|---:|---:|---:|",
        *rows,
    ], write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
