"""The sync sends pushes of different orders a few at a time, and one order's one after another: each
push reads the platform's state first and sends what it does not show yet, so two pushes of one order
at once could both send it."""

from __future__ import annotations

import threading
from collections import Counter
from functools import partial
from typing import Any

import sqlalchemy as sa

from kalem.app.channel_connectors import Done, Outcome, PushRequest
from kalem.app.channel_sync import ChannelSync, SyncSettings
from kalem.store.channel_accounts import ChannelAccount
from kalem.store.uow import UnitOfWork
from tests.support import order

NUMBERS = ("4300000001", "4300000002", "4300000003")


class Platform:
    """A stand-in connector: the pushes of the second and third orders must be in flight together (they
    meet at a barrier), and no order may ever have two in flight."""

    platform = "n11"
    credential_names = ("appkey", "appsecret")
    pushes = frozenset({"lines.cancelled"})

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.overlaps: list[str] = []
        self.sent: list[str] = []
        self.together = threading.Barrier(2, timeout=30)  # a deadlock guard, not a clock

    def pull(self, account: ChannelAccount, since: str | None) -> Any:
        raise AssertionError("not pulled here")

    def push(self, account: ChannelAccount, request: PushRequest) -> Outcome:
        number = request.order.order_number
        with self.lock:
            self.in_flight[number] += 1
            if self.in_flight[number] > 1:
                self.overlaps.append(number)
        try:
            if number != NUMBERS[0]:
                self.together.wait()
            with self.lock:
                self.sent.append(number)
            return Done()
        finally:
            with self.lock:
                self.in_flight[number] -= 1


def test_pushes_of_different_orders_go_together_and_one_orders_one_after_another(api, db):
    made = api.post("/v1/channel-accounts", json={"platform": "n11", "base_url": "https://api.n11.example",
                                                  "credentials": {"appkey": "k", "appsecret": "s"},
                                                  "seller_id": "acme"})
    assert made.status_code == 201, made.text
    for number in NUMBERS:
        assert api.post("/v1/orders", json=order(number, channel="n11")).status_code == 201
        line_id = api.get(f"/v1/orders/{number}").json()["lines"][0]["line_id"]
        for _ in range(2 if number == NUMBERS[0] else 1):   # the first order: two pushes
            cancel = {"lines": [{"line_id": line_id, "quantity": 1, "reason_id": 135}]}
            assert api.post(f"/v1/orders/{number}/cancellations", json=cancel).status_code == 200
    platform = Platform()
    sync = ChannelSync(partial(UnitOfWork, db), {"n11": platform}, SyncSettings(push_workers=4))

    assert sync.push_due() == 4
    assert platform.overlaps == []
    assert Counter(platform.sent) == {NUMBERS[0]: 2, NUMBERS[1]: 1, NUMBERS[2]: 1}
    with db.engine.connect() as conn:
        statuses = conn.execute(sa.text("SELECT status, count(*) FROM channel_pushes GROUP BY status")).all()
    assert dict(statuses) == {"done": 4}
