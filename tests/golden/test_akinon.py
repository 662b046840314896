"""Golden tests of the Akinon Omnitron face against Akinon Omnitron's API reference.

The Order Cancellation page shows no example bodies, so each answer is compared with the objects the
API reference lists: Get Order's order and order item ("see Get Order"), the cancellation request, the
cancellation reason (as Omnitron's OpenAPI example shows it) and DRF's error shapes.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import snapshot
from tests.golden.shape import assert_same_shape
from tests.refunds.test_akinon import akinon, mixed_order, read
from tests.support import order

IBAN = "TR330006100519786457841326"
ITEM = {"pk": 1, "order": 1, "status": "400", "remote_id": "line", "product": {"sku": "s", "name": "n",
        "product_id": "p", "barcode": None}, "price": "9.99", "retail_price": "9.99", "discount_amount": "0.00",
        "price_currency": "TRY", "tax_rate": "20", "invoice_number": None, "invoice_date": None,
        "tracking_number": None, "carrier_shipping_code": None, "delivered_date": None,
        "estimated_delivery_date": None}
PACKED = {**ITEM, "tracking_number": "7340001"}   # an item in a package with a tracking number
# `channel`: the id of the order's sales channel, as Omnitron's order names its channel (1: kalem's `direct`).
ORDER = {"pk": 1, "number": "n", "status": "400", "channel": 1, "currency": "TRY", "amount": "9.99",
         "discount_amount": "0.00", "shipping_amount": "0.00", "shipping_tax_rate": None,
         "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-01-01T00:00:00Z", "orderitem_set": [PACKED]}
PAGE = {"count": 1, "next": None, "previous": None, "results": [ORDER]}
CLEAR = {"order": 1, "cancellation_type": "cancel", "order_items": [1],
         "refund": {"id": "rf_1", "amount": "9.99", "status": "succeeded"}}
REQUEST = {"id": 1, "order_item": 1, "reason": 1, "description": "text", "cancellation_type": "cancel",
           "status": "waiting_approval", "iban": None, "holder_name": None, "easy_return": None, "quantity": 1,
           "fully_refund_as_loyalty_money": False, "uuid": "u", "attributes": {
               "order": 1, "order_number": "n", "kalem_id": "cr_1", "kalem_status": "pending",
               "approved_quantity": None, "decision_reason": None, "decision_description": None},
           "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-01-01T00:00:00Z"}
REASON = {"pk": 1, "cancellation_type": "cancel", "extra_information_needed": False, "order": 100,
          "subject": "text", "is_active": True, "send_to_remote": True, "translations": {"tr": {"subject": "t"}},
          "uuid": "text", "created_date": "2025-06-27T09:02:04.702Z", "modified_date": "2025-06-27T09:02:04.702Z"}


def seed_cancel(order_pk: int, items: list[int], reasons: dict[str, int], **more) -> dict:
    """The seed's body: every parameter of its table, in its order."""
    return {"order": order_pk, "is_all": False, "cancel_items": items, "forced_refund_amount": None,
            "reasons": reasons, "is_cargo_refund": False, "refund_invoice_number": None, **more}


def placed(server, db, api, body=None):
    api.post("/v1/orders", json=body or order())
    client = akinon(server, db)
    return client, read(client, (body or order())["order_number"])


# --- Order Cancellation: cancel all, cancel partially, the clear answer, bad answers -----------------
def test_documented_cancel_all(server, db, api):
    client, o = placed(server, db, api)
    pks = [i["pk"] for i in o["orderitem_set"]]
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=seed_cancel(
        o["pk"], [], {str(pk): 136 for pk in pks}, is_all=True, is_cargo_refund=True, refund_invoice_number="RIN-1"))
    assert r.status_code == 200, r.text
    assert_same_shape(r.json(), {**ORDER, "status": "100", "orderitem_set": [{**ITEM, "status": "100"}]},
                      equal=["$.status", "$.orderitem_set[].status"])
    assert r.json() == read(client, "4000000001")   # "Returns given order detail information … see Get Order"
    [refund] = api.get("/v1/orders/4000000001/refunds").json()["data"]
    assert refund["reference"] == "RIN-1" and refund["amount"] == "609.60"   # is_cargo_refund: shipping too


