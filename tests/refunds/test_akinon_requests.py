"""Akinon cancellation requests (Akinon Omnitron's API reference, Cancellation Requests) over kalem's
cancel and return requests: create, list (DRF pages), read, approve (in part), reject; seller scope; DRF
errors that change nothing."""

from __future__ import annotations

import httpx
import pytest

from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot
from tests.refunds.test_akinon import akinon, mixed_order, read
from tests.support import order

BASE = "/api/v1/channel/1/cancellation_requests/"


def pks(client, number):
    return [i["pk"] for i in read(client, number)["orderitem_set"]]


def statuses(client, number):
    return [i["status"] for i in read(client, number)["orderitem_set"]]


def ledger(api, number):
    return api.get(f"/v1/orders/{number}").json()["lines"][0]["ledger"]


def create(client, item, reason=136, path=BASE, **more):
    r = client.post(path, json={"order_item": item, "reason": reason, **more})
    assert r.status_code == 201, r.text
    return r.json()


def refused(client, db, method, path, payload=None, status=400):
    before = snapshot(db)
    r = client.request(method, path, json=payload)
    assert r.status_code == status, (path, payload, r.text)
    assert snapshot(db) == before, (path, payload)
    return r.json()


def test_create_list_read_and_approve_in_part(server, db, api):
    api.post("/v1/orders", json=order())
    seller = akinon(server, db, "seller", "acme")
    items = pks(seller, "4000000001")
    made = create(seller, items[2], description="wrong size", quantity=2)
    assert isinstance(made["id"], int) and made["id"] not in items
    assert {k: made[k] for k in ("order_item", "reason", "description", "cancellation_type", "status", "quantity",
                                 "iban", "holder_name")} == {
        "order_item": items[2], "reason": 136, "description": "wrong size", "cancellation_type": "cancel",
        "status": "waiting_approval", "quantity": 2, "iban": None, "holder_name": None}
    assert made["uuid"] and made["created_date"].endswith("Z")
    # the named item (unit 3) and, for the second unit asked, the lowest-numbered other open one (unit 1)
    assert statuses(seller, "4000000001") == ["50", "400", "50"]
    assert ledger(api, "4000000001")["pending_cancel"] == 2

    listed = seller.get(BASE).json()
    assert listed == {"count": 1, "next": None, "previous": None, "results": [made]}
    assert seller.get(f"{BASE}{made['id']}/").json() == made
    assert seller.get(f"/api/v1/cancellation_requests/{made['id']}/").json() == made  # no channel prefix

    r = seller.post(f"{BASE}{made['id']}/approve/", json={"quantity": 1})
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "approved" and decided["attributes"]["approved_quantity"] == 1
    assert decided["modified_date"] >= decided["created_date"]
    assert ledger(api, "4000000001") == {**ledger(api, "4000000001"), "cancelled": 1, "pending_cancel": 0, "open": 2}
    assert statuses(seller, "4000000001") == ["100", "400", "400"]   # a partial approval: the lowest-numbered
    # the same request natively
    native = api.get(f"/v1/cancel-requests/{decided['attributes']['kalem_id']}").json()
    assert native["status"] == "approved"

    # decided once: approve or reject again is refused and changes nothing
    assert refused(seller, db, "POST", f"{BASE}{made['id']}/approve/")["code"] == "cancel_request_already_decided"
    body = refused(seller, db, "POST", f"{BASE}{made['id']}/reject/", {"reason": 169})
    assert body["code"] == "cancel_request_already_decided" and isinstance(body["non_field_errors"], list)


def test_full_approval_and_paging(server, db, api):
    api.post("/v1/orders", json=order())
    client = akinon(server, db)
    items = pks(client, "4000000001")
    made = [create(client, items[0]), create(client, items[1], path="/api/channel/1/cancellation_requests/"),
            create(client, items[2], path="/api/v1/cancellation_requests/")]
    assert len({m["id"] for m in made}) == 3
    first = client.get(BASE, params={"limit": 2})
    assert first.status_code == 200, first.text
    page1 = first.json()
    assert page1["count"] == 3 and [r["id"] for r in page1["results"]] == [made[2]["id"], made[1]["id"]]
    assert page1["previous"] is None and "page=2" in page1["next"]
    page2 = httpx.get(page1["next"], headers=client.headers).json()
    assert [r["id"] for r in page2["results"]] == [made[0]["id"]] and page2["next"] is None
    assert page2["previous"] is not None and "page=" not in page2["previous"]
    assert client.get(BASE, params={"page": 3, "limit": 2}).json() == {"detail": "Invalid page.", "code": "not_found"}
    assert client.get(BASE, params={"page": "x"}).status_code == 404
    assert client.get(BASE, params={"limit": "lots"}).json()["count"] == 3   # DRF: a bad limit is the default

    r = client.post(f"{BASE}{made[1]['id']}/approve/")   # no body: the whole request
    assert r.status_code == 200 and r.json()["attributes"]["approved_quantity"] == 1, r.text
    assert ledger(api, "4000000001")["cancelled"] == 1 and ledger(api, "4000000001")["pending_cancel"] == 2
    body = refused(client, db, "POST", f"{BASE}{made[0]['id']}/approve/", {"quantity": 2})
    assert body == {"quantity": ["2 unit(s) approved, 1 requested."], "code": "approval_exceeds_requested"}


