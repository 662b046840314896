"""Channels: orders pulled from a kalem face into another kalem, cancels pushed back, and the memory of
the pulling process — beside pgbench tpcb-like on the same PostgreSQL in the same run.

kalem A serves its n11 face (standing in for n11; `kalem serve --workers 2`); kalem B holds an n11
channel account pointing at A and runs `kalem sync`. Both databases live on one throwaway PostgreSQL.

- Pull: orders are put on A in waves (`kalem import`, channel n11, one package of six units each) and
  B's sync pulls them (n11's `shipmentPackages` by date window, then each order by `orderNumber`).
  The clock runs only while B pulls a wave: from the wave committed on A until B holds all of it.
- Memory: the peak resident memory (`VmHWM`) of B's one `kalem sync` process after each size of
  `--orders` has been pulled (`--orders 10000 100000`: flat memory is the 100,000 figure within a
  few MiB of the 10,000 one): a sync that held what it pulled would grow with the count.
- Push: `--cancels` orders get one unit cancelled in B (native API, not timed) while no sync runs;
  then a fresh `kalem sync` sends them to A (`splitPackageByQuantity` with `cancelledItems`, after a
  read of the order's packages and the approval n11 asks first) and the clock runs until every push
  is done (a few pushes at once, `KALEM_SYNC_PUSH_WORKERS`, one order's one after another). Every
  cancel is checked to be in A's ledger once.

Every process — PostgreSQL (started as `postgres`, not through `pg_ctl`), both kalems, pgbench —
runs in this benchmark's session: the kernel shares the CPUs fairly between sessions, so a server in
a session of its own would get a larger share than it has in production beside its neighbours.

    .venv/bin/python bench/channels.py                              # writes "channels" in docs/performance.md
    .venv/bin/python bench/channels.py --orders 10000 100000 --cancels 1000     # memory flat from 10k to 100k
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import httpx  # noqa: E402
from common import log  # noqa: E402

from kalem.devtools.postgres import free_port  # noqa: E402

SELLER = "acme"
WAVE = 10_000          # orders put on A at once (`kalem import`) before B pulls them
UNITS = 6              # units of each order's one line: a cancel of one leaves a package to split from
SYNC_ENV = {"KALEM_SYNC_PULL_SECONDS": "0.05", "KALEM_SYNC_POLL_SECONDS": "0.05",
            "KALEM_SYNC_LEASE_SECONDS": "60"}


class Kalem:
    """One kalem: a database, its environment, and the processes it runs (each in this session)."""

    def __init__(self, name: str, url: str, workdir: Path) -> None:
        self.name, self.url, self.workdir = name, url, workdir
        self.env = {**os.environ, "KALEM_DATABASE_URL": url, "KALEM_ADMIN_TOKEN": common.ADMIN_TOKEN,
                    "KALEM_SECRET_KEY": "bench-secret-key-bench-secret-key", "KALEM_LOG_LEVEL": "warning",
                    "KALEM_RATE_LIMIT_PER_SECOND": "0", **SYNC_ENV}
        self.processes: list[subprocess.Popen[bytes]] = []

    def run(self, *args: str) -> str:
        done = subprocess.run([str(common.BIN / "kalem"), *args], env=self.env, capture_output=True, text=True,
                              check=False)
        if done.returncode:
            raise RuntimeError(f"kalem {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip()

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        out = open(self.workdir / f"{self.name}-{args[0]}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([str(common.BIN / "kalem"), *args], env=self.env, stdout=out,
                                stderr=subprocess.STDOUT, process_group=0)
        self.processes.append(proc)
        return proc

    def serve(self, workers: int) -> str:
        port = free_port()
        proc = self.spawn("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    return base
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kalem {self.name} did not start")
            time.sleep(0.2)

    def count(self, sql: str) -> int:
        import psycopg
        with psycopg.connect(common.libpq_url(self.url)) as conn:
            return int(conn.execute(sql).fetchone()[0])  # type: ignore[index]

    def close(self) -> None:
        for proc in self.processes:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # its own process group: a server and its workers
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (the kernel's VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def order_line(i: int) -> str:
    number = f"N{i:09d}"
    line_id = f"{number}-1"
    return json.dumps({
        "order_number": number, "seller_id": SELLER, "currency": "TRY", "channel": "n11",
        "account_order_number": f"AO-{number}", "shipping_amount": "29.90",
        "lines": [{"line_id": line_id, "sku": "T123-BLUE", "product_id": "p-1", "name": "T-Shirt",
                   "quantity": UNITS, "unit_price": "199.90", "discount": "0", "tax_rate": "20"}],
        "packages": [{"package_id": f"P{number}", "status": "Picking",
                      "items": [{"line_id": line_id, "quantity": UNITS}]}]}, separators=(",", ":")) + "\n"


@dataclass
class Pull:
    orders: int
    seconds: float            # B pulling, the waves' loading on A excluded
    peak_rss_mb: dict[int, float]

    @property
    def rate(self) -> float:
        return self.orders / self.seconds


def wait_for(condition: object, what: str, seconds: float = 3600) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def pull(a: Kalem, b: Kalem, sizes: list[int], workdir: Path) -> Pull:
    sync = b.spawn("sync")
    pulled, seconds, rss = 0, 0.0, {}
    for size in sorted(sizes):
        while pulled < size:
            wave = min(WAVE, size - pulled)
            path = workdir / "wave.jsonl"
            path.write_text("".join(order_line(i) for i in range(pulled, pulled + wave)))
            a.run("import", str(path), "--no-progress")
            started = time.perf_counter()
            target = pulled + wave
            wait_for(lambda t=target: b.count("SELECT count(*) FROM orders") >= t, "B to pull a wave")  # type: ignore[misc]
            seconds += time.perf_counter() - started
            pulled = target
            if sync.poll() is not None:
                raise RuntimeError("kalem sync exited")
        rss[size] = peak_rss_mb(sync.pid)
        log(f"pulled {pulled:,} orders in {seconds:.1f} s of pulling ({pulled / seconds:,.0f}/s); "
            f"sync peak RSS {rss[size]:.0f} MiB")
    stop(sync)
    if b.count("SELECT count(*) FROM orders") != pulled:
        raise RuntimeError("B holds another number of orders than A placed")
    return Pull(pulled, seconds, rss)


def push(a: Kalem, b: Kalem, b_base: str, cancels: int) -> tuple[float, int]:
    """(seconds, pushes) for `cancels` cancels decided in B, sent to A by a fresh sync."""
    with httpx.Client(base_url=b_base, headers={"Authorization": f"Bearer {common.ADMIN_TOKEN}"},
                      timeout=30) as api:
        for i in range(cancels):
            number = f"N{i:09d}"
            line_id = api.get(f"/v1/orders/{number}").json()["lines"][0]["line_id"]
            done = api.post(f"/v1/orders/{number}/cancellations",
                            json={"lines": [{"line_id": line_id, "quantity": 1, "reason_id": 135}]})
            if done.status_code != 200:
                raise RuntimeError(f"cancel in B refused: {done.text}")
    queued = b.count("SELECT count(*) FROM channel_pushes WHERE status <> 'done'")
    started = time.perf_counter()
    sync = b.spawn("sync")
    wait_for(lambda: b.count("SELECT count(*) FROM channel_pushes WHERE status <> 'done'") == 0,
             "B's pushes to finish")
    seconds = time.perf_counter() - started
    stop(sync)
    if b.count("SELECT count(*) FROM channel_pushes WHERE status = 'dead'"):
        raise RuntimeError("a push is a dead letter")
    cancelled = a.count("SELECT count(DISTINCT order_id) FROM events WHERE type = 'lines.cancelled'")
    if cancelled != cancels:
        raise RuntimeError(f"{cancels} cancels pushed, {cancelled} orders of A show a cancel")
    return seconds, queued


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, nargs="+", default=[2000, 20000],
                        help="pulled orders at which B's sync's peak memory is read (the largest is pulled)")
    parser.add_argument("--cancels", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="A's `kalem serve` workers")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    from kalem.store.migrate import upgrade
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="kalem-bench-channels-"))
    with common.postgres() as pg:
        a, b = Kalem("a", pg.createdb("kalem_a"), workdir), Kalem("b", pg.createdb("kalem_b"), workdir)
        try:
            for k in (a, b):
                upgrade(k.url)
            appkey, appsecret = a.run("token", "create", "--role", "seller", "--seller-id", SELLER, "--n11",
                                      "--new-seller").split()
            a_base = a.serve(args.workers)
            b.run("channel", "add", "--platform", "n11", "--seller-id", SELLER, "--base-url", a_base,
                  "--credential", f"appkey={appkey}", "--credential", f"appsecret={appsecret}")
            b_base = b.serve(1)
            pulled = pull(a, b, args.orders, workdir)
            push_seconds, pushes = push(a, b, b_base, min(args.cancels, pulled.orders))
            log(f"pushed {pushes:,} cancels in {push_seconds:.1f} s ({pushes / push_seconds:,.0f}/s)")
        finally:
            a.close()
            b.close()
        version = common.server_version(pg)
        tps = common.pgbench(pg, seconds=args.pgbench_seconds)
        log(f"pgbench tpcb-like {tps:,.0f} tps")
    m = common.machine()
    command = common.command_line("channels.py", argv)
    push_rate = pushes / push_seconds
    rss_rows = "\n".join(f"| peak RSS of B's `kalem sync` after {n:,} orders pulled | {mb:.0f} MiB |"
                         for n, mb in sorted(pulled.peak_rss_mb.items()))
    text = f"""## Channels

