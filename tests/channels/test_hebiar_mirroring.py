"""kalem B as a Hebiar OMS operator of kalem A's Hebiar face, over real HTTP, on both databases: what
the OMS's hooks carry beyond cancels, and what reconciliation recovers when a hook is lost.

- The seller's decisions on B's cancel requests are made on A while A sends B no decision hook (lost):
  B's requests stay pending, B's `kalem reconcile` reports the order (units awaiting a decision on B,
  decided on the OMS), and taking the platform's state decides B's request as the OMS shows it —
  approved for the unit the seller approved, or rejected with the seller's reason.
- The package steps made on A (approved, shipped, delivered) reach B by A's package hooks and move
  B's package the same steps, once, through the same use case; nothing of it is pushed back.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.channels.kalems import Kalem, eventually, kalems
from tests.channels.test_akinon_kalem_to_kalem import PASSWORD, create_user, events
from tests.channels.test_hebiar_kalem_to_kalem import (
    HOOKS,
    LINE,
    NUMBER,
    SECRET,
    ledger,
    request_in_b,
    requests_of,
)
from tests.support import two_line_order

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgresql"]
PACKAGE = f"{NUMBER}-1"   # the order's one package, on A and on B
GONE = 168                # "Gönderi Yola Çıktı": the seller's reason for refusing the second request


def reconcile(b: Kalem) -> list[dict[str, Any]]:
    return [json.loads(line) for line in b.run("reconcile", "--channel", "hebiar").splitlines()]


def drift(b: Kalem, account: str) -> list[dict[str, Any]]:
    with b.api() as api:
        return list(api.get(f"/v1/channel-accounts/{account}/drift").json()["data"])


def take_platform(b: Kalem, drift_id: str) -> dict[str, Any]:
    with b.api() as api:
        answer = api.post(f"/v1/channel-drift/{drift_id}/resolve", json={"resolution": "take_platform"})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def pending_on_a(a: Kalem) -> dict[str, Any]:
    [found] = [r for r in requests_of(a) if r["status"] == "pending"]
    return found


def step_on_a(a: Kalem, status: str, **extra: Any) -> None:
    with a.api() as api:
        done = api.post(f"/v1/orders/{NUMBER}/packages/{PACKAGE}/status", json={"status": status, **extra})
    assert done.status_code == 200, done.text


def package_in(kalem: Kalem) -> dict[str, Any]:
    with kalem.api() as api:
        [package] = api.get(f"/v1/orders/{NUMBER}").json()["packages"]
    return package  # type: ignore[no-any-return]


@pytest.mark.parametrize("backend", BACKENDS)
def test_lost_decisions_are_recovered_by_reconciliation_and_package_steps_are_mirrored(backend, postgres):
    with kalems(backend, postgres) as (a, b):
        create_user(a, "operator", "acme")
        a.serve()
        a.deliver()
        with a.api() as api:
            assert api.post("/v1/orders", json=two_line_order(NUMBER) | {"channel": "hebiar"}).status_code == 201
            # The OMS's package hooks reach B; its decision hooks never do (lost).
            subscribed = api.post("/v1/webhook-subscriptions", json={
                "url": b.base + HOOKS.format(seller="acme"), "dialect": "hebiar", "seller_id": "acme",
                "auth": {"kind": "bearer", "token": SECRET},
                "event_types": ["package.approved", "package.shipped", "package.delivered"]})
            assert subscribed.status_code == 201, subscribed.text
        account = b.run("channel", "add", "--platform", "hebiar", "--seller-id", "acme", "--base-url", a.base,
                        "--credential", "UserName=operator", "--credential", f"Password={PASSWORD}",
                        "--credential", f"webhookSecret={SECRET}")
        b.serve()
        b.sync()
        eventually(lambda: ledger(b).get("open") == 5, "the order did not reach B")

        # A request asked in B, approved on A for one of its two units; the decision hook is lost.
        asked = request_in_b(b, 2)
        eventually(lambda: ledger(a).get("pending_cancel") == 2, "B's cancel request did not reach A")
        with a.api() as api:
            approved = api.post(f"/v1/cancel-requests/{pending_on_a(a)['id']}/approve",
                                json={"lines": [{"line_id": LINE, "quantity": 1}]})
        assert approved.status_code == 200, approved.text
        assert ledger(b)["pending_cancel"] == 2
        [report] = reconcile(b)
        assert [d["order_number"] for d in report["drift"]] == [NUMBER]
        [found] = drift(b, account)
        [line] = found["lines"]
        assert line["line_id"] == LINE
        assert (line["kalem"]["pending_cancel"], line["platform"]["pending_cancel"]) == (2, 0)
        assert (line["kalem"]["cancelled"], line["platform"]["cancelled"]) == (0, 1)
        left = take_platform(b, found["id"])["left"]
        assert left == [], json.dumps(left)
        [decided] = [r for r in requests_of(b) if r["id"] == asked]
        assert decided["status"] == "approved"
        assert (ledger(b)["cancelled"], ledger(b)["pending_cancel"], ledger(b)["open"]) == (1, 0, 4)
        assert ledger(b)["cancelled"] == ledger(a)["cancelled"]
        assert drift(b, account) == []

        # A second request, rejected on A with the seller's reason; the hook is lost again.
        asked = request_in_b(b, 1)
        eventually(lambda: ledger(a).get("pending_cancel") == 1, "B's second request did not reach A")
        with a.api() as api:
            rejected = api.post(f"/v1/cancel-requests/{pending_on_a(a)['id']}/reject",
                                json={"reason_id": GONE, "note": "on its way"})
        assert rejected.status_code == 200, rejected.text
        [report] = reconcile(b)
        [found] = drift(b, account)
        assert (found["lines"][0]["kalem"]["pending_cancel"], found["lines"][0]["platform"]["pending_cancel"]) == (1, 0)
        assert take_platform(b, found["id"])["left"] == []
        [decided] = [r for r in requests_of(b) if r["id"] == asked]
        assert decided["status"] == "rejected" and decided["decision_reason_id"] == GONE
        assert (ledger(b)["cancelled"], ledger(b)["pending_cancel"], ledger(b)["open"]) == (1, 0, 4)

        # The package approved, shipped and delivered on A: B's package follows by A's hooks.
        step_on_a(a, "Picking")
        eventually(lambda: package_in(b)["status"] == "Picking", "the approval did not reach B")
        step_on_a(a, "Shipped", cargo_tracking_number="123456789012")
        eventually(lambda: package_in(b)["status"] == "Shipped", "the shipment did not reach B")
        assert ledger(b)["shipped"] == 4 and ledger(b)["open"] == 0
        step_on_a(a, "Delivered")
        eventually(lambda: package_in(b)["status"] == "Delivered", "the delivery did not reach B")
        assert ledger(b)["delivered"] == 4

        # A hook delivered again changes nothing; nothing was pushed back to A; A and B agree.
        hook = {"hookName": "OrderPackageStatusChangedEvent", "packageId": PACKAGE, "packageType": "ShipToCustomer",
                "items": [{"orderItemLineId": f"{LINE}-2"}], "packageStatusName": "Shipped"}
        with httpx.Client(base_url=b.base, timeout=10) as client:
            again = client.post(HOOKS.format(seller="acme"), json=hook, headers={"Authorization": f"Bearer {SECRET}"})
        assert again.status_code == 204, again.text
        for kind in ("package.approved", "package.shipped", "package.delivered"):
            assert len(events(b, NUMBER, kind)) == 1, kind
        assert [p["event_type"] for p in b.pushes()] == ["cancel_request.created"] * 2
        eventually(lambda: reconcile(b)[0]["drift"] == [], "A and B still differ")
        assert ledger(b) == ledger(a)
