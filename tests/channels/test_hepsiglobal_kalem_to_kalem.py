"""kalem B as a HepsiGlobal marketplace of kalem A's HepsiGlobal face, over real HTTP, on both databases.
HepsiGlobal's marketplace creates the orders: an order placed in B on the channel appears on A once
(Create Order); an item cancelled in B lands in A's ledger exactly once (Cancel order by marketplace) —
also when B's sync is killed with SIGKILL mid-push and while A is down; a cancel of some of an item's
units is a dead letter that says why; a seller's cancel made on A reaches B by A's signed order-cancel
webhook, once per `cancel_id`, and is not pushed back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from tests.channels.kalems import Kalem, Proxy, eventually, kalems, push_waits_while_a_is_down, sync_killed_mid_push
from tests.channels.test_n11_kalem_to_kalem import events

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgresql"]
NUMBER = "4400000001"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HOOKS = "/v1/channel-webhooks/hepsiglobal/{seller}/hepsiglobal/webhooks/order-cancel"
ITEMS = [f"{NUMBER}-{x}" for x in "abcd"]


def marketplace_order() -> dict[str, Any]:
    """An order the marketplace (B) sells: four items of two units, on its HepsiGlobal channel."""
    return {"order_number": NUMBER, "seller_id": "acme", "currency": "USD", "channel": "hepsiglobal",
            "lines": [{"line_id": item, "sku": f"SKU-{item[-1]}", "name": f"Item {item[-1]}", "quantity": 2,
                       "unit_price": "12.50"} for item in ITEMS]}


def ledgers(kalem: Kalem) -> dict[str, dict[str, int]]:
    with kalem.api() as api:
        answer = api.get(f"/v1/orders/{NUMBER}")
    if answer.status_code != 200:
        return {}
    return {line["line_id"]: line["ledger"] for line in answer.json()["lines"]}


def cancelled(kalem: Kalem, item: str) -> int:
    return ledgers(kalem).get(item, {}).get("cancelled", -1)


def cancel_in_b(b: Kalem, item: str, quantity: int = 2) -> None:
    with b.api() as api:
        done = api.post(f"/v1/orders/{NUMBER}/cancellations",
                        json={"lines": [{"line_id": item, "quantity": quantity, "reason_id": 135}]})
    assert done.status_code == 200, done.text


def signed_put(b: Kalem, body: dict[str, Any], secret: str = SECRET, msg_id: str = "msg_again") -> httpx.Response:
    content = json.dumps(body)
    at = datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, at, content)
    with httpx.Client(base_url=b.base, timeout=10) as client:
        return client.put(HOOKS.format(seller="acme"), content=content, headers={
            "content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature})


@pytest.mark.parametrize("backend", BACKENDS)
def test_orders_cancels_and_seller_cancels_cross_between_kalems_exactly_once(backend, postgres):
    with kalems(backend, postgres) as (a, b):
        token = a.run("token", "create", "--role", "seller", "--seller-id", "acme", "--new-seller")
        a.serve()
        a.deliver()
        proxy = Proxy(a.base)
        try:
            # HepsiGlobal (A) calls the marketplace's order-cancel webhook on B, signed with the secret.
            with a.api() as api:
                subscribed = api.post("/v1/webhook-subscriptions", json={
                    "url": b.base + HOOKS.format(seller="acme"), "dialect": "hepsiglobal", "secret": SECRET,
                    "event_types": ["lines.cancelled", "cancel_request.approved"], "seller_id": "acme"})
            assert subscribed.status_code == 201, subscribed.text
            b.run("channel", "add", "--platform", "hepsiglobal", "--seller-id", "acme", "--base-url", proxy.url,
                  "--credential", "client_id=acme", "--credential", f"client_secret={token}",
                  "--credential", f"webhookSecret={SECRET}")
            b.run("channel", "add", "--platform", "hepsiglobal", "--seller-id", "shop", "--base-url", a.base,
                  "--credential", "client_id=shop", "--credential", "client_secret=not-a-token",
                  "--credential", f"webhookSecret={SECRET}")
            b.serve()
            b.sync()

            # The marketplace's order, placed in B, is created on A once, with B's line ids as its items.
            with b.api() as api:
                assert api.post("/v1/orders", json=marketplace_order()).status_code == 201
            eventually(lambda: len(ledgers(a)) == 4, "the order did not reach A")
            with a.api() as api:
                on_a = api.get(f"/v1/orders/{NUMBER}").json()
            assert on_a["channel"] == "hepsiglobal" and on_a["seller_id"] == "acme" and on_a["currency"] == "USD"
            assert [line["line_id"] for line in on_a["lines"]] == ITEMS
            assert all(line["ledger"]["open"] == 2 for line in on_a["lines"])

            # Wrong credentials: said so on the account, never a secret in the answer.
            eventually(lambda: any(x["seller_id"] == "shop" and x["health"]["last_error_kind"] == "credentials_rejected"
                                   for x in b.accounts()), "the refused client credentials were not reported")
            assert token not in str(b.accounts()) and SECRET not in str(b.accounts())

            # An item cancelled in B lands in A's ledger once.
            cancel_in_b(b, ITEMS[0])
            eventually(lambda: cancelled(a, ITEMS[0]) == 2, "B's cancel did not reach A")
            eventually(lambda: all(p["status"] == "done" for p in b.pushes()), "B's pushes did not finish")

            # The seller cancels a unit on A: A's signed order-cancel webhook reaches B, and is not pushed back.
            with httpx.Client(base_url=a.base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as seller:
                changed = seller.post(f"/v1/orders/{NUMBER}/cancellations", json={"lines": [
                    {"line_id": ITEMS[2], "quantity": 1, "reason_id": 135}]})
            assert changed.status_code == 200, changed.text
            eventually(lambda: cancelled(b, ITEMS[2]) == 1, "A's seller cancel did not reach B")
            [taken] = [e for e in events(b, NUMBER, "lines.cancelled") if e["data"]["items"][0]["line_id"] == ITEMS[2]]
            note = taken["data"]["items"][0]["note"]
            assert note.startswith("HepsiGlobal cancel_id ") and note.endswith(": out_of_stock")
            assert taken["data"]["items"][0]["reason_id"] == 135
            assert len(b.pushes()) == 2   # the order and the first cancel: nothing more

            # The same cancel_id delivered again (a redelivery) changes nothing; an unsigned one is refused.
            again = {"cancel_id": int(note.split()[2].rstrip(":")), "order_number": NUMBER, "cancel_quantity": 1,
                     "order_item_number": ITEMS[2], "reason": "out_of_stock"}
            assert signed_put(b, again).status_code == 204
            assert signed_put(b, again, msg_id="msg_third").status_code == 204
            assert cancelled(b, ITEMS[2]) == 1
            forged = signed_put(b, {**again, "cancel_id": 1}, secret="whsec_c2hvcA==")
            assert forged.status_code == 401 and forged.json()["error"]["code"] == "hepsiglobal_signature_invalid"
            unreadable = signed_put(b, {"order_number": NUMBER})
            assert unreadable.status_code == 422
            assert unreadable.json()["error"]["code"] == "hepsiglobal_hook_unreadable"
            with httpx.Client(base_url=b.base, timeout=10) as client:
                unknown = client.put(HOOKS.format(seller="nobody"), json=again)
            assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "channel_account_not_found"
            assert cancelled(b, ITEMS[2]) == 1 and cancelled(a, ITEMS[2]) == 1

            # B's sync killed with SIGKILL after A took the cancel, before B heard the answer: applied once.
            proxy.trap(f"/v1/orders/{NUMBER}/order_items/{ITEMS[1]}")
            cancel_in_b(b, ITEMS[1])
            # sent again on the retry: A had nothing left to cancel
            sync_killed_mid_push(b, proxy, lambda: cancelled(a, ITEMS[1]) == 2)

            # A down for a while: the push waits, retries with backoff, and lands once A is back. The
            # cancel takes the item's last unit: the whole item, as HG cancels.
            push_waits_while_a_is_down(a, b, lambda: cancel_in_b(b, ITEMS[2], quantity=1),
                                       lambda: cancelled(a, ITEMS[2]) == 2)

            # A cancel of some of an item's units cannot be said to HepsiGlobal: a dead letter that says so.
            cancel_in_b(b, ITEMS[3], quantity=1)
            eventually(lambda: any(p["status"] == "dead" for p in b.pushes()), "the partial cancel was not refused")
            [dead] = [p for p in b.pushes() if p["status"] == "dead"]
            assert dead["last_error_kind"] == "refused" and ITEMS[3] in dead["last_error"]
            assert cancelled(a, ITEMS[3]) == 0

            # Nothing applied twice on A, nothing lost, and B agrees: one order, placed once.
            assert {item: ledger["cancelled"] for item, ledger in ledgers(a).items()} == dict(zip(ITEMS, [2, 2, 2, 0],
                                                                                                   strict=True))
            assert len(events(a, NUMBER, "lines.cancelled")) == 4   # three of B's pushes, the seller's own
            assert len(events(a, NUMBER, "order.placed")) == 1
            assert {item: ledger["cancelled"] for item, ledger in ledgers(b).items()} == dict(zip(ITEMS, [2, 2, 2, 1],
                                                                                                   strict=True))
            assert len(events(b, NUMBER, "lines.cancelled")) == 5
            assert b.syncer.poll() is None
        finally:
            proxy.close()