`{command}` — {datetime.now(UTC):%Y-%m-%d}, {m['cpu']}, {m['nproc']} CPUs, PostgreSQL {version} (throwaway,
fsync on). kalem A serves the n11 face (`kalem serve --workers {args.workers}`); kalem B holds an n11 channel
account pointing at A and runs `kalem sync`; both databases on the same PostgreSQL. Every process
(PostgreSQL started as `postgres`, not `pg_ctl`; both kalems; pgbench) runs in the benchmark's one session.

| | figure | ÷ pgbench |
|---|---:|---:|
| orders pulled per second from A's n11 face into B ({pulled.orders:,} orders, waves of {WAVE:,}) | \
{pulled.rate:,.0f} | {pulled.rate / tps:.3f} |
| cancels pushed per second from B to A ({pushes:,}; each a read, an approval and a split on A) | \
{push_rate:,.0f} | {push_rate / tps:.3f} |
{rss_rows}

pgbench tpcb-like on the same server, same run (`pgbench -c 16 -j 2 -T {args.pgbench_seconds}`): {tps:,.0f} tps;
{common.load_note(load_before)}. A pull reads each n11 window page by page and takes an order
in before reading further (one page of orders held at a time), and asks n11 for each order by
`orderNumber` so that all of its packages are seen: two requests to A and one intake in B per order.
A push reads the order's packages first (n11 has no idempotency key), approves the package, then
splits it with the cancelled units; the sync sends pushes of different orders a few at a time. The
orders are put on A in waves of up to {WAVE:,} and the clock runs only while B pulls.
"""
    print(text)
    if not args.no_write:
        common.record("channels", command, text, [
            common.Figure("n11 orders pulled into another kalem", pulled.rate, pgbench_tps=tps),
            common.Figure("n11 cancels pushed to another kalem", push_rate, pgbench_tps=tps)])


if __name__ == "__main__":
    main(sys.argv[1:])
