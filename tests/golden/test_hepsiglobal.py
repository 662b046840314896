"""Golden tests of the HepsiGlobal face: "Cancel order by marketplace" (the curl sample, path and body
as printed) and its documented answers, the `{data, message}` envelope on every refusal, the order and
refund bodies of Create Order and Create Refund, and the `order-cancel` webhook as a receiver gets it
(all from the HepsiGlobal Marketplace API documentation)."""

from __future__ import annotations

import pytest

from tests.conftest import snapshot
from tests.golden.shape import assert_same_shape
from tests.refunds.test_hepsiglobal import hg_client
from tests.support import client_for, token
from tests.webhooks.conftest import deliveries, drain, receiver, subscribe, worker  # noqa: F401 - fixtures

#: Cancel order by marketplace: `curl --request PUT '/v1/orders/123123123123/order_items/123123123123_750724899922'`
SEED_ORDER, SEED_ITEM = "123123123123", "123123123123_750724899922"
SEED_BODY = {"reason": "customer_demand"}
SEED_200 = {"data": {}, "message": "string"}
#: Order cancel (canceled by seller), the documented webhook body.
ORDER_CANCEL = {"cancel_id": 1078354, "order_number": "NMSAC3R37F2891PN-IO-1", "cancel_quantity": 1,
                "order_item_number": "NMSAC3R37F2891PN-IO-1_HBCV000057B1XL", "reason": "out_of_stock"}


def hg_order(number: str, skus: dict[str, int]) -> dict:
    """An order in HG's model (Create Order), every key field present."""
    return {
        "order_number": number, "marketplace": "hepsiglobal", "order_date": "2024-09-04T23:20:21+03:00",
        "shipping_type": "standard", "delivery_point_code": None, "order_amount": 36.0, "currency": "USD",
        "original_order_amount": 1180.8, "original_currency": "TRY", "currency_rate": 32.8,
        "customer": {"name": "Ayşe Yılmaz", "phone": "+905551112233", "email": "a@example.com"},
        "address": {"city": "İstanbul", "country_code": "TR"},
        "items": [{"item_number": f"{number}_{sku}", "esd": "2024-09-06", "company_id": "acme", "spu": f"SPU-{sku}",
                   "sku": sku, "product_name": f"Product {sku}", "quantity": quantity, "unit_product_price": 12.0,
                   "total_amount_excl_vat": 10.0 * quantity, "total_amount": 12.0 * quantity,
                   "vat_amount": 2.0 * quantity, "currency": "USD", "original_total_amount": 393.6 * quantity,
                   "original_currency": "TRY", "base_price": 12.0, "merchant_campaign_amount": 0,
                   "marketplace_campaign_amount": 0, "total_discount_amount": 0,
                   "campaign": {"id": None}} for sku, quantity in skus.items()],
    }


@pytest.fixture
def hg(server, db):
    client = hg_client(server, db)
    response = client.post("/v1/orders", json=hg_order(SEED_ORDER, {"750724899922": 2, "oi1": 1}))
    assert response.status_code == 201, response.text
    yield client
    client.close()


def test_documented_cancel_by_marketplace(hg, api):
    response = hg.put(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}", json=SEED_BODY)
    assert response.status_code == 200, response.text
    assert_same_shape(response.json(), SEED_200)
    assert response.json()["data"] == {}  # exactly the documented empty object
    line = next(ln for ln in api.get(f"/v1/orders/{SEED_ORDER}").json()["lines"] if ln["line_id"] == SEED_ITEM)
    assert line["ledger"]["cancelled"] == 2  # no quantity in the body: the whole item


def test_documented_cancel_unsuccessful_response_is_a_400_in_the_envelope(hg, db):
    assert hg.put(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}", json=SEED_BODY).status_code == 200
    before = snapshot(db)
    for path, body, code in [(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}", SEED_BODY, "nothing_to_cancel"),
                             (f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ORDER}_oi1", {"reason": "bored"},
                              "unknown_reason"),
                             (f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ORDER}_oi1", {}, "invalid_request"),
                             (f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ORDER}_none", SEED_BODY, "line_not_found"),
                             (f"/v1/orders/none/order_items/{SEED_ITEM}", SEED_BODY, "order_not_found")]:
        response = hg.put(path, json=body)
        assert response.status_code == 400, response.text
        # HG documents the status only; kalem answers in the same envelope, its stable code in `data`
        got = response.json()
        assert_same_shape(got, {"data": got["data"], "message": "string"})
        assert got["data"]["code"] == code and got["message"]
    assert snapshot(db) == before


