"""The Hebiar OMS face: every request example of its CreateOrderItemLineCancelRequest page, plus the rules
around it."""

from __future__ import annotations

import pytest

from kalem.app import access
from kalem.platforms.hebiar.hooks import hook_payloads
from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot
from tests.support import SEED_ORDER, client_for, manual_refunds, order, token

SEED_BODY = [{"sourceOrderItemLineId": "item1691416223190-1", "quantity": 1, "reasonId": 137,
              "reasonDesc": "sebep açıklaması"}]
HEADERS = {"accept": "text/plain", "Content-Type": "application/json"}


@pytest.fixture
def hebiar(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    access.create_user(UnitOfWork(db), username="a101", password="secret-pass", role="operator", seller_id=None)
    login = api.post("/Auth/login", json={"UserName": "a101", "Password": "secret-pass"})
    assert login.status_code == 200, login.text
    assert login.json()["isSuccess"] is True and login.json()["statusCode"] is None
    with client_for(api, login.json()["token"]) as client:
        yield client


def test_documented_example_create_cancel_request(hebiar, api):
    response = hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=SEED_BODY, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert response.json() == {"isSuccess": True, "statusCode": 200}
    queue = api.get("/v1/cancel-requests", params={"status": "pending"}).json()["data"]
    assert len(queue) == 1
    assert queue[0]["lines"] == [{"line_id": "item1691416223190", "quantity": 1, "reason_id": 137,
                                  "reason_code": "seller_request", "note": "sebep açıklaması",
                                  "approved_quantity": None}]


def test_paths_are_case_insensitive(hebiar):
    response = hebiar.post("/orders/createorderitemlinecancelrequest", json=SEED_BODY, headers=HEADERS)
    assert response.json() == {"isSuccess": True, "statusCode": 200}


def test_cancel_order_item_line_list_cancels_directly(hebiar, api):
    body = [{"sourceOrderItemLineId": "item1691416223190-1", "quantity": 1, "reasonId": 151,
             "reasonDesc": "Vazgeçtim"}]
    response = hebiar.post("/Orders/CancelOrderItemLineList", json=body)
    assert response.json() == {"isSuccess": True, "statusCode": 0}
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["cancelled_quantity"] == 1


def test_unit_lines_of_one_line_add_up(hebiar, api):
    body = [{"sourceOrderItemLineId": f"item1691416223190-{n}", "quantity": 1, "reasonId": 136,
             "reasonDesc": "x"} for n in (1, 2)]
    assert hebiar.post("/Orders/CancelOrderItemLineList", json=body).status_code == 200
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["cancelled_quantity"] == 2


def test_bad_requests_get_the_oms_envelope_and_change_nothing(hebiar, db):
    before = snapshot(db)
    cases = [
        (hebiar.post("/Orders/CreateOrderItemLineCancelRequest", content=b'[{"quantity": 1,}]', headers=HEADERS), 400),
        (hebiar.post("/Orders/CreateOrderItemLineCancelRequest",
                     json=[{**SEED_BODY[0], "sourceOrderItemLineId": "item1691416223190-9"}]), 404),
        (hebiar.post("/Orders/CreateOrderItemLineCancelRequest",
                     json=[{**SEED_BODY[0], "sourceOrderItemLineId": "nope-1"}]), 404),
        (hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=[{**SEED_BODY[0], "quantity": 4}]), 409),
        (hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=[{**SEED_BODY[0], "quantity": 0}]), 422),
        (hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=[{**SEED_BODY[0], "reasonId": 9999}]), 422),
        (hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=[{**SEED_BODY[0], "quantity": "x"}]), 422),
        (hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=[]), 422),
        (hebiar.post("/Orders/CancelOrderItemLineList", json={"not": "a list"}), 422),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["isSuccess"] is False and body["statusCode"] == status
        assert body["errorMesssage"] == body["errorMessage"] and body["errors"][0]["code"]
    assert snapshot(db) == before


def test_missing_or_wrong_bearer_is_401_in_the_oms_envelope(anon, api):
    api.post("/v1/orders", json=SEED_ORDER)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer a.b.c"}):
        response = anon.post("/Orders/CreateOrderItemLineCancelRequest", json=SEED_BODY, headers=headers)
        assert response.status_code == 401
        assert response.json()["isSuccess"] is False
    bad_login = anon.post("/Auth/login", json={"UserName": "x", "Password": "y"})
    assert bad_login.status_code == 401 and bad_login.json()["isSuccess"] is False


