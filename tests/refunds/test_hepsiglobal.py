"""The HepsiGlobal face: token, intake on the native path, cancel by marketplace, refunds,
and the seller-cancel webhook body. Every seed request example is here."""

from __future__ import annotations

import httpx

from kalem.platforms.hepsiglobal.face.views import hook_payloads
from tests.conftest import snapshot
from tests.support import manual_refunds, order, token

SEED_ORDER = "123123123123"
SEED_ITEM = "123123123123_750724899922"


def hg_order(number: str = SEED_ORDER) -> dict:
    return {"order_number": number, "marketplace": "hepsiglobal", "order_date": "2024-09-04T23:20:21+03:00",
            "shipping_type": "standard", "currency": "USD", "order_amount": 30.0,
            "customer": {"name": "A B", "email": "a@example.com"},
            "items": [{"item_number": f"{number}_750724899922", "sku": "750724899922", "product_name": "Mug",
                       "quantity": 2, "unit_product_price": 12.0, "total_amount": 24.0,
                       "total_amount_excl_vat": 20.0, "vat_amount": 4.0, "currency": "USD", "company_id": "acme"},
                      {"item_number": f"{number}_oi1", "sku": "oi1", "quantity": 1, "unit_product_price": 6.0,
                       "currency": "USD", "company_id": "acme"}]}


def hg_client(server, db) -> httpx.Client:
    secret = token(db, "seller", "acme")
    anon = httpx.Client(base_url=server.url, timeout=30)
    r = anon.post("/v1/auth/token", json={"grant_type": "client_credentials", "client_id": "acme",
                                          "client_secret": secret})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer" and r.json()["data"]["access_token"] == r.json()["access_token"]
    return httpx.Client(base_url=server.url, timeout=30,
                        headers={"Authorization": f"Bearer {r.json()['access_token']}"})


def test_token_refuses_wrong_credentials(anon, db):
    secret = token(db, "seller", "acme")
    before = snapshot(db)
    for body, status in [({"grant_type": "password", "client_id": "acme", "client_secret": secret}, 400),
                         ({"grant_type": "client_credentials", "client_id": "other", "client_secret": secret}, 401),
                         ({"grant_type": "client_credentials", "client_id": "acme", "client_secret": "nope"}, 401),
                         ({"grant_type": "client_credentials", "client_id": "acme"}, 400)]:
        r = anon.post("/v1/auth/token", json=body)
        assert r.status_code == status, r.text
        assert r.json()["data"]["code"] and r.json()["message"]
    assert snapshot(db) == before


def test_intake_on_the_native_path_and_the_native_contract_is_unchanged(server, db, api):
    hg = hg_client(server, db)
    r = hg.post("/v1/orders", json=hg_order())
    assert r.status_code == 201, r.text
    assert r.json()["message"] == "order created"
    assert [i["order_item_number"] for i in r.json()["data"]["items"]] == [SEED_ITEM, f"{SEED_ORDER}_oi1"]
    native = api.get(f"/v1/orders/{SEED_ORDER}").json()
    assert native["seller_id"] == "acme" and native["lines"][0]["tax_rate"] == "20.00"
    assert hg.post("/v1/orders", json=hg_order()).status_code == 200  # the same order again
    # native bodies still meet the native contract and envelope
    assert api.post("/v1/orders", json=order()).status_code == 201
    bad = api.post("/v1/orders", json={**order("4000000002"), "lines": []})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    before = snapshot(db)
    bad = hg.post("/v1/orders", json={**hg_order("999"), "items": [{"sku": "x"}]})
    assert bad.status_code == 400 and bad.json()["data"]["code"] == "invalid_request"
    assert snapshot(db) == before


def test_documented_cancel_by_marketplace(server, db):
    hg = hg_client(server, db)
    hg.post("/v1/orders", json=hg_order())
    r = hg.put(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}", json={"reason": "customer_demand"})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {} and isinstance(r.json()["message"], str)
    before = snapshot(db)
    again = hg.put(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}", json={"reason": "customer_demand"})
    assert again.status_code == 400 and again.json()["data"]["code"] == "nothing_to_cancel"
    for path, body, code in [(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ORDER}_oi1", {}, "invalid_request"),
                             (f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ORDER}_oi1", {"reason": "bored"},
                              "unknown_reason"),
                             (f"/v1/orders/{SEED_ORDER}/order_items/nope", {"reason": "out_of_stock"},
                              "line_not_found"),
                             ("/v1/orders/nope/order_items/x", {"reason": "out_of_stock"}, "order_not_found")]:
        r = hg.put(path, json=body)
        assert r.status_code == 400 and r.json()["data"]["code"] == code, r.text
    assert snapshot(db) == before


