"""kalem B as an Akinon Omnitron integrator of kalem A's Akinon face, over real HTTP, on both databases:
orders on A appear in B once (one line per `remote_id`, a unit per order item); cancels decided in B
land in A's ledger exactly once — also when B's sync is killed with SIGKILL mid-push and while A is
down; cancels made on A appear in B and are not pushed back; a wrong password is reported, never looped."""

from __future__ import annotations

import subprocess
import sys
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
from tests.support import two_line_order

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgresql"]
NUMBER = "4300000001"
LINE = f"{NUMBER}-b"     # 5 units; the other line (2 units) is never cancelled
PASSWORD = "akinon-integrator-pass"


def create_user(kalem: Kalem, username: str, seller: str) -> None:
    done = subprocess.run([sys.executable, "-m", "kalem.cli", "user", "create", "--username", username,
                           "--seller-id", seller, "--new-seller"], env=kalem.env, input=PASSWORD + "\n",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def ledgers(kalem: Kalem, number: str) -> dict[str, dict[str, int]]:
    with kalem.api() as api:
        answer = api.get(f"/v1/orders/{number}")
    if answer.status_code != 200:
        return {}
    return {line["line_id"]: line["ledger"] for line in answer.json()["lines"]}


def cancelled(kalem: Kalem) -> int:
    return ledgers(kalem, NUMBER).get(LINE, {}).get("cancelled", -1)


def events(kalem: Kalem, number: str, kind: str) -> list[dict[str, Any]]:
    with kalem.api() as api:
        found = api.get(f"/v1/orders/{number}/events").json()["data"]
    return [e for e in found if e["type"] == kind]


def cancel_in_b(b: Kalem) -> None:
    with b.api() as api:
        done = api.post(f"/v1/orders/{NUMBER}/cancellations",
                        json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 135}]})
    assert done.status_code == 200, done.text


