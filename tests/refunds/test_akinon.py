"""The Akinon face: login, the cancel endpoint with every field of the Order Cancellation page's table,
order reads with per-unit `orderitem_set`, DRF-style errors that change nothing."""

from __future__ import annotations

import httpx
import pytest

from kalem.app import access
from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot
from tests.support import order

IBAN = "TR330006100519786457841326"


def akinon(server, db, role: str = "operator", seller: str | None = None) -> httpx.Client:
    access.create_user(UnitOfWork(db), username=f"u-{role}", password="secret-pass", role=role, seller_id=seller)
    anon = httpx.Client(base_url=server.url, timeout=30)
    assert anon.post("/api/v1/auth/login/", json={"username": "u", "password": "x"}).status_code == 400
    r = anon.post("/api/v1/auth/login/", json={"username": f"u-{role}", "password": "secret-pass"})
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Token {r.json()['key']}"})


def mixed_order() -> dict:
    return {"order_number": "7000000001", "seller_id": "acme", "currency": "TRY", "shipping_amount": "20.00",
            "lines": [{"line_id": "7-a", "sku": "A", "name": "A", "quantity": 2, "unit_price": "50.00",
                       "tax_rate": "20"},
                      {"line_id": "7-b", "sku": "B", "name": "B", "quantity": 1, "unit_price": "30.00",
                       "tax_rate": "20"}],
            "packages": [{"package_id": "7-p1", "status": "Delivered", "items": [{"line_id": "7-a", "quantity": 2}]},
                         {"package_id": "7-p2", "status": "Picking", "items": [{"line_id": "7-b", "quantity": 1}]}]}


def read(client, number):
    r = client.get("/api/v1/orders/", params={"number": number})
    assert r.status_code == 200, r.text
    [found] = r.json()["results"]
    return found


def body(order_pk, items, **more):
    return {"order": order_pk, "is_all": False, "cancel_items": items, "forced_refund_amount": None,
            "reasons": {str(i): 136 for i in items}, **more}


def test_order_read_has_pk_and_one_item_per_unit(server, db, api):
    api.post("/v1/orders", json=order())
    client = akinon(server, db)
    first = read(client, "4000000001")
    assert isinstance(first["pk"], int) and len(first["orderitem_set"]) == 3
    assert {i["order"] for i in first["orderitem_set"]} == {first["pk"]}
    assert read(client, "4000000001") == first  # pks are stable
    assert client.get(f"/api/v1/orders/{first['pk']}/").json()["number"] == "4000000001"
    assert client.get("/api/v1/orders/999999/").json() == {"detail": "Not found.", "code": "not_found"}
    assert client.get("/api/v1/orders/", params={"number": "nope"}).json()["count"] == 0


def test_documented_cancel_all(server, db, api):
    api.post("/v1/orders", json=order())
    client = akinon(server, db)
    o = read(client, "4000000001")
    pks = [i["pk"] for i in o["orderitem_set"]]
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/",
                    json={"order": o["pk"], "is_all": True, "cancel_items": [], "forced_refund_amount": None,
                          "reasons": {str(pk): 136 for pk in pks}, "is_cargo_refund": True,
                          "refund_invoice_number": "RIN-1"})
    assert r.status_code == 200, r.text
    assert r.json()["pk"] == o["pk"] and {i["status"] for i in r.json()["orderitem_set"]} == {"100"}
    refunds = api.get("/v1/orders/4000000001/refunds").json()["data"]
    assert refunds[0]["amount"] == "609.60" and refunds[0]["reference"] == "RIN-1"


def test_seed_cancel_partial_with_short_answer_and_fund_transfer(server, db, api):
    api.post("/v1/orders", json=order())
    client = akinon(server, db)
    o = read(client, "4000000001")
    pk = o["orderitem_set"][0]["pk"]
    r = client.post(f"/api/v1/orders/{o['pk']}/cancel/",
                    json=body(o["pk"], [pk], ibans={str(pk): "TR33 0006 1005 1978 6457 8413 26"},
                              holder_names={str(pk): "Ayşe Yılmaz"}, return_details=False))
    assert r.status_code == 200, r.text
    short = r.json()
    assert short["cancellation_type"] == "cancel" and short["order_items"] == [pk]
    assert short["refund"]["amount"] == "193.24" and IBAN not in r.text
    refund = api.get(f"/v1/refunds/{short['refund']['id']}").json()
    assert refund["method"] == "fund_transfer" and refund["iban_masked"].endswith("13 26")
    assert IBAN not in str(refund)
    # the channel path
    pk2 = o["orderitem_set"][1]["pk"]
    r = client.post(f"/api/v1/channel/1/orders/{o['pk']}/cancel", json=body(o["pk"], [pk2]))
    assert r.status_code == 200, r.text
    assert [i["status"] for i in r.json()["orderitem_set"]] == ["100", "100", "400"]