def test_reject(server, db, api):
    api.post("/v1/orders", json=order())
    seller = akinon(server, db, "seller", "acme")
    items = pks(seller, "4000000001")
    made = create(seller, items[0], quantity=3)
    assert statuses(seller, "4000000001") == ["50", "50", "50"]
    path = f"{BASE}{made['id']}/reject/"
    assert refused(seller, db, "POST", path) == {"reason": ["This field is required."], "code": "required"}
    assert refused(seller, db, "POST", path, {"reason": 136})["code"] == "unknown_reason"  # not a denial reason
    assert "extra" in refused(seller, db, "POST", path, {"reason": 169, "extra": 1})
    r = seller.post(path, json={"reason": 169, "description": "already packed"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected" and r.json()["attributes"]["decision_reason"] == 169
    assert r.json()["attributes"]["decision_description"] == "already packed"
    assert statuses(seller, "4000000001") == ["400", "400", "400"]
    assert ledger(api, "4000000001")["open"] == 3
    assert refused(seller, db, "POST", path, {"reason": 169})["code"] == "cancel_request_already_decided"
    # a request withdrawn natively shows as rejected, the difference kept in attributes
    other = create(seller, items[0])
    assert api.post(f"/v1/cancel-requests/{other['attributes']['kalem_id']}/withdraw").status_code == 200
    shown = seller.get(f"{BASE}{other['id']}/").json()
    assert shown["status"] == "rejected" and shown["attributes"]["kalem_status"] == "withdrawn"


def test_refund_requests_are_returns(server, db, api):
    api.post("/v1/orders", json=mixed_order())
    client = akinon(server, db)
    o = read(client, "7000000001")
    delivered = [i["pk"] for i in o["orderitem_set"] if i["status"] == "550"]
    made = create(client, delivered[1], reason=152, cancellation_type="refund", quantity=2)
    assert made["cancellation_type"] == "refund" and made["status"] == "waiting_approval"
    assert made["attributes"]["kalem_id"].startswith("ret_")
    assert statuses(client, "7000000001") == ["50", "50", "400"]
    path = f"{BASE}{made['id']}/approve/"
    assert refused(client, db, "POST", path, {"quantity": 1})["code"] == "partial_return_not_supported"
    r = client.post(path, json={"quantity": 2})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert statuses(client, "7000000001") == ["600", "600", "400"]
    assert api.get(f"/v1/returns/{made['attributes']['kalem_id']}").json()["status"] == "approved"
    # the returned units are refundable now, by the cancel endpoint's sibling in kalem
    assert api.get("/v1/orders/7000000001").json()["lines"][0]["ledger"]["returned"] == 2
    assert refused(client, db, "POST", f"{BASE}{made['id']}/reject/", {"reason": 167})["code"] == \
        "return_already_decided"


def test_reject_refund_request(server, db, api):
    api.post("/v1/orders", json=mixed_order())
    client = akinon(server, db)
    delivered = [i["pk"] for i in read(client, "7000000001")["orderitem_set"] if i["status"] == "550"]
    made = create(client, delivered[0], reason=153)
    path = f"{BASE}{made['id']}/reject/"
    assert refused(client, db, "POST", path, {"reason": 169})["code"] == "unknown_reason"  # a cancel denial
    assert client.post(path, json={"reason": 170}).json()["status"] == "rejected"
    assert statuses(client, "7000000001") == ["550", "550", "400"]


def test_not_found_foreign_seller_and_credentials(server, db, api):
    api.post("/v1/orders", json=order())
    api.post("/v1/orders", json=order("4000000009", seller="other"))
    operator = akinon(server, db)
    foreign_items = pks(operator, "4000000009")
    foreign = create(operator, foreign_items[0])
    seller = akinon(server, db, "seller", "acme")
    own = create(seller, pks(seller, "4000000001")[0])
    not_found = {"detail": "Not found.", "code": "not_found"}
    for method, path, payload in [("GET", f"{BASE}{foreign['id']}/", None),
                                  ("POST", f"{BASE}{foreign['id']}/approve/", None),
                                  ("POST", f"{BASE}{foreign['id']}/reject/", {"reason": 169}),
                                  ("GET", f"{BASE}999999/", None),
                                  ("POST", f"{BASE}999999/approve/", None),
                                  ("GET", f"{BASE}{pks(seller, '4000000001')[1]}/", None),   # an item pk, not a request
                                  ("GET", f"{BASE}{read(seller, '4000000001')['pk']}/", None)]:
        assert refused(seller, db, method, path, payload, 404) == not_found
    assert [r["id"] for r in seller.get(BASE).json()["results"]] == [own["id"]]
    assert {r["id"] for r in operator.get(BASE).json()["results"]} == {own["id"], foreign["id"]}
    # naming another seller's order item is naming nothing
    body = refused(seller, db, "POST", BASE, {"order_item": foreign_items[1], "reason": 136})
    assert body == {"order_item": [f'Invalid pk "{foreign_items[1]}" - object does not exist.'],
                    "code": "does_not_exist"}
    anon = httpx.Client(base_url=server.url, timeout=30)
    assert refused(anon, db, "GET", BASE, status=401)["code"]
    assert refused(anon, db, "POST", BASE, {"order_item": foreign_items[1], "reason": 136}, 401)["detail"]


def bad_bodies(items, cancelled, reserved, order_pk):
    return [
        ({"reason": 136}, "order_item", "invalid_request"),
        ({"order_item": f"{items[0]}x", "reason": 136}, "order_item", "invalid_request"),   # "12" would do (DRF)
        ({"order_item": items[0]}, "reason", "invalid_request"),
        ({"order_item": items[0], "reason": 136, "quantity": 0}, "quantity", "invalid_request"),
        ({"order_item": items[0], "reason": 136, "unknown": 1}, "unknown", "invalid_request"),
        ({"order_item": items[0], "reason": 136, "iban": "TR330006100519786457841326"}, "iban", "invalid_request"),
        ({"order_item": items[0], "reason": 136, "quantity": 2}, "quantity", "quantity_exceeds_available"),
        ({"order_item": items[0], "reason": 152}, "reason", "unknown_reason"),           # a refund reason, open unit
        ({"order_item": items[0], "reason": 136, "cancellation_type": "refund"}, "cancellation_type", "invalid"),
        ({"order_item": order_pk, "reason": 136}, "order_item", "does_not_exist"),       # the order's own pk
        ({"order_item": 2**40, "reason": 136}, "order_item", "does_not_exist"),
        ({"order_item": 2**70, "reason": 136}, "order_item", "invalid_request"),
        ({"order_item": cancelled, "reason": 136}, "non_field_errors", "unit_already_cancelled"),
        ({"order_item": reserved, "reason": 136}, "non_field_errors", "unit_pending_decision"),
    ]


def test_bad_bodies_answer_drf_style_and_change_nothing(server, db, api):
    api.post("/v1/orders", json=order())
    client = akinon(server, db)
    o = read(client, "4000000001")
    before = [i["pk"] for i in o["orderitem_set"]]
    r = client.post(f"/api/v1/orders/{o['pk']}/cancel/", json={
        "order": o["pk"], "cancel_items": [before[0]], "forced_refund_amount": None, "reasons": {str(before[0]): 136}})
    assert r.status_code == 200, r.text
    made = create(client, before[1])   # layout: cancelled | pending | open
    assert statuses(client, "4000000001") == ["100", "50", "400"]
    # a request's id shares the pk space with order items but is none: the cancel endpoint says so
    body = refused(client, db, "POST", f"/api/v1/orders/{o['pk']}/cancel/", {
        "order": o["pk"], "cancel_items": [made["id"]], "forced_refund_amount": None,
        "reasons": {str(made["id"]): 136}})
    assert body["code"] == "invalid" and "cancel_items" in body, body
    assert len(read(client, "4000000001")["orderitem_set"]) == 3
    for payload, key, code in bad_bodies([before[2]], before[0], before[1], o["pk"]):
        body = refused(client, db, "POST", BASE, payload)
        assert key in body and body["code"] == code, (payload, body)
        assert isinstance(body[key], list), body
        assert "TR330006100519786457841326" not in str(body)
    malformed = client.post(BASE, content=b"{", headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_json"
    assert refused(client, db, "POST", f"{BASE}1/approve/", {"quantity": "one"})["code"] == "invalid_request"


@pytest.mark.parametrize("prefix", ["/api/v1/channel/1", "/api/channel/1", "/api/v1"])
def test_idempotent_create(server, db, api, prefix):
    api.post("/v1/orders", json=order())
    client = akinon(server, db)
    item = pks(client, "4000000001")[0]
    path = f"{prefix}/cancellation_requests/"
    headers = {"Idempotency-Key": "req-1"}
    first = client.post(path, json={"order_item": item, "reason": 136}, headers=headers)
    again = client.post(path, json={"order_item": item, "reason": 136}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    with UnitOfWork(db, write=False) as uow:
        assert len(uow.cancel_requests.list(None, status=None, limit=10)) == 1