def test_the_documented_cancel_items_array_is_taken(hg, api, db):
    """"Each item within the cancel_items array specifies details for cancellation": an element carries
    the order-cancel webhook's fields — the item, `cancel_quantity` (absent: every open unit), `reason`."""
    path = f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}"
    one = hg.put(path, json={"cancel_items": [{"order_item_number": SEED_ITEM, "cancel_quantity": 1,
                                               "reason": "out_of_stock"}]})
    assert one.status_code == 200, one.text
    assert_same_shape(one.json(), SEED_200)
    assert one.json()["data"] == {}
    line = next(ln for ln in api.get(f"/v1/orders/{SEED_ORDER}").json()["lines"] if ln["line_id"] == SEED_ITEM)
    assert (line["ledger"]["cancelled"], line["ledger"]["open"]) == (1, 1)
    rest = hg.put(path, json={"cancel_items": [{"reason": "customer_demand"}]})
    assert rest.status_code == 200, rest.text
    cancelled = [e for e in api.get(f"/v1/orders/{SEED_ORDER}/events").json()["data"] if e["type"] == "lines.cancelled"]
    assert [(e["data"]["items"][0]["quantity"], e["data"]["items"][0]["reason_id"]) for e in cancelled] == [
        (1, 135), (1, 136)]


def test_a_bad_cancel_items_array_is_a_400_and_changes_nothing(hg, db):
    path = f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}"
    entry = {"order_item_number": SEED_ITEM, "cancel_quantity": 1, "reason": "customer_demand"}
    before = snapshot(db)
    for body, code in [({"reason": "customer_demand", "cancel_items": [entry]}, "invalid_request"),
                       ({"cancel_items": []}, "invalid_request"),
                       ({"cancel_items": [entry, entry]}, "too_many_items"),   # the path names one item
                       ({"cancel_items": [{**entry, "order_item_number": f"{SEED_ORDER}_oi1"}]}, "invalid_input"),
                       ({"cancel_items": [{**entry, "cancel_quantity": 3}]}, "quantity_exceeds_cancellable"),
                       ({"cancel_items": [{**entry, "cancel_quantity": 0}]}, "invalid_request"),
                       ({"cancel_items": [{**entry, "reason": "bored"}]}, "unknown_reason")]:
        response = hg.put(path, json=body)
        assert response.status_code == 400, (body, response.text)
        assert_same_shape(response.json(), {"data": response.json()["data"], "message": "string"})
        assert response.json()["data"]["code"] == code, body
    assert snapshot(db) == before


def test_an_unknown_path_under_an_order_item_is_404_in_the_envelope(hg, db):
    before = snapshot(db)
    item = f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}"
    for method, path in (("PUT", f"{item}/cancel"), ("POST", f"{item}/refunds"), ("GET", f"{item}/x/y")):
        response = hg.request(method, path, json=SEED_BODY)
        assert response.status_code == 404, (path, response.text)
        assert_same_shape(response.json(), {"data": {"code": "route_not_found"}, "message": "string"},
                          equal=["$.data.code"])
    assert snapshot(db) == before


def test_documented_reason_strings_are_taken(hg, api):
    """`customer_demand` (the seed), `out_of_stock` (the webhook sample) cancel; `incorrect_order`
    (the refund sample) refunds."""
    number = "4100000301"
    assert hg.post("/v1/orders", json=hg_order(number, {"a": 1, "b": 1})).status_code == 201
    for sku, reason in (("a", "customer_demand"), ("b", "out_of_stock")):
        response = hg.put(f"/v1/orders/{number}/order_items/{number}_{sku}", json={"reason": reason})
        assert response.status_code == 200, response.text
    cancelled = [e for e in api.get(f"/v1/orders/{number}/events").json()["data"] if e["type"] == "lines.cancelled"]
    assert [e["data"]["items"][0]["reason_id"] for e in cancelled] == [136, 135]
    refund = hg.post("/v1/refunds", json={"refund_number": "r-301", "order_number": number, "items": [
        {"order_item_number": f"{number}_a", "quantity": 1, "reason": "incorrect_order", "amount": 12.0,
         "currency": "USD", "customer_explanation": "bad product"}]})
    assert refund.status_code == 202, refund.text


def test_create_order_takes_hgs_order_model(hg, api):
    """§3.5's key fields are all accepted; kalem keeps the ones it models."""
    response = hg.post("/v1/orders", json=hg_order("4100000302", {"750724899922": 3}))
    assert response.status_code == 201, response.text
    assert_same_shape(response.json(), {"data": {"order_number": "4100000302", "currency": "USD", "status": "open",
                                                 "items": [{"order_item_number": "x", "sku": "x", "quantity": 1,
                                                            "cancelled_quantity": 0, "unit_product_price": "12.00"}]},
                                        "message": "order created"}, equal=["$.message"])
    native = api.get("/v1/orders/4100000302").json()
    assert (native["currency"], native["lines"][0]["quantity"], native["lines"][0]["tax_rate"]) == ("USD", 3, "20.00")


