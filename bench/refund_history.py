"""What an order's earlier refunds add to the refund its next cancel makes, in-process.

Under the default refund policy a cancel refunds the units it cancelled, and that refund is computed
from the order's refund account: every earlier refund of the order (read with the order's lock, as
one JSON array of rows) loaded, its units and amounts counted, then the new refund made.
This times exactly that work — the lock's answer taken and its refunds decoded and loaded as the
store does it (`MoneyWithLock.take`), the account built and the refund made — for orders that already
hold 0 to 64 refunds, each from a partial cancel of one unit. No database and no HTTP: what
the database adds per earlier refund (reading and sending its row) comes on top.

    .venv/bin/python bench/refund_history.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

HISTORIES = (0, 1, 4, 16, 64)


def _history(refunds: int) -> tuple[Any, Any, list[Any]]:
    """(the order before the next cancel, after it, its earlier refunds): `refunds` one-unit cancels,
    each refunded as the default policy refunds it."""
    from kalem.app.refund_policy import decided_units
    from kalem.domain.events import Actor
    from kalem.domain.orders import CancelItem, cancel_lines, place_order
    from kalem.domain.refunds import Payout, RefundAccount, RefundCause, RefundMethod
    actor, now = Actor("operator", "bench"), datetime.now(UTC)
    order, _ = place_order(common._spec("B000000001", "seller001"), order_id="ord_bench", actor=actor, now=now)

    def cancel(order: Any, n: int) -> Any:   # one unit, of each line in turn
        return cancel_lines(order, [CancelItem(f"B000000001-{'ab'[n % 2]}", 1, 136)], actor=actor, now=now)[0]

    made: list[Any] = []
    for n in range(refunds):
        after = cancel(order, n)
        order, refund, _ = RefundAccount.of(after, made).refund(
            decided_units(order, after, RefundCause.CANCELLATION), cause=RefundCause.CANCELLATION,
            pay=Payout(RefundMethod.ORIGINAL), refund_id=f"rf_{n}", actor=actor, now=now)
        made.append(refund)
    return order, cancel(order, refunds), made


def _lock_answer(refunds: list[Any]) -> bytes:
    """The refunds as the lock statement answers them (store/money_with_lock.py): one JSON array of rows."""
    from kalem.store.refunds import RefundRepository
    rows = []
    for refund in refunds:
        row = RefundRepository.row(refund)
        rows.append([row["id"], row["order_id"], row["seller_id"], row["order_number"], row["status"],
                     row["created_at"].isoformat(), row["iban"], json.loads(row["body"])])
    return json.dumps(rows).encode()


def _take(answer: bytes) -> Any:
    """The lock's row as psycopg hands it over, the refunds decoded by its JSON loader (`json.loads`)."""
    return SimpleNamespace(id="ord_bench", seller_id="seller001", channel="bench", version=1, seen_version=1,
                           held_policies=None, held_strategy=None, held_refunds=json.loads(answer))


def _cost(refunds: int, count: int) -> float:
    """CPU per refund made, ms: decode, load, account, refund."""
    from kalem.app.refund_policy import decided_units
    from kalem.domain.events import Actor
    from kalem.domain.refunds import Payout, RefundAccount, RefundCause, RefundMethod
    from kalem.store.money_with_lock import MoneyWithLock
    from kalem.store.refunds import RefundRepository
    before, after, made = _history(refunds)
    answer = _lock_answer(made)
    units = decided_units(before, after, RefundCause.CANCELLATION)
    actor, now, pay = Actor("operator", "bench"), datetime.now(UTC), Payout(RefundMethod.ORIGINAL)
    started = time.process_time()
    for _ in range(count):
        row, held = _take(answer), MoneyWithLock()
        held.take(row, RefundRepository.load)
        loaded = held.refunds[row.id]
        _, refund, _ = RefundAccount.of(after, loaded).refund(units, cause=RefundCause.CANCELLATION, pay=pay,
                                                              refund_id="rf_next", actor=actor, now=now)
    spent = (time.process_time() - started) * 1000 / count
    if len(loaded) != refunds or refund.amount <= 0:
        raise RuntimeError(f"{refunds} earlier refunds: loaded {len(loaded)}, refunded {refund.amount}")
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--refunds", type=int, default=2000, help="refunds made per measured run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    before = os.getloadavg()[0]
    best: dict[int, float] = {}
    for _ in range(args.repeat):
        for refunds in HISTORIES:
            spent = _cost(refunds, args.refunds)
            best[refunds] = min(best.get(refunds, spent), spent)
    most = HISTORIES[-1]
    per_refund = (best[most] - best[0]) / most * 1000
    rows = [f"| {refunds} | {best[refunds]:.3f} | {best[refunds] - best[0]:+.3f} |" for refunds in HISTORIES]
    common.publish("refund-history", [
        *common.heading("An order's refund history and its next refund", "refund_history.py", argv, before),
        "The refund a cancel makes under the default refund policy, computed in-process (no database, no HTTP) "
        "for an order that already holds some refunds, each of one unit: the order's refunds decoded from the "
        "lock statement's JSON answer and loaded as the store loads them, the refund account built, the refund "
        f"made. CPU per refund, the best of {args.repeat} runs of {args.refunds:,}.",
        "",
        "| earlier refunds of the order | ms per refund | more than with none |",
        "|---:|---:|---:|",
        *rows,
        "",
        f"Each earlier refund adds about {per_refund:.0f} µs here (from none to {most}); PostgreSQL reading and "
        "sending its row comes on top. An order's refunds are bounded by its units, so this does not grow with "
        "the database, but a long history of partial refunds on one order shows in its next one.",
    ], write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
