"""kalem B as an n11 seller of kalem A's n11 face, over real HTTP, on both databases: orders placed on A
appear in B once; cancels decided in B land in A's ledger exactly once — also when B's sync is killed
with SIGKILL mid-push and while A is down; cancels made on A appear in B and are not pushed back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.channels.kalems import (
    Garbage,
    Kalem,
    Proxy,
    eventually,
    kalems,
    push_waits_while_a_is_down,
    sync_killed_mid_push,
)
from tests.support import order

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgresql"]
NUMBER = "4100000001"


def six_units(number: str, seller: str = "acme", **changes: Any) -> dict[str, Any]:
    body = order(number, seller, **changes)
    body["lines"][0]["quantity"] = 6
    body["lines"][0]["discount"] = "0"
    body["packages"][0]["items"][0]["quantity"] = 6
    return body


@contextmanager
def n11_pair(backend: str, postgres: str, *numbers: str) -> Iterator[tuple[Kalem, Kalem, Proxy, str, tuple[str, ...]]]:
    """A serving seller acme's n11 orders `numbers` behind a proxy, and B serving and syncing an n11 channel
    account on that proxy: (a, b, the proxy, the account's id, the n11 appkey and appsecret)."""
    with kalems(backend, postgres) as (a, b):
        keys = tuple(a.run("token", "create", "--role", "seller", "--seller-id", "acme", "--n11",
                           "--new-seller").split())
        a.serve()
        proxy = Proxy(a.base)
        try:
            with a.api() as api:
                for number in numbers:
                    assert api.post("/v1/orders", json=six_units(number, channel="n11")).status_code == 201
            account = b.run("channel", "add", "--platform", "n11", "--seller-id", "acme", "--base-url", proxy.url,
                            "--credential", f"appkey={keys[0]}", "--credential", f"appsecret={keys[1]}")
            b.serve()
            b.sync()
            yield a, b, proxy, account, keys
        finally:
            proxy.close()


def ledger(kalem: Kalem, number: str) -> dict[str, int]:
    with kalem.api() as api:
        answer = api.get(f"/v1/orders/{number}")
    if answer.status_code != 200:
        return {}
    return answer.json()["lines"][0]["ledger"]


def events(kalem: Kalem, number: str, kind: str) -> list[dict[str, Any]]:
    with kalem.api() as api:
        found = api.get(f"/v1/orders/{number}/events").json()["data"]
    return [e for e in found if e["type"] == kind]


def cancel_in_b(b: Kalem, number: str, line_id: str) -> None:
    with b.api() as api:
        done = api.post(f"/v1/orders/{number}/cancellations",
                        json={"lines": [{"line_id": line_id, "quantity": 1, "reason_id": 135}]})
    assert done.status_code == 200, done.text


def cancel_on_a_as_n11(a: Kalem, keys: tuple[str, str], number: str) -> None:
    """What n11's own seller panel would do: split a live package, cancelling one unit."""
    headers = {"appkey": keys[0], "appsecret": keys[1]}
    with httpx.Client(base_url=a.base, headers=headers) as n11:
        packages = n11.get("/rest/delivery/v1/shipmentPackages", params={"orderNumber": number}).json()["content"]
        live = next(p for p in packages if p["shipmentPackageStatus"] == "Picking")
        line = live["lines"][0]
        done = n11.post("/rest/delivery/v1/splitPackageByQuantity", json={
            "cancelledItems": [{"cancelReasonId": 61, "orderLineId": line["orderLineId"], "quantity": 1}],
            "splitPackages": [{"packageDetails": [{"orderLineId": line["orderLineId"],
                                                   "quantities": line["quantity"] - 1}]}]})
    assert done.status_code == 200, done.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_orders_and_cancels_cross_between_kalems_exactly_once(backend, postgres):
    with n11_pair(backend, postgres, NUMBER) as (a, b, proxy, account, keys):
        # The order placed on A appears in B, once, on channel n11, however often B pulls.
        eventually(lambda: ledger(b, NUMBER).get("open") == 6, "the order did not reach B")
        pulls = b.accounts()[0]["health"]["last_success_at"]
        eventually(lambda: b.accounts()[0]["health"]["last_success_at"] != pulls, "B did not pull again")
        with b.api() as api:
            placed = api.get(f"/v1/orders/{NUMBER}").json()
            assert [o["order_number"] for o in api.get("/v1/orders").json()["data"]] == [NUMBER]
        assert placed["channel"] == "n11" and placed["seller_id"] == "acme"
        assert len(events(b, NUMBER, "order.placed")) == 1
        line_id = placed["lines"][0]["line_id"]

        # A cancel decided in B lands in A's ledger once.
        cancel_in_b(b, NUMBER, line_id)
        eventually(lambda: ledger(a, NUMBER).get("cancelled") == 1, "B's cancel did not reach A")
        eventually(lambda: all(p["status"] == "done" for p in b.pushes()), "B's push did not finish")

        # A cancel made on A (as n11 would) appears in B, and is not pushed back.
        cancel_on_a_as_n11(a, keys, NUMBER)
        eventually(lambda: ledger(b, NUMBER).get("cancelled") == 2, "A's cancel did not reach B")
        assert len(b.pushes()) == 1

        # B's sync killed with SIGKILL after A took the push, before B heard the answer: sent once.
        proxy.trap("/rest/delivery/v1/splitPackageByQuantity")
        cancel_in_b(b, NUMBER, line_id)
        sync_killed_mid_push(b, proxy, lambda: ledger(a, NUMBER).get("cancelled") == 3)

        # A down for a while: the push waits, retries with backoff, and lands once A is back.
        push_waits_while_a_is_down(a, b, lambda: cancel_in_b(b, NUMBER, line_id),
                                   lambda: ledger(a, NUMBER).get("cancelled") == 4)

        # Nothing applied twice on A, nothing lost, and B agrees.
        assert ledger(a, NUMBER) == {**ledger(a, NUMBER), "cancelled": 4, "open": 2}
        assert len(events(a, NUMBER, "lines.cancelled")) == 4
        eventually(lambda: ledger(b, NUMBER).get("cancelled") == 4, "B drifted from A")
        assert len(events(b, NUMBER, "lines.cancelled")) == 4
        assert b.syncer.poll() is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_credentials_and_unreadable_answers_are_reported_never_fatal(backend, postgres):
    with kalems(backend, postgres) as (a, b):
        a.run("token", "create", "--role", "seller", "--seller-id", "acme", "--n11", "--new-seller")
        a.serve()
        garbage = Garbage()
        try:
            b.run("channel", "add", "--platform", "n11", "--seller-id", "acme", "--base-url", a.base,
                  "--credential", "appkey=n11k_wrong", "--credential", "appsecret=wrong-secret")
            b.run("channel", "add", "--platform", "n11", "--seller-id", "shop", "--base-url", garbage.url,
                  "--credential", "appkey=k", "--credential", "appsecret=s")
            b.serve()
            with b.api() as api:  # an order of the shop's n11 channel, then a cancel of it decided in B
                assert api.post("/v1/orders", json=six_units("4200000001", "shop", channel="n11")).status_code == 201
            cancel_in_b(b, "4200000001", six_units("4200000001")["lines"][0]["line_id"])
            sync = b.sync()

            def account(seller: str) -> dict[str, Any]:
                return next(x for x in b.accounts() if x["seller_id"] == seller)

            # Wrong credentials: said so on the account, and retried later and later, never in a loop.
            eventually(lambda: account("acme")["health"]["consecutive_failures"] >= 3, "no retries were made")
            health = account("acme")["health"]
            assert health["last_error_kind"] == "credentials_rejected"
            assert "wrong-secret" not in str(b.accounts()) and "n11k_wrong" not in str(b.accounts())
            assert health["next_pull_at"] > health["last_error_at"]
            assert health["last_success_at"] is None

            # An answer kalem does not understand: the pull says so, the push is a dead letter with the
            # body kept, and the sync keeps running.
            eventually(lambda: account("shop")["health"]["last_error_kind"] == "unreadable_answer",
                       "the unreadable pull was not reported")
            eventually(lambda: any(p["status"] == "dead" for p in b.pushes()), "no dead letter")
            dead = next(p for p in b.pushes() if p["status"] == "dead")
            assert dead["last_error_kind"] == "unreadable_answer"
            assert dead["last_body"] == Garbage.BODY.decode()
            assert sync.poll() is None

            # A dead letter can be sent again from the CLI.
            b.run("channel", "replay", str(dead["id"]))
            eventually(lambda: next(p for p in b.pushes() if p["id"] == dead["id"])["attempts"] >= 1
                       and next(p for p in b.pushes() if p["id"] == dead["id"])["status"] == "dead",
                       "the replayed push was not tried again")
            assert sync.poll() is None
        finally:
            garbage.close()
