"""Units keep their numbers: a face's unit id always names the same unit, and retrying a
unit-addressed request is refused instead of taking a neighbour."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kalem.app import access
from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot
from tests.refunds.test_akinon import akinon, body, read
from tests.support import SEED_ORDER, client_for, order

LINE = "item1691416223190"
UNIT1 = {"sourceOrderItemLineId": f"{LINE}-1", "quantity": 1, "reasonId": 137, "reasonDesc": "x"}


@pytest.fixture
def hebiar(api, db):
    access.create_user(UnitOfWork(db), username="oms", password="secret-pass", role="operator", seller_id=None)
    login = api.post("/Auth/login", json={"UserName": "oms", "Password": "secret-pass"})
    with client_for(api, login.json()["token"]) as client:
        yield client


def hebiar_units(hebiar, number="4000000001"):
    """unit line id → (package id, isCancel, isAvaibleCancelRequest) as GetOrderPackages shows it."""
    data = hebiar.get("/orders/GetOrderPackages", params={"OrderNumber": number}).json()["data"]
    return {u["sourceOrderItemLineId"]: (p["sourcePackageId"], u["isCancel"], u["isAvaibleCancelRequest"])
            for p in data for line in p["lines"] for u in line["itemLines"]}


def refused_in_envelope(response, status, code):
    assert response.status_code == status, response.text
    envelope = response.json()
    assert envelope["isSuccess"] is False and envelope["errors"][0]["code"] == code, envelope


def test_a_retried_hebiar_cancel_request_is_refused_and_never_takes_a_neighbour(hebiar, api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    assert hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=[UNIT1]).status_code == 200
    before = snapshot(db)
    refused_in_envelope(hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=[UNIT1]), 409,
                        "unit_pending_decision")
    assert snapshot(db) == before
    [request] = api.get("/v1/cancel-requests", params={"status": "pending"}).json()["data"]
    assert api.post(f"/v1/cancel-requests/{request['id']}/approve").status_code == 200
    before = snapshot(db)
    for path in ("/Orders/CreateOrderItemLineCancelRequest", "/Orders/CancelOrderItemLineList"):
        refused_in_envelope(hebiar.post(path, json=[UNIT1]), 409, "unit_already_cancelled")
    assert snapshot(db) == before
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["ledger"]["cancelled"] == 1
    units = hebiar_units(hebiar)
    assert [units[f"{LINE}-{n}"][1:] for n in (1, 2, 3)] == [(True, False), (False, True), (False, True)]


def test_cancelling_an_open_unit_never_renumbers_a_shipped_one(hebiar, api, db):
    api.post("/v1/orders", json={**SEED_ORDER, "packages": [
        {"package_id": "P-shipped", "status": "Shipped", "items": [{"line_id": LINE, "quantity": 1}]},
        {"package_id": "P-open", "status": "Picking", "items": [{"line_id": LINE, "quantity": 2}]}]})
    assert hebiar_units(hebiar)[f"{LINE}-1"] == ("P-shipped", False, False)
    before = snapshot(db)
    refused_in_envelope(hebiar.post("/Orders/CancelOrderItemLineList", json=[UNIT1]), 409, "unit_in_transit")
    assert snapshot(db) == before
    assert hebiar.post("/Orders/CancelOrderItemLineList", json=[{**UNIT1, "sourceOrderItemLineId": f"{LINE}-3"}]
                       ).status_code == 200
    units = hebiar_units(hebiar)
    assert units[f"{LINE}-1"] == ("P-shipped", False, False)   # still unit 1, still shipped
    assert units[f"{LINE}-2"] == ("P-open", False, True)
    assert units[f"{LINE}-3"][1] is True
    native = api.get("/v1/orders/4000000001").json()
    assert native["lines"][0]["units"] == [{"first": 1, "last": 1, "state": "shipped"},
                                           {"first": 2, "last": 2, "state": "open"},
                                           {"first": 3, "last": 3, "state": "cancelled"}]
    assert {p["package_id"]: p["items"][0]["units"] for p in native["packages"]} == {
        "P-shipped": [[1, 1]], "P-open": [[2, 2]]}


def test_a_retried_akinon_cancel_or_request_changes_no_other_unit(server, api, db):
    api.post("/v1/orders", json=order())
    client = akinon(server, db)
    o = read(client, "4000000001")
    pks = [i["pk"] for i in o["orderitem_set"]]
    cancel = body(o["pk"], [pks[1]])
    assert client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=cancel).status_code == 200
    before = snapshot(db)
    r = client.post(f"/api/i1/orders/{o['pk']}/cancel/", json=cancel)
    assert r.status_code == 400 and r.json()["code"] == "unit_already_cancelled", r.text
    assert snapshot(db) == before
    assert [i["status"] for i in read(client, "4000000001")["orderitem_set"]] == ["400", "100", "400"]

    request = {"order_item": pks[2], "reason": 136}
    assert client.post("/api/v1/channel/1/cancellation_requests/", json=request).status_code == 201
    before = snapshot(db)
    r = client.post("/api/v1/channel/1/cancellation_requests/", json=request)
    assert r.status_code == 400 and r.json()["code"] == "unit_pending_decision", r.text
    assert snapshot(db) == before
    assert [i["status"] for i in read(client, "4000000001")["orderitem_set"]] == ["400", "100", "50"]
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["units"] == [
        {"first": 1, "last": 1, "state": "open"}, {"first": 2, "last": 2, "state": "cancelled"},
        {"first": 3, "last": 3, "state": "pending_cancel"}]


def test_akinon_item_pks_keep_naming_the_units_they_were_minted_for(server, api, db):
    """Pks stored for an order before pks were computed are still shown and read the same way: the row
    of unit n keeps `unit_index` n - 1, the order's row is index 0 of no line."""
    api.post("/v1/orders", json=order())
    order_id = api.get("/v1/orders/4000000001").json()["id"]
    stored = {("", 0): 900_007, (LINE, 0): 900_008, (LINE, 1): 900_009, (LINE, 2): 900_010}   # as minted before
    with db.engine.begin() as conn:
        for (line_id, index), pk in stored.items():
            conn.execute(sa.text("INSERT INTO akinon_ids (pk, seller_id, order_id, line_id, unit_index) "
                                 "VALUES (:pk, 'acme', :o, :l, :i)"),
                         {"pk": pk, "o": order_id, "l": line_id, "i": index})
    o = read(akinon(server, db), "4000000001")
    assert o["pk"] == 900_007 and [i["pk"] for i in o["orderitem_set"]] == [900_008, 900_009, 900_010]
    request = {"order_item": 900_009, "reason": 136}
    client = akinon(server, db, "seller", "acme")
    r = client.post("/api/v1/channel/1/cancellation_requests/", json=request)
    assert r.status_code == 201 and r.json()["attributes"]["order"] == 900_007, r.text
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["units"] == [
        {"first": 1, "last": 1, "state": "open"}, {"first": 2, "last": 2, "state": "pending_cancel"},
        {"first": 3, "last": 3, "state": "open"}]
    assert client.get("/api/v1/orders/900007/").json()["orderitem_set"][1]["status"] == "50"