def test_refund_body_of_the_documentation(hg, api):
    """§3.4's example body: asynchronous, final once created, the result reported later."""
    assert hg.put(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ORDER}_oi1", json=SEED_BODY).status_code == 200
    body = {"refund_number": "r12345", "order_number": SEED_ORDER, "refund_date": "2024-09-04T23:20:21+03:00",
            "items": [{"order_item_number": f"{SEED_ORDER}_oi1", "quantity": 1, "reason": "incorrect_order",
                       "amount": 12.0, "currency": "USD", "customer_explanation": "bad product"}]}
    response = hg.post("/v1/refunds", json=body)
    assert response.status_code == 202, response.text
    assert_same_shape(response.json(), {"data": {"request_id": "rf_1", "refund_number": "r12345", "status": "pending",
                                                 "amount": "12.00", "currency": "USD"}, "message": "string"},
                      equal=["$.data.refund_number", "$.data.status", "$.data.currency"])
    again = hg.post("/v1/refunds", json=body)  # final: the same refund, not a second one
    assert again.json()["data"]["request_id"] == response.json()["data"]["request_id"]


def test_order_cancel_webhook_is_the_documented_put(api, db, server, receiver, worker):
    subscribe(api, f"http://127.0.0.1:{receiver.port}/webhooks/order-cancel", dialect="hepsiglobal",
              event_types=["lines.cancelled"])
    number = ORDER_CANCEL["order_number"]
    assert api.post("/v1/orders", json={
        "order_number": number, "seller_id": "acme", "currency": "USD", "channel": "hepsiglobal",
        "lines": [{"line_id": ORDER_CANCEL["order_item_number"], "sku": "HBCV000057B1XL", "name": "Shirt",
                   "quantity": 2, "unit_price": "12.00"}]}).status_code == 201
    seller = client_for(api, token(db, "seller", "acme"))
    cancelled = seller.post(f"/v1/orders/{number}/cancellations", json={"lines": [
        {"line_id": ORDER_CANCEL["order_item_number"], "quantity": 1, "reason_id": 135}]})
    assert cancelled.status_code == 200, cancelled.text
    drain(worker, lambda: all(d["status"] not in ("pending", "delivering") for d in deliveries(api)))
    [got] = receiver.requests
    assert (got.method, got.path) == ("PUT", "/webhooks/order-cancel")
    assert_same_shape(got.json(), ORDER_CANCEL,
                      equal=["$.order_number", "$.cancel_quantity", "$.order_item_number", "$.reason"])


def test_create_shipment_webhook_when_a_package_ships(api, receiver, worker):
    """§3.5: `create-shipment` carries the order number and its tracking; sent when a package ships."""
    subscribe(api, f"http://127.0.0.1:{receiver.port}/webhooks/create-shipment", dialect="hepsiglobal",
              event_types=["package.shipped"])
    assert api.post("/v1/orders", json={
        "order_number": "4100000303", "seller_id": "acme", "currency": "USD", "channel": "hepsiglobal",
        "lines": [{"line_id": "4100000303_a", "sku": "A", "name": "A", "quantity": 1, "unit_price": "5.00"}],
        "packages": [{"package_id": "SH-1", "status": "Picking", "items": [{"line_id": "4100000303_a",
                                                                          "quantity": 1}]}]}).status_code == 201
    shipped = api.post("/v1/orders/4100000303/packages/SH-1/status",
                       json={"status": "Shipped", "cargo_tracking_number": "HJ123456"})
    assert shipped.status_code == 200, shipped.text
    drain(worker, lambda: all(d["status"] not in ("pending", "delivering") for d in deliveries(api)))
    [got] = receiver.requests
    assert (got.method, got.path) == ("POST", "/webhooks/create-shipment")
    documented = {"order_number": "4100000303", "tracking": [{"is_default": True, "tracking_number": "HJ123456",
                                                              "is_first_mile": False, "carrier": "hepsijet"}]}
    documented["tracking"][0]["carrier"] = None  # kalem knows no carrier
    assert_same_shape(got.json(), documented, equal=["*"])


def test_services_kalem_does_not_offer_are_not_served(hg):
    """Products, shipments fulfilled by the marketplace and tracking are outside kalem."""
    for method, path in (("PUT", "/v1/products/123/status"), ("POST", "/v1/shipments/label"),
                         ("PUT", "/v1/shipments/123/status"), ("GET", "/v1/tracking/barcode/HJ1"),
                         ("GET", "/v1/tracking/shipment/1")):
        assert hg.request(method, path, json={}).status_code in (404, 405), path