def test_documented_refund_is_asynchronous_and_settles_as_an_event(server, db, api):
    hg = hg_client(server, db)
    hg.post("/v1/orders", json=hg_order())
    hg.put(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ORDER}_oi1", json={"reason": "out_of_stock"})
    body = {"refund_number": "r12345", "order_number": SEED_ORDER, "refund_date": "2024-09-04T23:20:21+03:00",
            "items": [{"order_item_number": f"{SEED_ORDER}_oi1", "quantity": 1, "reason": "incorrect_order",
                       "amount": 6.0, "currency": "USD", "customer_explanation": "bad product"}]}
    r = hg.post("/v1/refunds", json=body)
    assert r.status_code == 202, r.text
    data = r.json()["data"]
    assert data["status"] == "pending" and data["amount"] == "6.00"
    assert hg.post("/v1/refunds", json=body).json()["data"]["request_id"] == data["request_id"]  # final, once
    settled = api.post(f"/v1/refunds/{data['request_id']}/settle", json={"status": "succeeded"})
    assert settled.status_code == 200
    events = api.get(f"/v1/orders/{SEED_ORDER}/events").json()["data"]
    last = events[-1]
    assert last["type"] == "refund.settled"
    hook = hook_payloads({"id": "e1", "type": last["type"], "order_number": SEED_ORDER, "actor": "operator:admin",
                          "data": last["data"]})
    assert hook == [{"request_id": data["request_id"], "refund_number": "r12345", "order_number": SEED_ORDER,
                     "status": "success", "amount": "6.00", "currency": "USD"}]


def test_refund_errors_in_hg_envelope_change_nothing(server, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    hg = hg_client(server, db)
    hg.post("/v1/orders", json=hg_order())
    before = snapshot(db)
    item = {"order_item_number": SEED_ITEM, "quantity": 1, "reason": "incorrect_order"}
    for items, code in [([{**item, "amount": 1.0}], "units_not_refundable"),  # nothing cancelled or delivered
                        ([{k: v for k, v in item.items() if k != "reason"}], "invalid_request"),
                        ([{**item, "order_item_number": "other"}], "line_not_found")]:
        r = hg.post("/v1/refunds", json={"refund_number": "r1", "order_number": SEED_ORDER, "items": items})
        assert r.status_code == 400 and r.json()["data"]["code"] == code, r.text
    hg.put(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}", json={"reason": "customer_demand"})
    before = snapshot(db)
    r = hg.post("/v1/refunds", json={"refund_number": "r1", "order_number": SEED_ORDER,
                                     "items": [{**item, "amount": 999.0}]})
    assert r.status_code == 400 and r.json()["data"]["code"] == "refund_amount_mismatch"
    assert snapshot(db) == before


def test_documented_cancel_webhook_payload():
    event = {"id": "9f2c", "type": "lines.cancelled", "order_number": "NMSAC3R37F2891PN-IO-1", "actor": "seller:tok_1",
             "data": {"items": [{"line_id": "NMSAC3R37F2891PN-IO-1_HBCV000057B1XL", "quantity": 1,
                                 "reason_id": 135}]}}
    [hook] = hook_payloads(event)
    body = hook.body
    assert hook.method == "PUT"
    assert set(body) == {"cancel_id", "order_number", "cancel_quantity", "order_item_number", "reason"}
    assert body["order_number"] == "NMSAC3R37F2891PN-IO-1" and body["cancel_quantity"] == 1
    assert body["order_item_number"] == "NMSAC3R37F2891PN-IO-1_HBCV000057B1XL" and body["reason"] == "out_of_stock"
    assert isinstance(body["cancel_id"], int) and hook_payloads(event)[0].body["cancel_id"] == body["cancel_id"]
    assert hook_payloads({**event, "actor": "operator:admin"}) == []
    assert hook_payloads({**event, "data": {**event["data"], "via": "hepsiglobal"}}) == []  # the face's own