def test_documented_cancel_partial(server, db, api):
    client, o = placed(server, db, api)
    pk = o["orderitem_set"][1]["pk"]
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=seed_cancel(o["pk"], [pk], {str(pk): 136}))
    assert r.status_code == 200, r.text
    cancelled = {**ITEM, "status": "100"}   # a cancelled unit has left its package: no tracking number
    assert_same_shape(r.json(), {**ORDER, "orderitem_set": [PACKED, cancelled, PACKED]},
                      equal=["$.status", "$.orderitem_set[].status"])
    [refund] = api.get("/v1/orders/4000000001/refunds").json()["data"]
    assert refund["amount"] == r.json()["orderitem_set"][1]["price"]   # is_cargo_refund false: no shipping


def test_documented_clear_response(server, db, api):
    client, o = placed(server, db, api)
    pk = o["orderitem_set"][0]["pk"]
    before = read(client, "4000000001")
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/",
                    json=seed_cancel(o["pk"], [pk], {str(pk): 136}, return_details=False))
    assert r.status_code == 200, r.text
    assert_same_shape(r.json(), CLEAR, equal=["$.cancellation_type"])
    assert r.json()["order"] == o["pk"] and r.json()["order_items"] == [pk]
    assert read(client, "4000000001") != before   # the clear answer cancels all the same


def test_cancel_all_with_empty_reasons_takes_the_default_reason(server, db, api):
    """The page's whole-order cancel: `is_all: true`, `cancel_items: []` and `reasons: {}`."""
    client, o = placed(server, db, api)
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=seed_cancel(o["pk"], [], {}, is_all=True))
    assert r.status_code == 200, r.text
    assert {i["status"] for i in r.json()["orderitem_set"]} == {"100"} and r.json()["status"] == "100"
    [cancelled] = [e for e in api.get("/v1/orders/4000000001/events").json()["data"] if e["type"] == "lines.cancelled"]
    assert {i["reason_id"] for i in cancelled["data"]["items"]} == {151}   # Vazgeçtim: the documented default


def test_cancel_items_as_the_documented_dict(server, db, api):
    """The table's type for `cancel_items` is "dict": `{order item pk: quantity}`, an item being one unit."""
    client, o = placed(server, db, api)
    first, second = (i["pk"] for i in o["orderitem_set"][:2])
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=seed_cancel(
        o["pk"], {str(first): 1, str(second): 1}, {str(first): 136, str(second): 136}, return_details=False))
    assert r.status_code == 200, r.text
    assert_same_shape(r.json(), CLEAR, equal=["$.cancellation_type"])
    assert r.json()["order_items"] == [first, second]
    assert [i["status"] for i in read(client, "4000000001")["orderitem_set"]] == ["100", "100", "400"]


def test_the_three_documented_paths(server, db, api):
    client, o = placed(server, db, api)
    items = [i["pk"] for i in o["orderitem_set"]]
    for path, pk in ((f"/api/i1/orders/{o['pk']}/cancel/", items[0]), (f"/api/v1/orders/{o['pk']}/cancel/", items[1]),
                     (f"/api/v1/channel/1/orders/{o['pk']}/cancel", items[2])):
        r = client.post(path, json=seed_cancel(o["pk"], [pk], {str(pk): 136}))
        assert r.status_code == 200, (path, r.text)
        assert r.json()["orderitem_set"][items.index(pk)]["status"] == "100"
    assert_same_shape(r.json(), {**ORDER, "status": "100", "orderitem_set": [{**ITEM, "status": "100"}]},
                      equal=["$.status", "$.orderitem_set[].status"])


def test_forced_refund_amount_and_fund_transfer_fields(server, db, api):
    client, o = placed(server, db, api)
    pk = o["orderitem_set"][0]["pk"]
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=seed_cancel(
        o["pk"], [pk], {str(pk): 136}, forced_refund_amount="150.00", ibans={str(pk): IBAN},
        holder_names={str(pk): "Ayşe Yılmaz"}, return_details=False))
    assert r.status_code == 200, r.text
    refund = api.get(f"/v1/refunds/{r.json()['refund']['id']}").json()
    assert refund["amount"] == "150.00" and refund["method"] == "fund_transfer"
    assert IBAN not in r.text and IBAN not in str(refund)


