"""Channels: every order belongs to one; a marketplace's face (n11, HepsiGlobal, Zonos) and the
subscriptions made in its dialect see only their own channel's orders; an order-management system's
face (Hebiar) and the native API see every channel, and filter by it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from kalem.platforms.n11 import key_pairs
from kalem.platforms.n11.store import n11_line_ids
from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot
from tests.dialects.test_n11 import PACKAGES, SPLIT, n11_order
from tests.dialects.test_zonos import ORDER_FIELDS, UPDATE, code, gql, place, seed_order, zid
from tests.refunds.test_hepsiglobal import hg_client
from tests.support import client_for, order, token
from tests.webhooks.conftest import deliveries, drain, receiver, subscribe, worker  # noqa: F401 - fixtures

CREATE_HOOK = """mutation($input: WebhookCreateInput!) { webhookCreate(input: $input) { id } }"""


def _events(api: httpx.Client, **params) -> list[dict]:
    response = api.get("/v1/events", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _numbers(api: httpx.Client, **params) -> list[str]:
    response = api.get("/v1/orders", params=params)
    assert response.status_code == 200, response.text
    return [o["order_number"] for o in response.json()["data"]]


# --- intake -------------------------------------------------------------------------------------

def test_an_order_is_direct_unless_its_intake_names_a_channel(api):
    assert place(api, order("4000000001"))["channel"] == "direct"
    assert place(api, order("4000000002", channel=" n11 "))["channel"] == "n11"
    assert place(api, order("4000000003", channel="WEB"))["channel"] == "WEB"
    assert api.get("/v1/orders/4000000003").json()["channel"] == "WEB"


@pytest.mark.parametrize("name", ["", "a b", "-n11", "x" * 41, "n11/x", "şube"])
def test_a_channel_name_that_is_not_one_is_refused_and_changes_nothing(api, db, name):
    before = snapshot(db)
    response = api.post("/v1/orders", json=order("4000000001", channel=name))
    assert response.status_code == 422, response.text
    assert "channel" in response.text and snapshot(db) == before


def test_an_order_number_held_under_another_channel_is_refused_with_its_own_code(api, db, server):
    place(api, order("4000000001", channel="n11"))
    before = snapshot(db)
    again = api.post("/v1/orders", json=order("4000000001", channel="zonos"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "order_in_another_channel", again.text
    assert "n11" not in again.json()["error"]["message"]  # which channel holds it is not said
    assert snapshot(db) == before
    # Through HepsiGlobal's own intake: its envelope, its own code, nothing changed.
    place(api, order("4100000001", channel="n11", lines=[
        {"line_id": "x-1", "sku": "X", "name": "X", "quantity": 1, "unit_price": "1.00"}], packages=[]))
    hg = hg_client(server, db)
    before = snapshot(db)
    body = {"order_number": "4100000001", "currency": "USD", "items": [
        {"item_number": "4100000001_a", "sku": "a", "quantity": 1, "unit_product_price": 6.0, "currency": "USD",
         "company_id": "acme"}]}
    refused = hg.post("/v1/orders", json=body)
    assert refused.status_code == 400 and refused.json()["data"]["code"] == "order_in_another_channel", refused.text
    assert snapshot(db) == before
    # The same order again in its own channel is still the same order.
    assert api.post("/v1/orders", json=order("4000000001", channel="n11")).status_code == 200


def test_a_batch_refuses_a_number_held_under_another_channel_alone(api):
    place(api, order("4000000001", channel="n11"))
    response = api.post("/v1/orders/batch", json={"orders": [order("4000000001", channel="WEB"),
                                                             order("4000000002", channel="WEB")]})
    assert response.status_code in (200, 207), response.text
    results = response.json()["results"]
    assert results[0]["error"]["code"] == "order_in_another_channel"
    assert results[1]["status"] == 201


# --- listings and the feed ------------------------------------------------------------------------

def test_listings_and_the_change_feed_filter_by_channel(api, db):
    place(api, order("4000000001", channel="n11"))
    place(api, order("4000000002", channel="WEB"))
    place(api, order("4000000003"))
    assert _numbers(api, channel="n11") == ["4000000001"]
    assert _numbers(api, channel="direct") == ["4000000003"]
    assert sorted(_numbers(api)) == ["4000000001", "4000000002", "4000000003"]
    seller = client_for(api, token(db, "seller", "acme"))
    assert _numbers(seller, channel="WEB") == ["4000000002"]
    assert _numbers(api, channel="nowhere") == []
    everything = _events(api)
    assert {(e["order_number"], e["channel"]) for e in everything} == {
        ("4000000001", "n11"), ("4000000002", "WEB"), ("4000000003", "direct")}
    assert [e["order_number"] for e in _events(api, channel="WEB")] == ["4000000002"]
    assert [e["order_number"] for e in _events(seller, channel="n11")] == ["4000000001"]


# --- a marketplace's face sees only its own channel ------------------------------------------------

@pytest.fixture
def n11_client(api, db):
    appkey, appsecret = key_pairs.create_key_pair(UnitOfWork(db), seller_id="acme")
    with httpx.Client(base_url=api.base_url, headers={"appkey": appkey, "appsecret": appsecret},
                      timeout=30) as client:
        yield client


def test_n11_sees_and_changes_only_n11_orders(api, db, n11_client):
    assert api.post("/v1/orders", json=n11_order("N11-1", "PKG-1", {"L1": 2})).status_code == 201
    assert api.post("/v1/orders", json={**n11_order("WEB-1", "PKG-W", {"W1": 2}), "channel": "WEB"}).status_code == 201
    listed = n11_client.get(PACKAGES, params={"size": 100}).json()["content"]
    assert [p["orderNumber"] for p in listed] == ["N11-1"]
    assert n11_client.get(PACKAGES, params={"orderNumber": "WEB-1"}).json()["content"] == []
    # An orderLineId that names another channel's order (one numbered before orders had channels) is
    # unknown to n11, in n11's envelope, and nothing changes.
    web_id = api.get("/v1/orders/WEB-1").json()["id"]
    line_id = 900_001  # as an earlier version stored it (reads wrote such rows then)
    with db.engine.begin() as conn:
        conn.execute(n11_line_ids.insert().values(order_line_id=line_id, seller_id="acme", order_id=web_id,
                                                  package_id="PKG-W", line_id="W1", created_at=datetime.now(UTC)))
    before = snapshot(db)
    body = {"splitPackages": [{"packageDetails": [{"orderLineId": line_id, "quantities": 1}]}]}
    refused = n11_client.post(SPLIT, json=body)
    assert refused.status_code == 400 and refused.json()["errorCode"] == "SELLER_API.orderLineNotFound", refused.text
    approve = n11_client.put("/rest/order/v1/update", json={"status": "Picking", "lines": [{"lineId": line_id}]})
    assert approve.json()["content"] == [{"lineId": line_id, "status": None,
                                          "reasons": [f"orderLineId {line_id} not found"]}]
    assert snapshot(db) == before


def test_zonos_sees_and_changes_only_zonos_orders(api, db):
    mine = place(api, seed_order("4000000101"))
    other = place(api, seed_order("4000000102", line="other-line", aon="AO-2", channel="n11"))
    listed = gql(api, "{ orders(first: 50) { edges { node { id } } } }")["data"]["orders"]["edges"]
    assert [e["node"]["id"] for e in listed] == [zid(mine)]
    assert code(gql(api, f"query($id: ID!) {{ order(orderId: $id) {{ {ORDER_FIELDS} }} }}", id=zid(other))) \
        == "ORDER_NOT_FOUND"
    by_number = gql(api, "{ orders(first: 10, filter: {accountOrderNumber: \"AO-2\"}) { edges { node { id } } } }")
    assert by_number["data"]["orders"]["edges"] == []
    before = snapshot(db)
    result = gql(api, UPDATE, orderId=zid(other), itemId="item_other-line", quantity=1)
    assert code(result) == "ORDER_NOT_FOUND" and snapshot(db) == before
    assert "errors" not in gql(api, UPDATE, orderId=zid(mine), itemId="item_" + mine["lines"][0]["line_id"],
                               quantity=1)


def test_hepsiglobal_sees_and_changes_only_its_own_orders(api, db, server):
    place(api, order("4000000001", channel="n11"))
    hg = hg_client(server, db)
    before = snapshot(db)
    refused = hg.put("/v1/orders/4000000001/order_items/item1691416223190",
                                        json={"reason": "customer_demand"})
    assert refused.status_code == 400 and refused.json()["data"]["code"] == "order_not_found", refused.text
    assert snapshot(db) == before
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["ledger"]["cancelled"] == 0


# --- subscriptions --------------------------------------------------------------------------------

def _subscribed(api: httpx.Client, **extra) -> dict:
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["order.placed"], **extra}
    response = api.post("/v1/webhook-subscriptions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _heard(api: httpx.Client, sub: dict) -> list[str]:
    found = api.get("/v1/webhook-deliveries", params={"subscription_id": sub["id"], "limit": 100}).json()["data"]
    numbers = {o["id"]: o["order_number"] for o in api.get("/v1/orders", params={"limit": 100}).json()["data"]}
    return sorted(numbers[d["order_id"]] for d in found)


def test_subscriptions_hear_of_the_channels_they_name(api, db):
    every = _subscribed(api)
    n11_only = _subscribed(api, channels=["n11"])
    hg = _subscribed(api, dialect="hepsiglobal")   # a marketplace's dialect: its own channel by default
    hg_and_n11 = _subscribed(api, dialect="hepsiglobal", channels=["hepsiglobal", "n11"])
    assert (every["channels"], n11_only["channels"], hg["channels"]) == (None, ["n11"], ["hepsiglobal"])
    seller = token(db, "seller", "acme")
    zonos_hook = gql(api, CREATE_HOOK, seller, input={"url": "http://127.0.0.1:9/z", "type": "ORDER_CREATED"})
    assert "errors" not in zonos_hook, zonos_hook
    place(api, order("4000000001", channel="n11"))
    place(api, order("4000000002"))
    place(api, seed_order("4000000003", line="z-line", aon="AO-3"))
    place(api, order("4000000004", channel="hepsiglobal"))
    assert _heard(api, every) == ["4000000001", "4000000002", "4000000003", "4000000004"]
    assert _heard(api, n11_only) == ["4000000001"]
    assert _heard(api, hg) == ["4000000004"]
    assert _heard(api, hg_and_n11) == ["4000000001", "4000000004"]
    [zonos_sub] = [s for s in api.get("/v1/webhook-subscriptions").json()["data"] if s["dialect"] == "zonos"]
    assert zonos_sub["channels"] == ["zonos"] and _heard(api, zonos_sub) == ["4000000003"]
    # Naming channels later changes what is heard from then on; a replay follows them too.
    changed = api.patch(f"/v1/webhook-subscriptions/{every['id']}", json={"channels": ["WEB"]})
    assert changed.status_code == 200 and changed.json()["channels"] == ["WEB"]
    place(api, order("4000000005", channel="n11"))
    place(api, order("4000000006", channel="WEB"))
    assert _heard(api, every)[-1] == "4000000006" and "4000000005" not in _heard(api, every)
    replayed = api.post(f"/v1/webhook-subscriptions/{n11_only['id']}/replay", json={"since": "2000-01-01T00:00:00Z"})
    assert replayed.status_code == 202 and _heard(api, n11_only) == ["4000000001", "4000000005"]


def test_a_channel_a_subscription_names_must_be_a_channel_name(api, db):
    before = snapshot(db)
    response = api.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"],
                                                           "channels": ["a b"]})
    assert response.status_code == 422 and snapshot(db) == before


# --- an OMS's face sees every channel -------------------------------------------------------------

def test_hebiar_shows_every_channel_of_the_seller_with_its_channel_code(api, db):
    """Hebiar OMS holds many channels' orders: its face shows them all, each with its `channelCode`."""
    place(api, order("4000000001", channel="n11"))
    place(api, order("4000000002"))
    seller = token(db, "seller", "acme")
    response = httpx.get(f"{api.base_url}/orders/GetOrderPackages", headers={"Authorization": f"Bearer {seller}"},
                         timeout=30)
    assert response.status_code == 200, response.text
    shown = {p["orderNumber"]: p["channelCode"] for p in response.json()["data"]}
    assert shown == {"4000000001": "n11", "4000000002": "direct"}



