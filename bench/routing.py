"""What finding a request's route costs: the app with its route index and without it, in-process.

The whole app (middleware, routing, authentication, the endpoint; no HTTP server) is called directly
on an empty SQLite database, with requests that are answered without touching an order — a refusal
by the endpoint, a 404 of an unknown id, a page — so what differs between the two builds is the
routing: with the index (`api/route_index.py`), a request tries only the routes its first two path
segments can match; without it, Starlette's scan tries every route before the one that matches.
The two builds alternate, each round taking the best of `--repeat` runs of `--requests` requests.

    .venv/bin/python bench/routing.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

#: (method, path, what answers), each near a different place of the route list.
REQUESTS = [
    ("GET", "/healthz", "the health check, an early route"),
    ("GET", "/v1/orders/NOPE", "a native order read (404)"),
    ("GET", "/v1/channel-accounts/NOPE", "a channel account read (404), a late native route"),
    ("PUT", "/v1/orders/NOPE/order_items/1", "HepsiGlobal's cancel, no body (400)"),
    ("POST", "/api/v1/orders/1/cancel/", "Akinon's cancel, no body (400)"),
    ("GET", "/api/v1/channel/1/cancellation_requests/5/", "an Akinon request, without its token (401)"),
    ("GET", "/hub/orders/NOPE", "a hub page, signed out (303 to the login)"),
    ("GET", "/hub/login", "the hub's login page"),
    ("GET", "/nope", "a path no route serves (404)"),
    ("DELETE", "/v1/orders/NOPE/cancellations", "a method the path does not take (405)"),
]


def _app(url: str, indexed: bool) -> Any:
    from kalem.api.route_index import RouteIndex
    from kalem.bootstrap.api import build_app
    from kalem.config import Settings
    from kalem.store.db import Database
    settings = Settings(database_url=url, admin_token=common.ADMIN_TOKEN, rate_limit_per_second=0,
                        secret_key="bench-secret-key-bench-secret-key")
    app = build_app(settings, Database.connect(url))
    if not indexed:
        app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, RouteIndex)]
    return app


async def _calls(app: Any, method: str, path: str, count: int) -> int:
    status = 0
    for _ in range(count):
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {common.ADMIN_TOKEN}".encode())],
                 "client": ("127.0.0.1", 1), "server": ("bench", 80)}
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any], into: list[dict[str, Any]] = sent) -> None:
            into.append(message)

        await app(scope, receive, send)
        status = sent[0]["status"]
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    from kalem.store.migrate import upgrade
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kalem-bench-routing-") as tmp:
        url = f"sqlite:///{tmp}/routing.db"
        upgrade(url)
        apps = {True: _app(url, True), False: _app(url, False)}
        loop = asyncio.new_event_loop()
        best: dict[tuple[bool, str, str], float] = {}
        status: dict[tuple[str, str], int] = {}
        for r in range(args.rounds):
            for indexed in (False, True) if r % 2 == 0 else (True, False):
                for method, path, _ in REQUESTS:
                    loop.run_until_complete(_calls(apps[indexed], method, path, 100))   # warm
                    for _ in range(args.repeat):
                        started = time.process_time()
                        answered = loop.run_until_complete(_calls(apps[indexed], method, path, args.requests))
                        spent = (time.process_time() - started) * 1000 / args.requests
                        key = (indexed, method, path)
                        best[key] = min(best.get(key, spent), spent)
                        if status.setdefault((method, path), answered) != answered:
                            raise RuntimeError(f"{method} {path}: answered {answered} and {status[(method, path)]}")
        loop.close()
    rows = [f"| `{method} {path}` — {what} | {status[(method, path)]} | {best[(False, method, path)]:.3f} | "
            f"{best[(True, method, path)]:.3f} |" for method, path, what in REQUESTS]
    common.publish("routing", [
        *common.heading("Finding a request's route", "routing.py", argv, before),
        "The whole app called in-process (no HTTP server) on an empty SQLite database, twice built: with its route "
        "index (`api/route_index.py`: a request tries only the routes its first two path segments can match) and "
        "without it (Starlette's scan, every route in order). Each figure is CPU per request, the best of "
        f"{args.repeat} runs of {args.requests:,} requests in each of {args.rounds} rounds, the builds alternated.",
        "",
        "| request | answer | scan, ms | index, ms |",
        "|---|---:|---:|---:|",
        *rows,
    ], write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