def test_refund_after_delivery_is_a_return(server, db, api):
    api.post("/v1/orders", json=mixed_order())
    client = akinon(server, db)
    o = read(client, "7000000001")
    delivered = [i["pk"] for i in o["orderitem_set"] if i["status"] == "550"]
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json={**body(o["pk"], delivered),
                                                                 "reasons": {str(p): 152 for p in delivered}})
    assert r.status_code == 200, r.text
    assert [i["status"] for i in r.json()["orderitem_set"]] == ["600", "600", "400"]
    [refund] = api.get("/v1/orders/7000000001/refunds").json()["data"]
    assert refund["cause"] == "return" and refund["amount"] == "100.00"


def bad_cases(o, pks, other_pk):
    delivered = [i["pk"] for i in o["orderitem_set"] if i["status"] == "550"]
    open_ = [i["pk"] for i in o["orderitem_set"] if i["status"] == "400"]
    return [
        (body(o["pk"], [pks[0]], is_all=True), "cancel_items", "invalid"),              # is_all with items
        (body(o["pk"], [other_pk]), "cancel_items", "invalid"),                         # another order's item
        ({**body(o["pk"], [open_[0]]), "reasons": {}}, "reasons", "required"),          # reason missing
        (body(o["pk"], [delivered[0], open_[0]]), "non_field_errors", "mixed_cancel_and_return"),
        (body(o["pk"], open_, ibans={str(open_[0]): IBAN[:-1] + "7"}, holder_names={str(open_[0]): "X"}), "ibans",
         "invalid_iban"),
        (body(o["pk"], open_, forced_refund_amount="1000.00"), "non_field_errors", "forced_amount_exceeds_paid"),
        (body(o["pk"] + 1, open_), "order", "invalid"),                                 # body/path mismatch
        ({k: v for k, v in body(o["pk"], open_).items() if k != "reasons"}, "reasons", "invalid_request"),
        (body(o["pk"], open_, unknown=1), "unknown", "invalid_request"),
        ({**body(o["pk"], open_), "reasons": {str(open_[0]): 152}}, "non_field_errors", "unknown_reason"),
    ]


def test_bad_cancels_answer_drf_style_and_change_nothing(server, db, api):
    api.post("/v1/orders", json=mixed_order())
    api.post("/v1/orders", json=order())
    client = akinon(server, db)
    o = read(client, "7000000001")
    other = read(client, "4000000001")
    pks = [i["pk"] for i in o["orderitem_set"]]
    for payload, key, code in bad_cases(o, pks, other["orderitem_set"][0]["pk"]):
        before = snapshot(db)
        r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=payload)
        assert r.status_code == 400, (payload, r.text)
        assert key in r.json() and r.json()["code"] == code, (payload, r.text)
        if key != "detail":
            assert isinstance(r.json()[key], list)
        assert IBAN[:-1] + "7" not in r.text
        assert snapshot(db) == before


def test_seller_may_not_force_and_cancelled_items_cannot_be_cancelled_again(server, db, api):
    api.post("/v1/orders", json=order())
    seller = akinon(server, db, "seller", "acme")
    o = read(seller, "4000000001")
    pk = o["orderitem_set"][0]["pk"]
    before = snapshot(db)
    r = seller.post(f"/api/i1/orders/{o['pk']}/cancel/", json=body(o["pk"], [pk], forced_refund_amount="1.00"))
    assert r.status_code == 403 and "detail" in r.json()
    assert snapshot(db) == before
    assert seller.post(f"/api/i1/orders/{o['pk']}/cancel/", json=body(o["pk"], [pk])).status_code == 200
    before = snapshot(db)
    r = seller.post(f"/api/i1/orders/{o['pk']}/cancel/", json=body(o["pk"], [pk]))
    assert r.status_code == 400 and r.json()["code"] == "unit_already_cancelled", r.text
    assert snapshot(db) == before
    # another seller's order does not exist for this seller
    api.post("/v1/orders", json=order("4000000009", seller="other"))
    foreign = read(akinon(server, db), "4000000009")
    assert seller.get(f"/api/v1/orders/{foreign['pk']}/").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/channel/1/cancellation_reasons/",
                                  "/api/v1/channel/1/cancellation_reasons/136/"])
def test_reasons(server, db, path):
    client = akinon(server, db)
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert httpx.get(server.url + path).status_code == 401