def test_scalars_are_parsed_as_drf_parses_them(server, db, api):
    """DRF's IntegerField and BooleanField take "12" and "true": a client written for Omnitron may send them."""
    client, o = placed(server, db, api)
    pk = o["orderitem_set"][0]["pk"]
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=seed_cancel(
        str(o["pk"]), [str(pk)], {str(pk): "136"}, is_all="false", return_details="false"))
    assert r.status_code == 200, r.text
    assert r.json()["order_items"] == [pk]
    made = client.post("/api/v1/cancellation_requests/", json={
        "order_item": str(o["orderitem_set"][1]["pk"]), "reason": "136", "quantity": "1"})
    assert made.status_code == 201, made.text
    assert made.json()["order_item"] == o["orderitem_set"][1]["pk"] and made.json()["reason"] == 136


def test_a_delivered_item_is_refunded_not_cancelled(server, db, api):
    client, o = placed(server, db, api, mixed_order())
    delivered = [i["pk"] for i in o["orderitem_set"] if i["status"] == "550"]
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/",
                    json=seed_cancel(o["pk"], delivered, {str(p): 152 for p in delivered}, return_details=False))
    assert r.status_code == 200, r.text
    assert r.json()["cancellation_type"] == "refund"
    assert [i["status"] for i in read(client, "7000000001")["orderitem_set"]] == ["600", "600", "400"]


def test_a_unit_in_transit_is_neither_cancelled_nor_refunded(server, db, api):
    client, o = placed(server, db, api, mixed_order())
    assert api.post("/v1/orders/7000000001/packages/7-p2/status", json={"status": "Shipped"}).status_code == 200
    pk = o["orderitem_set"][2]["pk"]
    for reason in (136, 152):
        before = snapshot(db)
        r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=seed_cancel(o["pk"], [pk], {str(pk): reason}))
        assert r.status_code == 400, r.text
        assert_same_shape(r.json(), {"non_field_errors": ["in transit"], "code": "unit_in_transit"}, equal=["$.code"])
        assert snapshot(db) == before


def bad_bodies(o: dict) -> list[tuple[dict, str, str]]:
    """(body, the field DRF names, code): one per parameter of the seed's table."""
    delivered = [i["pk"] for i in o["orderitem_set"] if i["status"] == "550"]
    open_ = [i["pk"] for i in o["orderitem_set"] if i["status"] == "400"]
    ok = seed_cancel(o["pk"], open_, {str(open_[0]): 136})
    return [
        ({**ok, "order": "x"}, "order", "invalid_request"),
        ({**ok, "order": 1.5}, "order", "invalid_request"),
        ({**ok, "cancel_items": [True]}, "cancel_items", "invalid_request"),   # DRF: not an integer
        ({**ok, "order": o["pk"] + 999}, "order", "invalid"),
        ({**ok, "is_all": "maybe"}, "is_all", "invalid_request"),
        ({**ok, "is_all": True}, "cancel_items", "invalid"),                         # items with is_all
        ({**ok, "cancel_items": {str(open_[0]): 2}}, "cancel_items", "invalid"),     # an item is one unit
        ({**ok, "cancel_items": {"first": 1}}, "cancel_items", "invalid"),           # not an item pk
        ({**ok, "cancel_items": {}}, "cancel_items", "required"),
        ({**ok, "cancel_items": []}, "cancel_items", "required"),
        ({**ok, "forced_refund_amount": "lots"}, "forced_refund_amount", "invalid"),
        ({**ok, "forced_refund_amount": "1000.00"}, "non_field_errors", "forced_amount_exceeds_paid"),
        ({k: v for k, v in ok.items() if k != "forced_refund_amount"}, "forced_refund_amount", "invalid_request"),
        ({**ok, "reasons": {}}, "reasons", "required"),
        ({**ok, "reasons": {str(open_[0]): 152}}, "non_field_errors", "unknown_reason"),   # a refund reason
        ({**ok, "is_cargo_refund": "sometimes"}, "is_cargo_refund", "invalid_request"),
        ({**ok, "refund_invoice_number": "R" * 101}, "refund_invoice_number", "invalid_request"),
        ({**ok, "ibans": {str(open_[0]): IBAN[:-1] + "7"}, "holder_names": {str(open_[0]): "X"}}, "ibans",
         "invalid_iban"),
        ({**ok, "holder_names": {"999999": "X"}}, "holder_names", "invalid"),
        ({**ok, "return_details": [False]}, "return_details", "invalid_request"),
        (seed_cancel(o["pk"], [delivered[0], open_[0]], {str(delivered[0]): 152, str(open_[0]): 136}),
         "non_field_errors", "mixed_cancel_and_return"),
    ]