def test_hebiar_packages_have_no_channel_filter_as_the_platform_documents(api, db):
    """Hebiar OMS's GetOrderPackages documents no channel filter: a `channelCode` query narrows nothing."""
    place(api, order("4000000011", channel="n11"))
    place(api, order("4000000012"))
    seller = token(db, "seller", "acme")
    response = httpx.get(f"{api.base_url}/orders/GetOrderPackages", params={"channelCode": "n11"},
                         headers={"Authorization": f"Bearer {seller}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert sorted(p["channelCode"] for p in response.json()["data"]) == ["direct", "n11"]

# --- one reason vocabulary --------------------------------------------------------------------------

def test_every_catalog_speaks_one_reason_vocabulary():
    from kalem.domain.reasons import StatusType, shared_code

    assert shared_code(61) == shared_code(135) == "out_of_stock"   # n11's Stok Tükendi, kalem's Stok yok
    assert shared_code(63) == shared_code(139) == "wrong_price"
    assert shared_code(151, StatusType.RETURNED) == "changed_mind"
    assert (shared_code(9999), shared_code(None)) == (None, None)


def test_an_n11_out_of_stock_cancel_reaches_a_hepsiglobal_subscriber_as_out_of_stock(api, n11_client, receiver,
                                                                                      worker):
    subscribe(api, f"http://127.0.0.1:{receiver.port}/webhooks/order-cancel", dialect="hepsiglobal",
              event_types=["lines.cancelled"], channels=["n11"])
    assert api.post("/v1/orders", json=n11_order("N11-1", "PKG-1", {"L1": 3})).status_code == 201
    [package] = n11_client.get(PACKAGES, params={"size": 100}).json()["content"]
    line_id = package["lines"][0]["orderLineId"]
    split = n11_client.post(SPLIT, json={"cancelledItems": [{"cancelReasonId": 61, "orderLineId": line_id,
                                                             "quantity": 1}],
                                         "splitPackages": [{"packageDetails": [{"orderLineId": line_id,
                                                                                "quantities": 2}]}]})
    assert split.status_code == 200, split.text
    drain(worker, lambda: all(d["status"] not in ("pending", "delivering") for d in deliveries(api)))
    [got] = receiver.requests
    assert (got.method, got.json()["reason"], got.json()["cancel_quantity"]) == ("PUT", "out_of_stock", 1)
