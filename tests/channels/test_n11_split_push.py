"""Package splits decided in kalem B reach kalem A's n11 face as `splitPackageByQuantity`, over real
HTTP, on both databases: each lands once (also when B's sync is killed with SIGKILL after A took it),
a later split addresses the package n11 made, a split's cancelled units are cancelled on A, and a
package n11 no longer splits is a dead letter that keeps n11's answer."""

from __future__ import annotations

import os
import signal
from typing import Any

import httpx
import pytest

from tests.channels.kalems import Kalem, eventually
from tests.channels.test_n11_kalem_to_kalem import events, ledger, n11_pair

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgresql"]
NUMBER, SHIPPED = "4300000001", "4300000002"
SPLIT = "/rest/delivery/v1/splitPackageByQuantity"


def packages(kalem: Kalem, number: str) -> list[dict[str, Any]]:
    with kalem.api() as api:
        return api.get(f"/v1/orders/{number}/packages").json()["packages"]


def live_units(kalem: Kalem, number: str) -> list[int]:
    """The units of each Created/Picking package of the order, smallest first."""
    return sorted(sum(i["quantity"] for i in p["items"]) for p in packages(kalem, number)
                  if p["status"] in ("Created", "Picking"))


def step(kalem: Kalem, number: str, package_id: str, status: str, **extra: Any) -> None:
    with kalem.api() as api:
        done = api.post(f"/v1/orders/{number}/packages/{package_id}/status", json={"status": status, **extra})
    assert done.status_code == 200, done.text


def split(kalem: Kalem, number: str, package_id: str, groups: list[dict[str, int]],
          cancelled: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body = {"packages": [{"items": [{"line_id": k, "quantity": v} for k, v in g.items()]} for g in groups],
            "cancelled": cancelled or []}
    with kalem.api() as api:
        done = api.post(f"/v1/orders/{number}/packages/{package_id}/split", json=body)
    assert done.status_code == 200, done.text
    return done.json()


def split_pushes(b: Kalem) -> list[dict[str, Any]]:
    return [p for p in b.pushes() if p["event_type"] == "package.split"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_splits_decided_in_b_land_on_a_exactly_once(backend, postgres):
    with n11_pair(backend, postgres, NUMBER, SHIPPED) as (a, b, proxy, account, keys):
        eventually(lambda: ledger(b, NUMBER).get("open") == 6 and ledger(b, SHIPPED).get("open") == 6,
                   "the orders did not reach B")
        with b.api() as api:
            line_id = api.get(f"/v1/orders/{NUMBER}").json()["lines"][0]["line_id"]
        root = f"{NUMBER}-1"

        # B approves its package and splits it 2 + 4; A takes the split, B's sync dies before the
        # answer: the retry reads A first and does not split again.
        step(b, NUMBER, root, "Picking")
        proxy.trap(SPLIT)
        first = split(b, NUMBER, root, [{line_id: 2}])
        assert proxy.trapped.wait(60), "the split never reached A"
        assert b.syncer is not None
        os.kill(b.syncer.pid, signal.SIGKILL)
        b.syncer.wait(10)
        eventually(lambda: live_units(a, NUMBER) == [2, 4], "the trapped split did not land on A")
        b.sync()
        eventually(lambda: [p["status"] for p in split_pushes(b)] == ["done"], "the retried split did not finish")
        assert split_pushes(b)[0]["attempts"] >= 2
        assert live_units(a, NUMBER) == [2, 4]
        assert len(events(a, NUMBER, "package.split")) == 1

        # B splits the package of 4 it made, cancelling one unit on the way: n11's own package of 4
        # is split (2 + 1) and the unit cancelled on A, once.
        remainder = first["remainder"]
        split(b, NUMBER, remainder, [{line_id: 2}], [{"line_id": line_id, "quantity": 1, "reason_id": 135}])
        eventually(lambda: live_units(a, NUMBER) == [1, 2, 2], "the split with a cancel did not land on A")
        eventually(lambda: all(p["status"] == "done" for p in b.pushes()), "B's pushes did not finish")
        assert ledger(a, NUMBER)["cancelled"] == 1 and ledger(a, NUMBER)["open"] == 5
        assert len(events(a, NUMBER, "package.split")) == 2
        assert len(events(a, NUMBER, "lines.cancelled")) == 1
        assert ledger(b, NUMBER)["cancelled"] == 1
        assert len(events(b, NUMBER, "lines.cancelled")) == 1  # A's cancel is B's own: not taken in again

        # A package shipped on n11 meanwhile no longer splits: B's split is a dead letter that keeps
        # n11's answer, A is unchanged and the sync keeps running.
        shipped_id = packages(a, SHIPPED)[0]["package_id"]
        step(a, SHIPPED, shipped_id, "Shipped", cargo_tracking_number="TRK1")
        step(b, SHIPPED, f"{SHIPPED}-1", "Picking")
        with b.api() as api:
            shipped_line = api.get(f"/v1/orders/{SHIPPED}").json()["lines"][0]["line_id"]
        split(b, SHIPPED, f"{SHIPPED}-1", [{shipped_line: 3}])
        eventually(lambda: any(p["status"] == "dead" for p in split_pushes(b)), "no dead letter")
        dead = next(p for p in split_pushes(b) if p["status"] == "dead")
        assert dead["last_error_kind"] == "refused"
        assert f"n11 refused to split package {shipped_id} (Shipped on n11" in dead["last_error"]
        assert httpx.Response(400, content=dead["last_body"]).json()["status"] == "failure"
        assert events(a, SHIPPED, "package.split") == []
        assert b.syncer.poll() is None