def test_native_cancels_and_requests_name_units_by_number(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    unit3 = {"line_id": LINE, "quantity": 1, "reason_id": 136, "units": [3]}
    r = api.post("/v1/orders/4000000001/cancellations", json={"lines": [unit3]})
    assert r.status_code == 200, r.text
    assert r.json()["lines"][0]["units"] == [{"first": 1, "last": 2, "state": "open"},
                                             {"first": 3, "last": 3, "state": "cancelled"}]
    before = snapshot(db)
    for path, payload, status, code in (
            ("/v1/orders/4000000001/cancellations", {"lines": [unit3]}, 409, "unit_already_cancelled"),
            ("/v1/cancel-requests", {"order_number": "4000000001", "lines": [{**unit3, "reason_id": 137}]}, 409,
             "unit_already_cancelled"),
            ("/v1/orders/4000000001/cancellations", {"lines": [{**unit3, "units": [4]}]}, 404, "unit_not_found"),
            ("/v1/orders/4000000001/cancellations", {"lines": [{**unit3, "units": [1, 2]}]}, 422, "invalid_request")):
        r = api.post(path, json=payload)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert snapshot(db) == before
    # two units asked, unit 2 named: unit 2 and the lowest other open one (1)
    r = api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": LINE, "quantity": 2, "reason_id": 137, "units": [2]}]})
    assert r.status_code == 201, r.text
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["units"] == [
        {"first": 1, "last": 2, "state": "pending_cancel"}, {"first": 3, "last": 3, "state": "cancelled"}]
