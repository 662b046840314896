"""The change feed under concurrent writers: a reader paging `after=` while 16 writers cancel units of
the same orders sees every event once, no event behind its cursor, and each order's events strictly
in sequence (on PostgreSQL a later writer may hold the smaller transaction id)."""

from __future__ import annotations

import concurrent.futures
import random
import threading

import httpx

from tests.conftest import ADMIN
from tests.support import manual_refunds

ORDERS, UNITS, WRITERS = 12, 32, 16


def _order(n: int) -> dict:
    number = f"FEED-{n:03d}"
    return {"order_number": number, "seller_id": "acme", "currency": "TRY",
            "lines": [{"line_id": f"{number}-a", "sku": "A", "name": "A", "quantity": UNITS, "unit_price": "1.00"}]}


def test_a_live_reader_sees_each_orders_events_in_sequence(server):
    manual_refunds(server.db)  # about something else than the refund a decision makes
    url = server.url
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as api:
        for n in range(ORDERS):
            assert api.post("/v1/orders", json=_order(n)).status_code == 201
    work = [n for n in range(ORDERS) for _ in range(UNITS)]
    random.Random(7).shuffle(work)
    done = threading.Event()
    seen: list[dict] = []

    def read() -> None:
        cursor = None
        with httpx.Client(base_url=url, headers=headers, timeout=60) as reader:
            while True:
                finished = done.is_set()
                page = reader.get("/v1/events", params={"limit": 50, **({"after": cursor} if cursor else {})}).json()
                seen.extend(page["data"])
                cursor = page["next_cursor"] or cursor
                if finished and not page["data"]:
                    return

    def cancel(chunk: list[int]) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as writer:
            for n in chunk:
                number = f"FEED-{n:03d}"
                answer = writer.post(f"/v1/orders/{number}/cancellations", json={
                    "lines": [{"line_id": f"{number}-a", "quantity": 1, "reason_id": 136}]})
                assert answer.status_code == 200, answer.text

    reader = threading.Thread(target=read)
    reader.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(cancel, [work[i::WRITERS] for i in range(WRITERS)]))
    finally:
        done.set()
        reader.join(120)
    assert len({e["id"] for e in seen}) == len(seen) == ORDERS * (1 + UNITS)  # placed, then a cancel per unit
    for n in range(ORDERS):
        sequences = [e["sequence"] for e in seen if e["order_number"] == f"FEED-{n:03d}"]
        assert sequences == sorted(sequences) == list(range(1, len(sequences) + 1)), (n, sequences)