def test_documented_bad_responses(server, db, api):
    """"Expected response status codes are greater than/equal to 400 less than 500. Returns the reason"."""
    client, o = placed(server, db, api, mixed_order())
    for body, field, code in bad_bodies(o):
        before = snapshot(db)
        r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=body)
        assert 400 <= r.status_code < 500, (body, r.text)
        assert_same_shape(r.json(), {field: ["the reason"], "code": code}, equal=["$.code"])
        assert snapshot(db) == before, body
    missing = client.post("/api/i1/orders/987654/cancel/", json=seed_cancel(987654, [1], {"1": 136}))
    assert missing.status_code == 404
    assert_same_shape(missing.json(), {"detail": "Not found.", "code": "not_found"}, equal=["*"])


# --- §4.1 transport and auth -------------------------------------------------------------------
def test_login_and_the_token_header(server, db, api):
    api.post("/v1/orders", json=order())
    anon = httpx.Client(base_url=server.url, timeout=30)
    bad = anon.post("/api/v1/auth/login/", json={"username": "nobody", "password": "x"})
    assert bad.status_code == 400
    assert_same_shape(bad.json(), {"non_field_errors": ["Unable to log in with provided credentials."],
                                   "code": "invalid_credentials"}, equal=["*"])
    client = akinon(server, db)
    assert_same_shape({"key": client.headers["Authorization"].removeprefix("Token ")}, {"key": "token"})
    assert client.get("/api/v1/orders/").status_code == 200
    for headers in ({}, {"Authorization": "Token not-a-key"}):
        r = anon.get("/api/v1/orders/", headers=headers)
        assert r.status_code == 401
        assert_same_shape(r.json(), {"detail": "msg", "code": "authentication_failed"}, equal=["$.code"])


# --- §4.3 statuses ------------------------------------------------------------------------------
def test_item_and_order_status_codes(server, db, api):
    client, o = placed(server, db, api, mixed_order())
    assert [i["status"] for i in o["orderitem_set"]] == ["550", "550", "400"] and o["status"] == "500"
    pks = [i["pk"] for i in o["orderitem_set"]]
    # 50 cancellation_waiting: a request waits for a decision
    r = client.post("/api/v1/channel/1/cancellation_requests/", json={"order_item": pks[2], "reason": 136})
    assert r.status_code == 201, r.text
    assert read(client, "7000000001")["orderitem_set"][2]["status"] == "50"
    assert client.post(f"/api/v1/channel/1/cancellation_requests/{r.json()['id']}/reject/",
                       json={"reason": 169}).status_code == 200
    # 500 shipped, with the package's tracking number
    shipped = api.post("/v1/orders/7000000001/packages/7-p2/status",
                       json={"status": "Shipped", "cargo_tracking_number": "TRK-9"})
    assert shipped.status_code == 200, shipped.text
    item = read(client, "7000000001")["orderitem_set"][2]
    assert item["status"] == "500" and item["tracking_number"] == "TRK-9" and item["delivered_date"] is None
    # 550 delivered, with its date
    assert api.post("/v1/orders/7000000001/packages/7-p2/status", json={"status": "Delivered"}).status_code == 200
    after = read(client, "7000000001")
    assert after["status"] == "550" and {i["status"] for i in after["orderitem_set"]} == {"550"}
    assert after["orderitem_set"][2]["delivered_date"].endswith("Z")
    # 600 refunded; 100 canceled on another order
    client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=seed_cancel(o["pk"], pks, {str(p): 152 for p in pks}))
    assert read(client, "7000000001")["status"] == "600"
    assert {i["status"] for i in read(client, "7000000001")["orderitem_set"]} == {"600"}


