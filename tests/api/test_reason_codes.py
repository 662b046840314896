"""The native views name each reason they render by its code in the shared vocabulary too
(`domain/reasons.shared_code`): a cancel request's lines and its denial, a return's items and its
denial — beside the reason ids, which stay as they were. Over real HTTP, both databases."""

from __future__ import annotations

from tests.refunds.test_native_refunds import delivered_order
from tests.support import two_line_order


def test_a_cancel_request_shows_its_reasons_shared_codes(api):
    assert api.post("/v1/orders", json=two_line_order("4700000001")).status_code == 201
    asked = api.post("/v1/cancel-requests", json={"order_number": "4700000001", "lines": [
        {"line_id": "4700000001-a", "quantity": 1, "reason_id": 135},
        {"line_id": "4700000001-b", "quantity": 2, "reason_id": 140}]})
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert [(ln["reason_id"], ln["reason_code"]) for ln in request["lines"]] == [(135, "out_of_stock"),
                                                                                 (140, "defective")]
    assert request["decision_reason_id"] is None and request["decision_reason_code"] is None
    rejected = api.post(f"/v1/cancel-requests/{request['id']}/reject", json={"reason_id": 168})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["decision_reason_code"] == "shipment_dispatched"
    [listed] = api.get("/v1/cancel-requests", params={"order_number": "4700000001"}).json()["data"]
    assert listed["decision_reason_code"] == "shipment_dispatched"
    assert [ln["reason_code"] for ln in listed["lines"]] == ["out_of_stock", "defective"]
    assert api.get(f"/v1/cancel-requests/{request['id']}").json() == listed


def test_a_return_shows_its_reasons_shared_codes(api):
    assert api.post("/v1/orders", json=delivered_order("4700000002")).status_code == 201
    made = api.post("/v1/orders/4700000002/returns",
                    json={"lines": [{"line_id": "4700000002-b", "quantity": 1, "reason_id": 153}]})
    assert made.status_code == 201, made.text
    assert [(i["reason_id"], i["reason_code"]) for i in made.json()["items"]] == [(153, "wrong_item")]
    assert made.json()["decision_reason_code"] is None
    rejected = api.post(f"/v1/returns/{made.json()['id']}/reject", json={"reason_id": 167})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["return"]["decision_reason_code"] == "missing_product"
    assert rejected.json()["return"]["items"][0]["reason_code"] == "wrong_item"