def cancel_on_a_as_omnitron(a: Kalem) -> None:
    """What Omnitron's own back office would do: cancel one open order item of the line."""
    with httpx.Client(base_url=a.base, timeout=10) as omnitron:
        key = omnitron.post("/api/v1/auth/login/", json={"username": "integrator", "password": PASSWORD}).json()["key"]
        omnitron.headers["Authorization"] = f"Token {key}"
        order = omnitron.get("/api/v1/orders/", params={"number": NUMBER}).json()["results"][0]
        item = next(i for i in order["orderitem_set"] if i["remote_id"] == LINE and i["status"] == "400")
        done = omnitron.post(f"/api/i1/orders/{order['pk']}/cancel/", json={
            "order": order["pk"], "cancel_items": [item["pk"]], "forced_refund_amount": None,
            "reasons": {str(item["pk"]): 135}})
    assert done.status_code == 200, done.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_orders_and_cancels_cross_between_kalems_exactly_once(backend, postgres):
    with kalems(backend, postgres) as (a, b):
        create_user(a, "integrator", "acme")
        a.serve()
        proxy = Proxy(a.base)
        try:
            with a.api() as api:
                placed_on_a = api.post("/v1/orders", json=two_line_order(NUMBER) | {"channel": "akinon"})
                assert placed_on_a.status_code == 201, placed_on_a.text
            b.run("channel", "add", "--platform", "akinon", "--seller-id", "acme", "--base-url", proxy.url,
                  "--credential", "username=integrator", "--credential", f"password={PASSWORD}")
            b.run("channel", "add", "--platform", "akinon", "--seller-id", "shop", "--base-url", a.base,
                  "--credential", "username=stranger", "--credential", "password=not-the-password")
            b.serve()
            b.sync()

            def account(seller: str) -> dict[str, Any]:
                return next(x for x in b.accounts() if x["seller_id"] == seller)

            # The order placed on A appears in B, once, on channel akinon, however often B pulls: one line
            # per remote_id, as many units as A shows order items.
            eventually(lambda: ledgers(b, NUMBER).get(LINE, {}).get("open") == 5, "the order did not reach B")
            pulls = account("acme")["health"]["last_success_at"]
            eventually(lambda: account("acme")["health"]["last_success_at"] != pulls, "B did not pull again")
            with b.api() as api:
                placed = api.get(f"/v1/orders/{NUMBER}").json()
                assert [o["order_number"] for o in api.get("/v1/orders").json()["data"]] == [NUMBER]
            assert placed["channel"] == "akinon" and placed["seller_id"] == "acme"
            assert {ln["line_id"]: ln["quantity"] for ln in placed["lines"]} == {f"{NUMBER}-a": 2, LINE: 5}
            assert [ln["unit_price"] for ln in placed["lines"]] == ["10.00", "4.00"]
            assert len(events(b, NUMBER, "order.placed")) == 1

            # A cancel decided in B lands in A's ledger once.
            cancel_in_b(b)
            eventually(lambda: cancelled(a) == 1, "B's cancel did not reach A")
            eventually(lambda: all(p["status"] == "done" for p in b.pushes()), "B's push did not finish")
            assert events(a, NUMBER, "lines.cancelled")[0]["data"]["items"][0]["reason_id"] == 135

            # A cancel made on A (as Omnitron would) appears in B, and is not pushed back.
            cancel_on_a_as_omnitron(a)
            eventually(lambda: cancelled(b) == 2, "A's cancel did not reach B")
            assert len(b.pushes()) == 1

            # B's sync killed with SIGKILL after A took the push, before B heard the answer: sent once.
            proxy.trap("/api/i1/orders/")
            cancel_in_b(b)
            sync_killed_mid_push(b, proxy, lambda: cancelled(a) == 3)

            # A down for a while: the push waits, retries with backoff, and lands once A is back.
            push_waits_while_a_is_down(a, b, lambda: cancel_in_b(b),
                                       lambda: cancelled(a) == 4)

            # Nothing applied twice on A, nothing lost, and B agrees; the other line was never touched.
            on_a = ledgers(a, NUMBER)
            assert (on_a[LINE]["cancelled"], on_a[LINE]["open"]) == (4, 1)
            assert (on_a[f"{NUMBER}-a"]["cancelled"], on_a[f"{NUMBER}-a"]["open"]) == (0, 2)
            assert len(events(a, NUMBER, "lines.cancelled")) == 4
            eventually(lambda: cancelled(b) == 4, "B drifted from A")
            assert len(events(b, NUMBER, "lines.cancelled")) == 4
            assert b.syncer.poll() is None

            # The account with a wrong password: said so, retried later and later, the password never shown.
            health = account("shop")["health"]
            assert health["last_error_kind"] == "credentials_rejected"
            assert health["consecutive_failures"] >= 2 and health["last_success_at"] is None
            assert health["next_pull_at"] > health["last_error_at"]
            assert "not-the-password" not in str(b.accounts()) and PASSWORD not in str(b.accounts())
        finally:
            proxy.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_answer_kalem_does_not_understand_is_reported_and_kept(backend, postgres):
    with kalems(backend, postgres) as (_, b):
        garbage = Garbage()
        try:
            b.run("channel", "add", "--platform", "akinon", "--seller-id", "shop", "--base-url", garbage.url,
                  "--credential", "username=integrator", "--credential", f"password={PASSWORD}")
            b.serve()
            with b.api() as api:  # an order of the shop's akinon channel, then a cancel of it decided in B
                body = two_line_order(NUMBER, "shop") | {"channel": "akinon"}
                assert api.post("/v1/orders", json=body).status_code == 201
            cancel_in_b(b)
            sync = b.sync()
            eventually(lambda: b.accounts()[0]["health"]["last_error_kind"] == "unreadable_answer",
                       "the unreadable pull was not reported")
            eventually(lambda: any(p["status"] == "dead" for p in b.pushes()), "no dead letter")
            dead = next(p for p in b.pushes() if p["status"] == "dead")
            assert dead["last_error_kind"] == "unreadable_answer"
            assert dead["last_body"] == Garbage.BODY.decode()
            assert sync.poll() is None
        finally:
            garbage.close()
