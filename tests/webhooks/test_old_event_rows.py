"""Event rows written before units had numbers, stored as they were written: the order's history, the
change feed and webhook deliveries all show them as today's events (`units` empty: which units they
were was never written)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kalem.domain.events import Event
from kalem.store.repositories import EventRepository
from tests.old_events import OLD_ROWS
from tests.support import order
from tests.webhooks.conftest import drain, subscribe

NUMBER = "4000000501"
FIRST = 100  # the old rows' sequences, after the order's own events


def _text(value: object) -> str:
    return json.dumps(value)  # compares key order too


def test_old_rows_are_read_as_todays_events_wherever_events_are_read(api, db, receiver, worker):
    subscribe(api, receiver.url)
    assert api.post("/v1/orders", json=order(NUMBER)).status_code == 201
    placed = api.get(f"/v1/orders/{NUMBER}").json()
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with db.engine.begin() as conn:
        EventRepository(conn).append([Event(event_type, placed["id"], placed["seller_id"], NUMBER, FIRST + i, at,
                                            "operator:old", old) for i, (event_type, old, _) in enumerate(OLD_ROWS)])
        stored = [json.loads(r.data) for r in conn.exec_driver_sql(
            "SELECT data FROM events WHERE sequence >= 100 ORDER BY sequence")]
    assert stored == [old for _, old, _ in OLD_ROWS]  # written in the old shape
    expected = {FIRST + i: (event_type, _text(now)) for i, (event_type, _, now) in enumerate(OLD_ROWS)}

    history = api.get(f"/v1/orders/{NUMBER}/events", params={"after": FIRST - 1}).json()["data"]
    assert {e["sequence"]: (e["type"], _text(e["data"])) for e in history} == expected

    feed = api.get("/v1/events", params={"limit": 1000}).json()["data"]
    assert {e["sequence"]: (e["type"], _text(e["data"])) for e in feed if e["sequence"] >= FIRST} == expected

    drain(worker, lambda: len(receiver.requests) == 1 + len(OLD_ROWS))
    bodies = [r.json() for r in receiver.requests]
    assert {b["sequence"]: (b["type"], _text(b["data"])) for b in bodies if b["sequence"] >= FIRST} == expected