# --- §4.4 cancellation requests -----------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["/api/v1/channel/1", "/api/channel/1", "/api/v1"])
def test_cancellation_request_object_and_endpoints(server, db, api, prefix):
    client, o = placed(server, db, api)
    pks = [i["pk"] for i in o["orderitem_set"]]
    base = f"{prefix}/cancellation_requests/"
    made = client.post(base, json={"order_item": pks[0], "reason": 136, "description": "late"})
    assert made.status_code == 201, made.text
    assert_same_shape(made.json(), REQUEST, equal=["$.status", "$.cancellation_type"])
    listed = client.get(base, params={"page": 1, "limit": 10})
    assert_same_shape(listed.json(), {"count": 1, "next": None, "previous": None, "results": [REQUEST]})
    assert client.get(f"{base}{made.json()['id']}/").json() == made.json()
    approved = client.post(f"{base}{made.json()['id']}/approve/")
    decided = {**REQUEST["attributes"], "approved_quantity": 1}
    assert_same_shape(approved.json(), {**REQUEST, "status": "approved", "attributes": decided}, equal=["$.status"])
    second = client.post(base, json={"order_item": pks[1], "reason": 136}).json()
    rejected = client.post(f"{base}{second['id']}/reject/", json={"reason": 169})
    decided = {**decided, "decision_reason": 169}
    assert_same_shape(rejected.json(), {**REQUEST, "description": None, "status": "rejected", "attributes": decided},
                      equal=["$.status"])


def test_bad_cancellation_requests_change_nothing(server, db, api):
    client, o = placed(server, db, api)
    pk = o["orderitem_set"][0]["pk"]
    base = "/api/v1/channel/1/cancellation_requests/"
    for body, field, code in (({"order_item": 999999, "reason": 136}, "order_item", "does_not_exist"),
                              ({"order_item": pk}, "reason", "invalid_request"),
                              ({"order_item": pk, "reason": 136, "cancellation_type": "refund"},
                               "cancellation_type", "invalid"),
                              ({"order_item": pk, "reason": 136, "quantity": 9}, "quantity",
                               "quantity_exceeds_available")):
        before = snapshot(db)
        r = client.post(base, json=body)
        assert r.status_code == 400, (body, r.text)
        assert_same_shape(r.json(), {field: ["the reason"], "code": code}, equal=["$.code"])
        assert snapshot(db) == before
    r = client.get(f"{base}424242/")
    assert r.status_code == 404 and r.json() == {"detail": "Not found.", "code": "not_found"}


# --- §4.5 reasons --------------------------------------------------------------------------------
def test_reason_catalog(server, db, api):
    client = akinon(server, db)
    page = client.get("/api/v1/channel/5/cancellation_reasons/").json()
    assert_same_shape(page, {"count": 1, "next": None, "previous": None, "results": [{
        **REASON, "created_date": None, "modified_date": None}]})   # a built-in catalog has no dates
    assert {r["cancellation_type"] for r in page["results"]} == {"cancel", "refund"}
    pks = [r["pk"] for r in page["results"]]
    assert len(pks) == len(set(pks)) == page["count"] and 151 in pks   # each reason once
    one = client.get("/api/v1/channel/5/cancellation_reasons/136/").json()
    assert one["pk"] == 136 and one["cancellation_type"] == "cancel"
    assert len({r["uuid"] for r in page["results"]}) == page["count"]
    for method in ("PUT", "DELETE"):   # the catalog is kalem's own: not editable through the face
        r = client.request(method, "/api/v1/channel/5/cancellation_reasons/136/", json={"is_active": False})
        assert r.status_code == 405 and set(r.json()) == {"detail", "code"}
    missing = client.get("/api/v1/channel/5/cancellation_reasons/999/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found.", "code": "not_found"}


