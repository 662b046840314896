"""The Akinon face's channels: every order shows its channel's integer id (`channel`), the order list is
filtered by it (`?channel=`), and a `/channel/{channel_id}/` path acts only on that channel's orders —
another channel's order, or a channel id no channel has, is not found there, exactly as an unknown
order is, and nothing changes."""

from __future__ import annotations

from tests.conftest import snapshot
from tests.refunds.test_akinon import akinon, body, read
from tests.support import order

N11, OWN, DIRECT = "4000000001", "4000000002", "4000000003"
KNOWN_IDS = {"direct": 1, "n11": 2, "hepsiglobal": 3, "zonos": 4, "hebiar": 5, "akinon": 6}


def place(api, number, channel=None):
    answer = api.post("/v1/orders", json=order(number, **({"channel": channel} if channel else {})))
    assert answer.status_code == 201, answer.text


def test_orders_show_their_channel_id_and_are_filtered_by_it(server, db, api):
    place(api, N11, "n11")
    place(api, OWN, "web-shop")
    place(api, DIRECT)
    client = akinon(server, db)
    shown = {n: read(client, n)["channel"] for n in (N11, OWN, DIRECT)}
    assert shown[N11] == KNOWN_IDS["n11"] and shown[DIRECT] == KNOWN_IDS["direct"]
    assert isinstance(shown[OWN], int) and shown[OWN] >= 100   # a seller's own channel: numbered from 100
    for number, channel_id in shown.items():
        page = client.get("/api/v1/orders/", params={"channel": channel_id}).json()
        assert (page["count"], [o["number"] for o in page["results"]]) == (1, [number])
        assert client.get("/api/v1/orders/", params={"channel": channel_id, "number": number}).json()["count"] == 1
    assert client.get("/api/v1/orders/", params={"channel": shown[OWN], "number": N11}).json()["count"] == 0
    assert client.get("/api/v1/orders/", params={"channel": 999_999}).json()["count"] == 0
    assert client.get("/api/v1/orders/").json()["count"] == 3
    # Showing an order never numbers anything: a later order of the same channel has the same id.
    place(api, "4000000004", "web-shop")
    assert read(client, "4000000004")["channel"] == shown[OWN]


def test_a_channel_path_cancels_only_that_channels_orders(server, db, api):
    place(api, N11, "n11")
    place(api, OWN, "web-shop")
    client = akinon(server, db)
    o = read(client, N11)
    item = o["orderitem_set"][0]["pk"]
    unknown = client.post(f"/api/v1/channel/{KNOWN_IDS['n11']}/orders/999999/cancel", json=body(999999, [item]))
    assert unknown.status_code == 404
    before = snapshot(db)
    for channel_id in (KNOWN_IDS["direct"], KNOWN_IDS["hebiar"], read(client, OWN)["channel"], 999_999):
        r = client.post(f"/api/v1/channel/{channel_id}/orders/{o['pk']}/cancel", json=body(o["pk"], [item]))
        assert (r.status_code, r.json()) == (404, unknown.json()), (channel_id, r.text)
    assert snapshot(db) == before
    r = client.post(f"/api/v1/channel/{KNOWN_IDS['n11']}/orders/{o['pk']}/cancel", json=body(o["pk"], [item]))
    assert r.status_code == 200, r.text
    assert r.json()["orderitem_set"][0]["status"] == "100" and r.json()["channel"] == KNOWN_IDS["n11"]


def test_a_channel_path_holds_only_its_channel_orders_cancellation_requests(server, db, api):
    place(api, N11, "n11")
    client = akinon(server, db)
    items = [i["pk"] for i in read(client, N11)["orderitem_set"]]
    other, mine = "/api/v1/channel/1/cancellation_requests/", "/api/channel/2/cancellation_requests/"
    before = snapshot(db)
    refused = client.post(other, json={"order_item": items[0], "reason": 136})
    no_such_item = client.post(mine, json={"order_item": 999999, "reason": 136})
    assert refused.status_code == no_such_item.status_code == 400
    assert refused.json()["code"] == no_such_item.json()["code"] == "does_not_exist"
    assert snapshot(db) == before
    made = client.post(mine, json={"order_item": items[0], "reason": 136})
    assert made.status_code == 201, made.text
    pk = made.json()["id"]
    assert client.get(f"{mine}{pk}/").json() == made.json()
    assert client.get(f"/api/v1/cancellation_requests/{pk}/").json() == made.json()
    assert [r["id"] for r in client.get(mine).json()["results"]] == [pk]
    assert client.get(other).json()["count"] == 0
    assert client.get("/api/v1/channel/999999/cancellation_requests/").json()["count"] == 0
    missing = client.get(f"{other}999999/")
    before = snapshot(db)
    for method, path, sent in (("GET", f"{other}{pk}/", None), ("POST", f"{other}{pk}/approve/", {}),
                               ("POST", f"{other}{pk}/reject/", {"reason": 168})):
        r = client.request(method, path, json=sent)
        assert (r.status_code, r.json()) == (404, missing.json()), (path, r.text)
    assert snapshot(db) == before
    approved = client.post(f"{mine}{pk}/approve/", json={})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