def test_a_kalem_seller_token_works_but_only_on_its_own_lines(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    globex = token(db, seller="globex")
    before = snapshot(db)
    with client_for(api, globex) as client:
        response = client.post("/Orders/CreateOrderItemLineCancelRequest", json=SEED_BODY)
        assert response.status_code == 404
    assert snapshot(db) == before
    with client_for(api, token(db, seller="acme")) as client:
        assert client.post("/Orders/CreateOrderItemLineCancelRequest", json=SEED_BODY).status_code == 200


def test_reasons_lookup(hebiar):
    response = hebiar.get("/Lookup/OrderStatusReasonByTenant/GetStatusReasonByType",
                          params={"statusType": "Cancelled"})
    assert response.status_code == 200
    rows = response.json()
    assert {"orderStatusReasonId", "orderStatusReason", "reasonName", "id", "createdAt"} == set(rows[0])
    assert {r["id"]: r["reasonName"] for r in rows}[136] == "Müşteri isteği"
    returned = hebiar.get("/lookup/orderstatusreasonbytenant/getstatusreasonbytype", params={"statusType": "Returned"})
    assert 151 in {r["id"] for r in returned.json()}
    bad = hebiar.get("/Lookup/OrderStatusReasonByTenant/GetStatusReasonByType", params={"statusType": "X"})
    assert bad.status_code == 422 and bad.json()["isSuccess"] is False


def test_get_order_packages_derives_unit_lines_from_the_ledger(hebiar):
    hebiar.post("/Orders/CancelOrderItemLineList", json=[{**SEED_BODY[0], "reasonId": 136}])
    hebiar.post("/Orders/CreateOrderItemLineCancelRequest",
                json=[{**SEED_BODY[0], "sourceOrderItemLineId": "item1691416223190-2"}])
    response = hebiar.get("/orders/GetOrderPackages", params={"page": 0, "size": 10, "OrderNumber": "4000000001",
                                                              "Status": "null", "StartDate": "null"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["isSuccess"] is True and body["totalResultCount"] == 1
    package = body["data"][0]
    assert package["sourcePackageId"] == "BB_pid1692966394724" and package["status"] == "Picked"
    units = {u["sourceOrderItemLineId"]: u for u in package["lines"][0]["itemLines"]}
    assert set(units) == {"item1691416223190-1", "item1691416223190-2", "item1691416223190-3"}
    assert units["item1691416223190-1"]["isCancel"] is True
    assert units["item1691416223190-1"]["isAvaibleCancelRequest"] is False
    assert units["item1691416223190-2"]["isCancel"] is False
    assert units["item1691416223190-2"]["isAvaibleCancelRequest"] is False  # reserved by the pending request
    assert units["item1691416223190-3"]["isAvaibleCancelRequest"] is True


def test_seller_decisions_become_the_documented_hooks(hebiar, api, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    api.post("/v1/orders", json=order("4000000002"))
    hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=SEED_BODY)
    hebiar.post("/Orders/CreateOrderItemLineCancelRequest",
                json=[{**SEED_BODY[0], "sourceOrderItemLineId": "item000002-1"}])
    first, second = api.get("/v1/cancel-requests").json()["data"]
    api.post(f"/v1/cancel-requests/{first['id']}/approve")
    api.post(f"/v1/cancel-requests/{second['id']}/reject", json={"reason_id": 168, "note": ""})
    approved = api.get("/v1/orders/4000000001/events").json()["data"][-1]
    assert hook_payloads(approved) == [{
        "hookName": "CancelOrderItemLineConfirmedEvent", "packageId": "BB_pid1692966394724",
        "packageType": "ShipToCustomer",
        "items": [{"orderItemLineId": "item1691416223190-1", "packageItemStatusId": 1302,
                   "packageItemStatusName": "Cancelled"}],
        "packageStatusId": 1304, "packageStatusName": "Picked"}]  # units 2 and 3 are still in the package
    rejected = api.get("/v1/orders/4000000002/events").json()["data"][-1]
    hook = hook_payloads(rejected)[0]
    assert hook["hookName"] == "CancelOrderItemLineRejectedEvent"
    assert hook["packageStatusId"] == 1324 and hook["packageStatusName"] == "CancelRequestDenied"
    assert hook["items"][0]["packageItemStatusReasonId"] == 168
    assert hook["items"][0]["packageItemStatusReasonName"] == "Gönderi Yola Çıktı"
    assert hook["items"][0]["orderItemLineId"] == "item000002-1"


def test_login_token_is_a_jwt_accepted_on_native_too(hebiar):
    assert hebiar.get("/v1/orders/4000000001").status_code == 200
    assert hebiar.get("/v1/orders/4000000001", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