# --- §4.6 cancellation plans; no webhooks --------------------------------------------------------
def test_cancellation_plans_and_feeds_are_not_served(server, db, api):
    client = akinon(server, db)
    for method, path in (("GET", "/api/channel/1/cancellation_plans/"),
                         ("GET", "/api/channel/1/cancellation_plans/inserts_or_updates/"),
                         ("POST", "/api/channel/1/cancellation_plans/1/create_payment_plan"),
                         ("GET", "/api/channel/1/cancellation_request_images/")):
        r = client.request(method, path, json={"payment_plan": []} if method == "POST" else None)
        assert r.status_code == 404 and set(r.json()) == {"detail", "code"}
    # `updates` is not a request id: refused as one, like any other word
    r = client.get("/api/channel/1/cancellation_requests/updates", follow_redirects=True)
    assert r.status_code == 400 and set(r.json()) == {"pk", "code"}


def test_no_akinon_webhook_dialect(server, db, api):
    r = api.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1:9/hook", "dialect": "akinon"})
    assert r.status_code == 422, r.text
    assert "dialect" in {e["field"] for e in r.json()["error"]["details"]["errors"]}


# --- §4.7 read side -----------------------------------------------------------------------------
def test_get_order_and_detailed_integration(server, db, api):
    client, o = placed(server, db, api)
    assert_same_shape(o, ORDER, equal=["$.status", "$.orderitem_set[].status", "$.currency"])
    assert o["orderitem_set"][0]["tracking_number"] == "7340001"
    assert o["amount"] == "609.60" and o["discount_amount"] == "20.00" and o["shipping_amount"] == "29.90"
    assert [i["price"] for i in o["orderitem_set"]] == ["193.23"] * 3   # 199.90 less a third of 20.00
    for path in (f"/api/v1/orders/{o['pk']}/", f"/api/i1/orders_integration/{o['pk']}/detailed_integration/",
                 f"/api/v1/orders_integration/{o['pk']}/detailed_integration/"):
        assert client.get(path).json() == o
    listed = client.get("/api/v1/orders/", params={"number": "4000000001"}).json()
    assert_same_shape(listed, PAGE)
    assert client.get("/api/v1/orders/", params={"limit": 0}).status_code == 400


def test_get_orders_pages_as_drf_does(server, db, api):
    for n in range(3):
        api.post("/v1/orders", json=order(f"400000001{n}"))
    api.post("/v1/orders", json=order("5000000001", seller="other"))
    seller = akinon(server, db, "seller", "acme")
    first = seller.get("/api/v1/orders/", params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert_same_shape(page, {**PAGE, "next": "http://next"})
    assert page["count"] == 3 and page["previous"] is None and "page=2" in page["next"]
    assert [o["number"] for o in page["results"]] == ["4000000012", "4000000011"]   # newest first
    last = seller.get(page["next"]).json()
    assert [o["number"] for o in last["results"]] == ["4000000010"] and last["next"] is None
    assert "page" not in last["previous"]   # DRF links page 1 without `page`
    for bad in ("3", "0", "x"):
        r = seller.get("/api/v1/orders/", params={"limit": 2, "page": bad})
        assert r.status_code == 404 and r.json() == {"detail": "Invalid page.", "code": "not_found"}


def test_the_openapi_document_declares_every_akinon_answer(server):
    spec = httpx.get(f"{server.url}/openapi.json").json()
    operations = [(path, method, op) for path, ops in spec["paths"].items() if path.startswith("/api/")
                  for method, op in ops.items()]
    assert len(operations) >= 25
    for path, method, op in operations:
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == {part[1:-1] for part in path.split("/") if part.startswith("{")}, (method, path)
        for status, refused in (("400", "AkinonFieldErrors"), ("429", "AkinonDetail")):
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{refused}"}, (method, path, status)
        assert "422" not in op["responses"], (method, path)   # DRF answers validation errors with 400
        ok = next(s for s in ("200", "201") if s in op["responses"])
        assert op["responses"][ok]["content"]["application/json"]["schema"]["$ref"].startswith(
            "#/components/schemas/Akinon"), (method, path)
        if path != "/api/v1/auth/login/":
            assert op["security"] == [{"AkinonToken": []}] and "401" in op["responses"], (method, path)
