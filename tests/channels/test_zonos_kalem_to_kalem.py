"""kalem B as a Zonos merchant of kalem A's Zonos face, over real HTTP, on both databases: orders on A
appear in B once (pulled by `orders`, keyed by Zonos' ids); removals decided in B land in A's ledger
exactly once (`orderItemUpdate`) — also when B's sync is killed with SIGKILL mid-push and while A is
down; a change made on A reaches B by A's `ORDER_UPDATED` webhook (registered with `webhookCreate`),
signed, and is not pushed back."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.channels.kalems import Kalem, Proxy, eventually, kalems, push_waits_while_a_is_down, sync_killed_mid_push
from tests.channels.test_n11_kalem_to_kalem import cancel_in_b, events, ledger, six_units

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgresql"]
NUMBER = "4300000001"
HOOKS = "/v1/channel-webhooks/zonos/{seller}/zonos"


def graphql(a: Kalem, token: str, query: str, **variables: Any) -> dict[str, Any]:
    with httpx.Client(base_url=a.base, headers={"credentialToken": token}, timeout=10) as zonos:
        answer = zonos.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not body.get("errors"), body
    return body["data"]  # type: ignore[no-any-return]


def b_order(b: Kalem, number: str) -> dict[str, Any] | None:
    with b.api() as api:
        answer = api.get(f"/v1/orders/{number}")
    return answer.json() if answer.status_code == 200 else None


@pytest.mark.parametrize("backend", BACKENDS)
def test_orders_removals_and_webhooks_cross_between_kalems_exactly_once(backend, postgres):
    with kalems(backend, postgres) as (a, b):
        token = a.run("token", "create", "--role", "seller", "--seller-id", "acme", "--new-seller")
        a.serve()
        a.deliver()
        proxy = Proxy(a.base)
        try:
            with a.api() as api:  # an order of A's zonos channel, as Zonos holds it for the merchant
                assert api.post("/v1/orders", json=six_units(NUMBER, channel="zonos")).status_code == 201
                placed_on_a = api.get(f"/v1/orders/{NUMBER}").json()
            zonos_id = "order_" + placed_on_a["id"].removeprefix("ord_")
            item_id = "item_" + placed_on_a["lines"][0]["line_id"]
            hook = graphql(a, token, "mutation ($url: String!) { webhookCreate(input: {url: $url, "
                                     "type: ORDER_UPDATED}) { id secret } }",
                           url=b.base + HOOKS.format(seller="acme"))["webhookCreate"]
            b.run("channel", "add", "--platform", "zonos", "--seller-id", "acme", "--base-url", proxy.url,
                  "--credential", f"credentialToken={token}", "--credential", f"webhookSecret={hook['secret']}")
            b.run("channel", "add", "--platform", "zonos", "--seller-id", "shop", "--base-url", a.base,
                  "--credential", "credentialToken=not-a-token", "--credential", "webhookSecret=whsec_c2hvcA==")
            b.env["KALEM_SYNC_PULL_SECONDS"] = "3600"  # one pull: what follows reaches B by A's webhooks
            b.serve()
            b.sync()

            # The order placed on A appears in B, keyed by Zonos' ids, on channel zonos.
            eventually(lambda: ledger(b, zonos_id).get("open") == 6, "the order did not reach B")
            placed = b_order(b, zonos_id)
            assert placed is not None
            assert placed["channel"] == "zonos" and placed["seller_id"] == "acme"
            assert placed["lines"][0]["line_id"] == item_id

            # Wrong credentials: said so on the account, never a secret in the answer.
            eventually(lambda: any(x["seller_id"] == "shop" and x["health"]["last_error_kind"] == "credentials_rejected"
                                   for x in b.accounts()), "the refused credentialToken was not reported")
            assert token not in str(b.accounts()) and hook["secret"] not in str(b.accounts())

            # A removal decided in B lands in A's ledger once.
            cancel_in_b(b, zonos_id, item_id)
            eventually(lambda: ledger(a, NUMBER).get("cancelled") == 1, "B's removal did not reach A")
            eventually(lambda: all(p["status"] == "done" for p in b.pushes()), "B's push did not finish")

            # A change made on A reaches B by A's signed ORDER_UPDATED webhook, and is not pushed back.
            with a.api() as api:
                changed = api.post(f"/v1/orders/{NUMBER}/cancellations", json={"lines": [
                    {"line_id": placed_on_a["lines"][0]["line_id"], "quantity": 1, "reason_id": 135}]})
            assert changed.status_code == 200, changed.text
            eventually(lambda: ledger(b, zonos_id).get("cancelled") == 2, "A's change did not reach B")
            assert len(b.pushes()) == 1

            # A delivery that is not signed with the account's secret changes nothing.
            forged = {"data": {"order": {**graphql(a, token, "query ($id: ID!) { order(orderId: $id) "
                                                            "{ id status currencyCode createdAt items { id name amount "
                                                            "currencyCode quantity } } }", id=zonos_id)["order"]}}}
            forged["data"]["order"]["items"][0]["quantity"] = 0
            with httpx.Client(base_url=b.base, timeout=10) as client:
                refused = client.post(HOOKS.format(seller="acme"), content=json.dumps(forged), headers={
                    "webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,Zm9yZ2Vk"})
                unknown = client.post(HOOKS.format(seller="nobody"), json=forged)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "webhook_signature_invalid"
            assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "channel_account_not_found"
            assert ledger(b, zonos_id).get("cancelled") == 2

            # B's sync killed with SIGKILL after A took the removal, before B heard the answer: applied once.
            proxy.trap("/graphql", b"orderItemUpdate")
            cancel_in_b(b, zonos_id, item_id)
            sync_killed_mid_push(b, proxy, lambda: ledger(a, NUMBER).get("cancelled") == 3)

            # A down for a while: the push waits, retries with backoff, and lands once A is back.
            push_waits_while_a_is_down(a, b, lambda: cancel_in_b(b, zonos_id, item_id),
                                       lambda: ledger(a, NUMBER).get("cancelled") == 4)

            # Nothing applied twice on A, nothing lost, and B agrees: one order, placed once.
            assert ledger(a, NUMBER) == {**ledger(a, NUMBER), "cancelled": 4, "open": 2}
            assert len(events(a, NUMBER, "lines.cancelled")) == 4
            assert ledger(b, zonos_id) == {**ledger(b, zonos_id), "cancelled": 4, "open": 2}
            assert len(events(b, zonos_id, "lines.cancelled")) == 4
            assert len(events(b, zonos_id, "order.placed")) == 1
            with b.api() as api:
                assert [o["order_number"] for o in api.get("/v1/orders").json()["data"]] == [zonos_id]
            assert b.syncer.poll() is None
        finally:
            proxy.close()
