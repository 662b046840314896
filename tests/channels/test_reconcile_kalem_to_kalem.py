"""Reconciliation between two kalems over real HTTP, on both databases: kalem B, an n11 seller of kalem
A's n11 face, finds the drift made on A while B's sync was not running (`kalem reconcile`), lists it
(API, metrics), and takes A's state; then a cancel decided in B whose push was given up is found by the
sync's periodic reconciliation and pushed again. Each resolution removes the drift and leaves A and B
agreeing, nothing applied twice. The same for kalem B as a Zonos merchant of A's Zonos face, where an
order B holds that Zonos does not is reported too."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kalem.platforms.zonos import wire as zonos_wire
from tests.channels.kalems import Kalem, Proxy, eventually, kalems
from tests.channels.test_n11_kalem_to_kalem import cancel_in_b, cancel_on_a_as_n11, events, ledger, n11_pair, six_units
from tests.channels.test_zonos_kalem_to_kalem import graphql
from tests.observability.processes import stop

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgresql"]
NUMBER = "4500000001"


def reconcile(b: Kalem, *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in b.run("reconcile", *args).splitlines()]


def drift(b: Kalem, account: str) -> list[dict[str, Any]]:
    with b.api() as api:
        answer = api.get(f"/v1/channel-accounts/{account}/drift")
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]  # type: ignore[no-any-return]


def resolve(b: Kalem, drift_id: str, resolution: str) -> dict[str, Any]:
    with b.api() as api:
        answer = api.post(f"/v1/channel-drift/{drift_id}/resolve", json={"resolution": resolution})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def push_kalem_after_take_platform_is_refused(a: Kalem, b: Kalem, account: str, found: dict[str, Any], *,
                                              in_b: str, on_a: str) -> None:
    """A drift where kalem cancelled more than the platform: kalem cannot take back a unit it cancelled,
    so `take_platform` is refused and changes nothing; `push_kalem` lands kalem's two cancels on A (the
    order `on_a` there, `in_b` in B) and the drift goes."""
    with b.api() as api:
        refused = api.post(f"/v1/channel-drift/{found['id']}/resolve", json={"resolution": "take_platform"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "drift_not_resolvable"
    assert ledger(b, in_b)["cancelled"] == 2
    assert resolve(b, found["id"], "push_kalem")["left"] == []
    eventually(lambda: ledger(a, on_a).get("cancelled") == 2, "kalem's state did not reach A")
    eventually(lambda: all(p["status"] == "done" for p in b.pushes()), "the push did not finish")
    eventually(lambda: reconcile(b)[0]["drift"] == [] and drift(b, account) == [], "the drift stayed")


@pytest.mark.parametrize("backend", BACKENDS)
def test_drift_made_on_a_is_reported_by_b_and_each_resolution_leaves_them_agreeing(backend, postgres):
    with n11_pair(backend, postgres, NUMBER) as (a, b, proxy, account, keys):
        eventually(lambda: ledger(b, NUMBER).get("open") == 6, "the order did not reach B")
        with b.api() as api:
            line_id = api.get(f"/v1/orders/{NUMBER}").json()["lines"][0]["line_id"]

        # A and B agree: nothing drifts.
        [report] = reconcile(b)
        assert report["account_id"] == account and report["status"] == "reconciled"
        assert report["compared"] == 1 and report["drift"] == []

        # A cancel made on A while B's sync is not running: B's reconcile reports it, unit by unit.
        assert b.syncer is not None
        stop(b.syncer)
        cancel_on_a_as_n11(a, keys, NUMBER)
        [report] = reconcile(b, "--channel", "n11", "--seller", "acme")
        assert [d["order_number"] for d in report["drift"]] == [NUMBER]
        [found] = drift(b, account)
        [line] = found["lines"]
        assert line["line_id"] == line_id
        assert line["kalem"] == {"open": 6, "cancelled": 0, "shipped": 0, "alive": None, "pending_cancel": None}
        assert line["platform"] == {"open": 5, "cancelled": 1, "shipped": 0, "alive": None, "pending_cancel": None}
        with b.api() as api:
            metrics = api.get("/metrics").text
        assert (f'kalem_channel_drift{{account="{account}",channel="n11",platform="n11",seller="acme"}} 1.0'
                in metrics)
        assert keys[0] not in metrics and keys[1] not in metrics

        # Taking the platform's state: B cancels what A cancelled; the drift is gone; they agree.
        assert resolve(b, found["id"], "take_platform")["left"] == []
        assert drift(b, account) == []
        assert ledger(b, NUMBER) == ledger(a, NUMBER) and ledger(a, NUMBER)["cancelled"] == 1
        with b.api() as api:
            again = api.post(f"/v1/channel-drift/{found['id']}/resolve", json={"resolution": "take_platform"})
            assert again.status_code == 404 and again.json()["error"]["code"] == "channel_drift_not_found"
            assert f'account="{account}"' in api.get("/metrics").text

        # A cancel decided in B whose push is given up (A's answer unreadable): the sync's periodic
        # reconciliation finds it; pushing kalem's state lands it on A once.
        b.env["KALEM_SYNC_RECONCILE_SECONDS"] = "0.5"
        proxy.garbage = True
        b.sync()
        cancel_in_b(b, NUMBER, line_id)
        eventually(lambda: any(p["status"] == "dead" for p in b.pushes()), "the push was not given up")
        proxy.garbage = False
        eventually(lambda: len(drift(b, account)) == 1, "the periodic reconciliation did not find the drift")
        [found] = drift(b, account)
        assert found["lines"][0]["kalem"]["cancelled"] == 2 and found["lines"][0]["platform"]["cancelled"] == 1
        push_kalem_after_take_platform_is_refused(a, b, account, found, in_b=NUMBER, on_a=NUMBER)
        assert ledger(b, NUMBER) == ledger(a, NUMBER)
        assert len(events(a, NUMBER, "lines.cancelled")) == 2   # nothing applied twice
        assert b.syncer is not None and b.syncer.poll() is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_zonos_drift_made_on_a_is_reported_by_b_and_each_resolution_leaves_them_agreeing(backend, postgres):
    number = "4300000201"
    with kalems(backend, postgres) as (a, b):
        token = a.run("token", "create", "--role", "seller", "--seller-id", "acme", "--new-seller")
        a.serve()   # A's webhook worker does not run: what changes on A reaches B only by pulls
        proxy = Proxy(a.base)
        try:
            with a.api() as api:
                assert api.post("/v1/orders", json=six_units(number, channel="zonos")).status_code == 201
                on_a = api.get(f"/v1/orders/{number}").json()
            zonos_id = "order_" + on_a["id"].removeprefix("ord_")
            item_id = "item_" + on_a["lines"][0]["line_id"]
            account = b.run("channel", "add", "--platform", "zonos", "--seller-id", "acme", "--base-url", proxy.url,
                            "--credential", f"credentialToken={token}", "--credential", "webhookSecret=whsec_c2hvcA==")
            b.serve()
            b.sync()
            eventually(lambda: ledger(b, zonos_id).get("open") == 6, "the order did not reach B")
            [report] = reconcile(b)
            assert report["account_id"] == account and report["status"] == "reconciled"
            assert report["compared"] == 1 and report["drift"] == []

            # A removal made on Zonos while B's sync is not running: B's reconcile reports it.
            assert b.syncer is not None
            stop(b.syncer)
            graphql(a, token, zonos_wire.ITEM_UPDATE, orderId=zonos_id, itemId=item_id,
                    itemSku=on_a["lines"][0]["sku"], quantity=1)
            [report] = reconcile(b, "--channel", "zonos", "--seller", "acme")
            assert report["status"] == "reconciled" and [d["order_number"] for d in report["drift"]] == [zonos_id]
            [found] = drift(b, account)
            [line] = found["lines"]
            assert line["line_id"] == item_id
            assert line["kalem"]["alive"] == 6 and line["platform"]["alive"] == 5   # Zonos shows the units left

            # Taking the platform's state: B cancels the unit Zonos removed; they agree.
            assert resolve(b, found["id"], "take_platform")["left"] == []
            assert drift(b, account) == []
            assert ledger(b, zonos_id)["cancelled"] == 1 and ledger(a, number)["cancelled"] == 1

            # A cancel decided in B whose push is given up (A's answer unreadable): reported, then pushed.
            proxy.garbage = True
            b.sync()
            cancel_in_b(b, zonos_id, item_id)
            eventually(lambda: any(p["status"] == "dead" for p in b.pushes()), "the push was not given up")
            proxy.garbage = False
            [report] = reconcile(b)
            [found] = drift(b, account)
            assert found["lines"][0]["kalem"]["alive"] == 4 and found["lines"][0]["platform"]["alive"] == 5
            push_kalem_after_take_platform_is_refused(a, b, account, found, in_b=zonos_id, on_a=number)
            assert len(events(a, number, "lines.cancelled")) == 2   # nothing applied twice

            # An order B holds on its Zonos channel that Zonos does not: reported, and not taken from Zonos.
            missing = "order_00000000-0000-0000-0000-000000000001"
            with b.api() as api:
                assert api.post("/v1/orders", json=six_units(missing, channel="zonos")).status_code == 201
            [report] = reconcile(b)
            assert report["status"] == "reconciled" and [d["order_number"] for d in report["drift"]] == [missing]
            [found] = drift(b, account)
            assert [line["platform"] for line in found["lines"]] == [None]
            with b.api() as api:
                refused = api.post(f"/v1/channel-drift/{found['id']}/resolve", json={"resolution": "take_platform"})
            assert refused.status_code == 409 and refused.json()["error"]["code"] == "drift_not_resolvable"
            assert ledger(b, missing)["cancelled"] == 0
            assert ledger(b, zonos_id) == {**ledger(b, zonos_id), "cancelled": 2, "open": 4}
        finally:
            proxy.close()
