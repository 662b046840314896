"""Where a direct cancel's CPU goes, on the event loop and on the thread pool: cProfile, in-process; and
layer by layer on the event loop, timed without a profiler.

The whole ASGI app (every middleware, the lean route, auth, idempotency, the use case, SQL) is called
directly, one cancel after another, on a throwaway PostgreSQL; no HTTP server (uvicorn's share is the
same on both paths). The event loop's thread is profiled, and on the thread-pool path so is each
pool thread, and the samples are merged; each function's own time is put in one bucket by where its
code lives. CPU per cancel is the process's CPU time over the cancels, both paths alternated.

    .venv/bin/python bench/profile_cancel.py --cancels 1500
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import importlib
import inspect
import json
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Buckets, first match wins: (name, substrings of a function's file or name).
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("idempotency", ("kalem/api/idempotency",)),
    ("auth", ("kalem/api/auth", "kalem/api/context", "kalem/app/access")),
    ("domain", ("kalem/domain/",)),
    ("JSON and views (stored body, request, answer)", ("json/", "kalem/store/codec", "kalem/api/views", "pydantic",
                                                       "kalem/api/schemas", "_json", "JSONResponse")),
    ("commit (psycopg, SQLAlchemy, the unit of work)", (":commit", ":_commit", ":_do_commit",
                                                        ":_connection_commit_impl")),
    ("SQL: psycopg, SQLAlchemy, kalem's store", ("psycopg", "sqlalchemy", "kalem/store/", "kalem/app/")),
    ("event loop, greenlet, thread hop", ("asyncio", "anyio", "threading", "greenlet", "concurrent/", "selectors",
                                          "queue.py", "<built-in method _thread", "socket")),
    ("middleware, routing, metrics, traces, logs", ("starlette", "fastapi", "asgi_correlation_id", "kalem/api/",
                                                    "kalem/observability", "prometheus", "logging", "contextvars")),
]


def bucket(where: str) -> str:
    for name, marks in BUCKETS:
        if any(mark in where for mark in marks):
            return name
    return "other"


class Profiled:
    """cProfile on the loop's thread, and on each pool thread the endpoint runs in."""

    def __init__(self) -> None:
        self.profilers: list[cProfile.Profile] = []
        self._local = threading.local()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def profiled(*args: Any, **kwargs: Any) -> Any:
            mine = getattr(self._local, "profiler", None)
            if mine is None:
                mine = self._local.profiler = cProfile.Profile(time.thread_time)
                self.profilers.append(mine)
            mine.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                mine.disable()
        return profiled

    def buckets(self, main: cProfile.Profile) -> dict[str, float]:
        stats = pstats.Stats(main)
        for other in self.profilers:
            stats.add(other)
        out: dict[str, float] = {}
        for (path, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            key = bucket(f"{path}:{name}")
            out[key] = out.get(key, 0.0) + tottime
        return out


#: The layers of a direct cancel on the event loop, outermost first: (label, module, owner or None, name,
#: modules that imported the function by name). Each is timed inclusively: a row contains the rows it calls.
LAYERS: list[tuple[str, str, str | None, str, tuple[str, ...]]] = [
    ("the lean route: the body, auth, the endpoint, the answer sent", "kalem.api.lean", "LeanRoute", "_serve", ()),
    ("the endpoint in a greenlet task of its own", "kalem.store.on_loop", None, "run", ()),
    ("idempotency wrapper: the use case, the answer rendered", "kalem.api.idempotency", "Idempotency", "run", ()),
    ("the use case (`app.cancellation.cancel_lines`)", "kalem.app.cancellation", None, "cancel_lines",
     ("kalem.api.routes.orders",)),
    ("unit of work: begin (pool checkout, autocommit on)", "kalem.store.uow", "UnitOfWork", "__enter__", ()),
    ("the order's read (one statement)", "kalem.store.repositories", "OrderRepository", "get", ()),
    ("decoding the stored order", "kalem.store.codec", None, "load_order", ()),
    ("the domain's cancel", "kalem.domain.orders", None, "cancel_lines", ()),
    ("the refund the default policy makes", "kalem.app.refund_policy", None, "refund_decision", ()),
    ("the refund account's refund", "kalem.domain.refunds.account", "RefundAccount", "refund", ()),
    ("unit of work: commit (the one write)", "kalem.store.uow", "UnitOfWork", "commit", ()),
    ("the answer's view of the order", "kalem.api.views", None, "order_view", ()),
    ("unit of work: end (autocommit off, back to the pool)", "kalem.store.uow", "UnitOfWork", "__exit__", ()),
    ("waiting on the database (psycopg's async calls, the loop)", "kalem.store.on_loop", None, "wait",
     ("kalem.store.uow", "kalem.store.hot")),
]


class Layers:
    """Each layer's inclusive thread CPU (a recursive call counted once), by wrapping its function."""

    def __init__(self) -> None:
        self.spent: dict[str, int] = {}
        self._undo: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> Layers:
        for label, module, owner, name, importers in LAYERS:
            home = importlib.import_module(module)
            holder = getattr(home, owner) if owner else home
            original = inspect.getattr_static(holder, name)
            timed = self._timed(label, original)
            for where in (holder, *(importlib.import_module(m) for m in importers)):
                self._undo.append((where, name, inspect.getattr_static(where, name)))
                setattr(where, name, timed)
        return self

    def __exit__(self, *_: Any) -> None:
        for where, name, original in reversed(self._undo):
            setattr(where, name, original)

    def _timed(self, label: str, fn: Any) -> Any:
        spent, active = self.spent, set()
        spent.setdefault(label, 0)
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.thread_time_ns()
                try:
                    return await fn(*args, **kwargs)
                finally:
                    spent[label] += time.thread_time_ns() - started
            return timed_async

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if label in active:
                return fn(*args, **kwargs)
            active.add(label)
            started = time.thread_time_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.thread_time_ns() - started
                active.discard(label)
        return timed


def layers(build: Callable[[], Any], orders: int, count: int, base: int) -> tuple[float, dict[str, float]]:
    """Thread CPU ms per cancel in all, and each layer's (inclusive) ms per cancel, of an app built by
    `build` with the layers timed (a lean route holds its bound method from the app's build on), on
    `orders` orders from number `base` on that no cancel has touched: every earlier refund of an
    order is read and counted again by the next cancel's refund, so a history would weigh in."""
    loop = asyncio.new_event_loop()
    try:
        with Layers() as timed:
            app = build()
            loop.run_until_complete(_cancels(app, orders, 200, 0, base=base))   # warm-up
            timed.spent.update(dict.fromkeys(timed.spent, 0))
            started = time.thread_time_ns()
            loop.run_until_complete(_cancels(app, orders, count, 200, base=base))
            total = time.thread_time_ns() - started
    finally:
        loop.close()
    return total / count / 1e6, {label: ns / count / 1e6 for label, ns in timed.spent.items()}


def _scope(number: str, line: str, body: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import common
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": f"/v1/orders/{number}/cancellations", "raw_path": f"/v1/orders/{number}/cancellations".encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
             "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {common.ADMIN_TOKEN}".encode()),
                         (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return scope, [{"type": "http.request", "body": body, "more_body": False}]


async def _cancels(app: Any, orders: int, count: int, first: int, base: int = 0) -> None:
    """`count` cancels, the k-th of order `base + (first + k) % orders`."""
    for i in range(count):
        n = base + (first + i) % orders
        number = f"B{n:09d}"
        body = json.dumps({"lines": [{"line_id": f"{number}-{'ab'[i % 2]}", "quantity": 1,
                                      "reason_id": 136}]}).encode()
        scope, messages = _scope(number, "a", body)
        sent: list[dict[str, Any]] = []

        async def receive(queue: list[dict[str, Any]] = messages) -> dict[str, Any]:
            return queue.pop(0) if queue else {"type": "http.disconnect"}

        async def send(message: dict[str, Any], into: list[dict[str, Any]] = sent) -> None:
            into.append(message)
        await app(scope, receive, send)
        if sent[0]["status"] != 200:
            raise RuntimeError(f"cancel answered {sent[0]['status']}: {sent[1].get('body', b'')[:300]!r}")


def run(app: Any, orders: int, count: int, first: int, *, profile: bool) -> tuple[float, dict[str, float]]:
    """CPU ms per cancel, and each bucket's own time in ms per cancel (if `profile`)."""
    import kalem.api.lean as lean
    profiled, main = Profiled(), cProfile.Profile(time.thread_time)
    original = lean.run_in_threadpool
    if profile:
        lean.run_in_threadpool = lambda fn, *a, **k: original(profiled.wrap(fn), *a, **k)  # type: ignore[assignment]
    loop = asyncio.new_event_loop()
    try:
        started = time.process_time()
        if profile:
            main.enable()
        loop.run_until_complete(_cancels(app, orders, count, first))
        if profile:
            main.disable()
        spent = (time.process_time() - started) * 1000 / count
    finally:
        lean.run_in_threadpool = original
        loop.close()
    if not profile:
        return spent, {}
    return spent, {k: v * 1000 / count for k, v in profiled.buckets(main).items()}


def main(argv: list[str] | None = None) -> int:
    import common
    from common import log
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--cancels", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3, help="unprofiled rounds per path, alternated")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    from kalem.bootstrap.api import build_app
    from kalem.config import Settings
    from kalem.store.db import Database
    from kalem.store.migrate import upgrade
    with common.postgres() as pg:
        url = pg.createdb("profile")
        upgrade(url)
        fresh = args.cancels + 200   # orders of each `layers` run, after the profiled runs' own
        common.load_orders_postgres(url, args.orders + 2 * fresh)
        settings = Settings(database_url=url, admin_token=common.ADMIN_TOKEN, rate_limit_per_second=0,
                            secret_key="bench-secret-key-bench-secret-key")
        db = Database.connect(url)
        apps = {"event loop": build_app(settings, db),
                "thread pool": build_app(settings.model_copy(update={"async_writes": False}), db)}
        cpu: dict[str, list[float]] = {name: [] for name in apps}
        done = 0
        for app in apps.values():   # warm-up
            run(app, args.orders, 200, done, profile=False)
            done += 200
        for _ in range(args.rounds):
            for name, app in apps.items():
                cpu[name].append(run(app, args.orders, args.cancels, done, profile=False)[0])
                done += args.cancels
        profiles = {}
        for name, app in apps.items():
            profiles[name] = run(app, args.orders, args.cancels, done, profile=True)[1]
            done += args.cancels
        # twice on orders no cancel touched, then the first run's orders again: each has one refund more
        layered = [layers(lambda: build_app(settings, db), fresh, args.cancels, args.orders + i * fresh)
                   for i in (0, 1, 0)]
        db.dispose()
    best = {name: min(values) for name, values in cpu.items()}
    log(f"CPU per cancel, best of {args.rounds}: " + ", ".join(f"{k} {v:.2f} ms" for k, v in best.items()))
    names = [b for b, _ in BUCKETS] + ["other"]
    rows = ["| | thread pool | event loop |", "|---|---:|---:|"]
    for b in names:
        rows.append(f"| {b} | {profiles['thread pool'].get(b, 0):.3f} ms | {profiles['event loop'].get(b, 0):.3f} ms |")
    rows.append(f"| **all, profiled** | {sum(profiles['thread pool'].values()):.3f} ms | "
                f"{sum(profiles['event loop'].values()):.3f} ms |")
    rows.append(f"| **CPU per cancel, unprofiled (best of {args.rounds})** | {best['thread pool']:.2f} ms | "
                f"{best['event loop']:.2f} ms |")
    print("\n".join(rows))
    layer_rows = ["| layer (each row contains the rows it calls), ms per cancel | new orders | new orders, "
                  "again | the first run's orders, one refund more each |", "|---|---:|---:|---:|"]
    for label, *_ in LAYERS:
        layer_rows.append(f"| {label} | {' | '.join(f'{spent[label]:.3f}' for _, spent in layered)} |")
    layer_rows.append(f"| **all: the event loop's thread CPU per cancel** | "
                      f"{' | '.join(f'{total:.3f}' for total, _ in layered)} |")
    print("\n".join(layer_rows))
    if args.no_write:
        return 0
    command = common.command_line("profile_cancel.py", argv)
    m = common.machine()
    load = os.getloadavg()[0]
    text = "\n".join([
        "## Where a cancel's CPU goes, thread pool and event loop (`bench/profile_cancel.py`)",
        "",
        f"`{command}` — {time.strftime('%Y-%m-%d')}, {m['cpu']}, {m['nproc']} CPUs, 1-minute load average "
        f"{load:.1f} at the end" + ("." if load < 2 else " (other work shared the machine: compare the two "
                                     "columns, measured alternately, rather than the absolute figures)."),
        "",
        f"The whole app called in-process (no HTTP server: uvicorn's share is the same on both paths), "
        f"{args.cancels:,} direct cancels one after another on PostgreSQL, the same app built twice: hot writes "
        "on the event loop (the default) and on the thread pool (`KALEM_ASYNC_WRITES=false`). cProfile on the "
        "loop's thread and on each pool thread, merged; each function's own time in one bucket by where its "
        "code lives (cProfile's own overhead inflates the profiled total; the last row is without it).",
        "",
        *rows,
    ])
    common.write_section("cancel-profile", text)
    common.write_section("cancel-layers", "\n".join([
        "## Where a cancel's CPU goes, layer by layer (`bench/profile_cancel.py`)",
        "",
        f"The same command and database, then the event-loop app built again with each layer's function "
        f"wrapped (`LAYERS`) and {args.cancels:,} direct cancels (a compare-and-swap: no key) one after "
        f"another, twice, each time on orders no cancel had touched, then on the first run's orders again, "
        "each of which now holds the refund its first cancel made (every earlier refund of an order is read "
        "and counted again by its next cancel's refund): each layer's thread CPU, inclusive of what it "
        "calls, per cancel. Without cProfile's overhead, so these "
        "add up to the real cost; each wrapped call adds about 1.5 µs (two reads of the thread's CPU "
        "clock), a few dozen µs per cancel in all. The last row is everything the loop's thread spent (the "
        "database waits included: the loop polling and psycopg reading the answers); the layers outside "
        "the lean route (FastAPI's and kalem's middleware, routing, metrics, the access log) are its "
        "difference from the first row.",
        "",
        *layer_rows,
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
