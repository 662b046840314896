"""Crash-test load: seeded client threads mixing cancels, cancel requests and their decisions,
package splits (with and without a cancel), cancel-with-refund, refunds and settlements; and the
chaos thread that SIGKILLs a process at seeded points of the load and starts it again.

Each client decides its next step from what the server says now (a GET), never from what it
believes it did: a request that got no answer may or may not have been applied.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.reliability.crash_cluster import FailoverClient, Proc, Sent

CANCEL_REASON, SPLIT_REASON, DENIAL_REASON = 136, 135, 168
Lines = dict[str, dict[str, Any]]      # an order view's lines by id
Packages = list[dict[str, Any]]        # an order view's packages


def order_body(number: str) -> dict[str, Any]:
    """Three lines in two Picking packages; a discount and shipping so refunds have shares to cut."""
    a, b, c = (f"{number}-{x}" for x in "abc")
    return {
        # a database of its own, where no seller is known yet
        "order_number": number, "seller_id": "acme", "create_seller": True, "currency": "TRY",
        "shipping_amount": "25.00",
        "lines": [{"line_id": a, "sku": "A", "name": "A", "quantity": 6, "unit_price": "10.00",
                   "discount": "6.00", "tax_rate": "20"},
                  {"line_id": b, "sku": "B", "name": "B", "quantity": 4, "unit_price": "7.50", "tax_rate": "10"},
                  {"line_id": c, "sku": "C", "name": "C", "quantity": 3, "unit_price": "33.33", "tax_rate": "20"}],
        "packages": [{"package_id": "PK1", "status": "Picking", "cargo_tracking_number": f"T{number}-1",
                      "items": [{"line_id": a, "quantity": 6}, {"line_id": b, "quantity": 2}]},
                     {"package_id": "PK2", "status": "Picking", "cargo_tracking_number": f"T{number}-2",
                      "items": [{"line_id": b, "quantity": 2}, {"line_id": c, "quantity": 3}]}],
    }


class Progress:
    """Operations started so far, across client threads; the chaos thread kills at set points."""

    def __init__(self) -> None:
        self.count = 0
        self.cond = threading.Condition()

    def next(self) -> int:
        with self.cond:
            self.count += 1
            self.cond.notify_all()
            return self.count


class Chaos(threading.Thread):
    """SIGKILL `targets[k]` once `thresholds[k]` operations have started, and start it again at once
    (an API process is up when /healthz answers). At most one API process is down at a time. Before a
    kill the chaos waits (up to 1 s) for `busy(process)`: requests or deliveries in flight. Clients
    that run `slack` operations past a kill point the chaos is not ready for yet wait until it is, so
    every kill lands mid-load."""

    def __init__(self, procs: dict[str, Proc], progress: Progress, thresholds: list[int], targets: list[str],
                 rng: random.Random, slack: int, busy: Callable[[Proc], bool]) -> None:
        super().__init__(name="chaos", daemon=True)
        self.procs, self.progress, self.thresholds, self.targets = procs, progress, thresholds, targets
        self.rng, self.slack, self.busy = rng, slack, busy
        self.kills_done = 0
        self.ready = 0  # kill points the chaos is ready for (the processes it waits for have started)
        self.kill_log: list[tuple[str, int]] = []  # (target, operations started at the kill)
        self.restart_seconds: list[float] = []
        self.restart_errors: list[BaseException] = []
        self.gated_seconds = 0.0  # client time spent waiting for a kill
        self.error: BaseException | None = None
        self.cond = threading.Condition()

    def run(self) -> None:
        starting: dict[str, threading.Thread] = {}  # restarts still under way, by process
        try:
            for threshold, target in zip(self.thresholds, self.targets, strict=True):
                with self.progress.cond:
                    ok = self.progress.cond.wait_for(lambda t=threshold: self.progress.count >= t, timeout=120)
                if not ok:
                    raise AssertionError(f"the load never reached operation {threshold}")
                # Never a process that is still starting, never both API processes down at once.
                for name in (("api0", "api1") if target.startswith("api") else (target,)):
                    if name in starting:
                        starting.pop(name).join()
                self._raise_restart_error()
                with self.cond:  # clients held at this kill point go on: the kill should find them busy
                    self.ready += 1
                    self.cond.notify_all()
                proc = self.procs[target]
                # A process is worth killing with work in flight: wait (briefly) for some, then anywhere in it.
                deadline = time.monotonic() + 1
                while not self.busy(proc) and time.monotonic() < deadline:
                    time.sleep(0.005)
                time.sleep(self.rng.uniform(0, 0.01))
                proc.kill9()
                with self.cond:
                    self.kill_log.append((target, self.progress.count))
                    self.kills_done += 1
                    self.cond.notify_all()
                starting[target] = threading.Thread(target=self._restart, args=(proc,), daemon=True)
                starting[target].start()
            for thread in starting.values():
                thread.join()
            self._raise_restart_error()
        except BaseException as exc:  # reported by the test; clients must not wait for it forever
            self.error = exc
            with self.cond:
                self.kills_done = self.ready = len(self.thresholds)
                self.cond.notify_all()

    def _restart(self, proc: Proc) -> None:
        began = time.monotonic()
        try:
            proc.start()
            proc.wait_ready()  # has its own deadline
            self.restart_seconds.append(round(time.monotonic() - began, 1))
        except BaseException as exc:
            self.restart_errors.append(exc)

    def _raise_restart_error(self) -> None:
        if self.restart_errors:
            raise self.restart_errors[0]

    def gate(self, started: int) -> None:
        """Hold a client that ran too far past a kill point until the chaos is ready for that kill
        (not until it happened: a kill should find requests in flight, not clients waiting)."""
        due = sum(1 for t in self.thresholds if started >= t + self.slack)
        began = time.monotonic()
        with self.cond:
            if not self.cond.wait_for(lambda: self.ready >= due, timeout=120):
                raise AssertionError(f"the chaos was not ready for kill {due} within 120 s")
            self.gated_seconds += time.monotonic() - began


def plan_chaos(rng: random.Random, total_ops: int, kills: int) -> tuple[list[int], list[str]]:
    """Seeded kill points spread over the load. Targets alternate between an API process and a
    worker (so an API process has time to start again before the next API kill), each kind's
    instances in seeded order, both of each at least once."""
    kinds = ["api", "worker"]
    rng.shuffle(kinds)
    turns = {kind: [f"{kind}{n % 2}" for n in range((kills + 1 - k) // 2)] for k, kind in enumerate(kinds)}
    for names in turns.values():
        rng.shuffle(names)
    targets = [turns[kinds[k % 2]][k // 2] for k in range(kills)]
    step = total_ops * 0.7 / kills
    thresholds = [int(total_ops * 0.08 + step * k + rng.uniform(0, step * 0.5)) for k in range(kills)]
    return thresholds, targets


class LoadClient(threading.Thread):
    """`ops` operations on its own orders and, now and then, on the orders every client shares."""

    def __init__(self, index: int, seed: int, client: FailoverClient, own: list[str], shared: list[str], ops: int,
                 progress: Progress, chaos: Chaos, record: Callable[[Sent], None]) -> None:
        super().__init__(name=f"load-{index}", daemon=True)
        self.index, self.client, self.own, self.shared, self.ops = index, client, own, shared, ops
        self.progress, self.chaos, self.record = progress, chaos, record
        self.rng = random.Random(seed)
        self.skipped = 0  # operations with no feasible step or an unreadable state
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for n in range(self.ops):
                self.chaos.gate(self.progress.next())
                number = self.rng.choice(self.shared if self.rng.random() < 0.2 else self.own)
                if not self.step(number, n):
                    self.skipped += 1
        except BaseException as exc:
            self.error = exc

    def step(self, number: str, n: int) -> bool:
        order = self.client.get(f"/v1/orders/{number}")
        if order is None:
            return False
        choices: list[tuple[str, float]] = []
        lines: Lines = {ln["line_id"]: ln for ln in order["lines"]}
        open_lines = [lid for lid, ln in lines.items() if ln["ledger"]["open"] > 0]
        if open_lines:
            choices += [("cancel", 2), ("cancel_refund", 2), ("request", 2)]
        if any(ln["ledger"]["pending_cancel"] for ln in lines.values()):
            choices += [("decide", 3)]
        splittable = [p for p in order["packages"]
                      if p["status"] == "Picking" and sum(i["quantity"] for i in p["items"]) >= 2]
        if splittable:
            choices += [("split", 2.5)]
        if any(ln["ledger"]["cancelled"] for ln in lines.values()):
            choices += [("refund", 1.5), ("settle", 1)]
        if not choices:
            return False
        kind = self.rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]
        key = f"{kind}:{self.index}:{n}"
        made = getattr(self, f"_{kind}")(number, lines, open_lines, splittable, key)
        if made is None:
            return False
        self.record(self.client.post(made))
        return True

    # -- one builder per kind: a Sent, or None when the state offers nothing to do ----------------

    def _units(self, lines: Lines, open_lines: list[str]) -> tuple[str, int]:
        line_id = self.rng.choice(open_lines)
        return line_id, self.rng.randint(1, min(2, lines[line_id]["ledger"]["open"]))

    def _cancel(self, number: str, lines: Lines, open_lines: list[str], _splittable: Packages, key: str) -> Sent:
        line_id, qty = self._units(lines, open_lines)
        body = {"lines": [{"line_id": line_id, "quantity": qty, "reason_id": CANCEL_REASON}]}
        return Sent("cancel", key, f"/v1/orders/{number}/cancellations", body, number)

    def _cancel_refund(self, number: str, lines: Lines, open_lines: list[str], _splittable: Packages,
                       key: str) -> Sent:
        line_id, qty = self._units(lines, open_lines)
        body = {"lines": [{"line_id": line_id, "quantity": qty, "reason_id": CANCEL_REASON}]}
        return Sent("cancel_refund", key, f"/v1/orders/{number}/cancellations-with-refund", body, number)

    def _request(self, number: str, lines: Lines, open_lines: list[str], _splittable: Packages, key: str) -> Sent:
        line_id, qty = self._units(lines, open_lines)
        body = {"order_number": number, "lines": [{"line_id": line_id, "quantity": qty, "reason_id": CANCEL_REASON}]}
        return Sent("request", key, "/v1/cancel-requests", body, number)

    def _decide(self, number: str, _lines: Lines, _open: list[str], _splittable: Packages, key: str) -> Sent | None:
        found = self.client.get("/v1/cancel-requests", order_number=number, status="pending")
        if not found or not found["data"]:
            return None
        request = self.rng.choice(found["data"])
        roll = self.rng.random()
        if roll < 0.35:
            kind, body = "approve", {}
        elif roll < 0.7:
            item = request["lines"][0]
            kind, body = "approve", {"lines": [{"line_id": item["line_id"],
                                                "quantity": self.rng.randint(0, item["quantity"])}]}
        else:
            kind, body = "reject", {"reason_id": DENIAL_REASON}
        return Sent(kind, key.replace("decide", kind, 1), f"/v1/cancel-requests/{request['id']}/{kind}", body, number)

    def _split(self, number: str, lines: Lines, _open: list[str], splittable: Packages, key: str) -> Sent:
        package = self.rng.choice(splittable)
        holds = {i["line_id"]: i["quantity"] for i in package["items"]}
        total = sum(holds.values())
        line_id = self.rng.choice(sorted(holds))
        group = self.rng.randint(1, min(holds[line_id], total - 1))  # something stays for the remainder
        body: dict[str, Any] = {"packages": [{"items": [{"line_id": line_id, "quantity": group}]}], "cancelled": []}
        kind = "split"
        candidates = [lid for lid, q in holds.items() if q - (group if lid == line_id else 0) >= 1
                      and lines[lid]["ledger"]["open"] >= 1]
        if candidates and self.rng.random() < 0.5:
            body["cancelled"] = [{"line_id": self.rng.choice(candidates), "quantity": 1, "reason_id": SPLIT_REASON}]
            kind = "split_cancel"
        return Sent(kind, key.replace("split", kind, 1), f"/v1/orders/{number}/packages/{package['package_id']}/split",
                    body, number)

    def _refunds(self, number: str) -> list[dict[str, Any]] | None:
        found = self.client.get(f"/v1/orders/{number}/refunds")
        return None if found is None else found["data"]

    def _refund(self, number: str, lines: Lines, _open: list[str], _splittable: Packages, key: str) -> Sent | None:
        refunds = self._refunds(number)
        if refunds is None:
            return None
        done: dict[str, int] = {}
        for r in refunds:
            if r["status"] != "failed" and r["cause"] == "cancellation":
                for item in r["lines"]:
                    done[item["line_id"]] = done.get(item["line_id"], 0) + item["quantity"]
        refundable = {lid: ln["ledger"]["cancelled"] - done.get(lid, 0) for lid, ln in lines.items()}
        candidates = sorted(lid for lid, n in refundable.items() if n > 0)
        if not candidates:
            return None
        line_id = self.rng.choice(candidates)
        body = {"lines": [{"line_id": line_id, "quantity": self.rng.randint(1, min(2, refundable[line_id]))}],
                "cause": "cancellation"}
        return Sent("refund", key, f"/v1/orders/{number}/refunds", body, number)

    def _settle(self, number: str, _lines: Lines, _open: list[str], _splittable: Packages, key: str) -> Sent | None:
        refunds = self._refunds(number)
        pending = [r for r in refunds or [] if r["status"] == "pending"]
        if not pending:
            return None
        refund = self.rng.choice(pending)
        body = {"status": "succeeded" if self.rng.random() < 0.7 else "failed"}
        return Sent("settle", key, f"/v1/refunds/{refund['id']}/settle", body, number)
