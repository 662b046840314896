"""The Hebiar OMS face against the platform's own examples (Hebiar OMS's API documentation): every request
example is sent as documented and its response compared key by key and type by type; every hook is
received over real HTTP and compared with its sample."""

from __future__ import annotations

import copy
import re

import httpx
import pytest

from kalem.app import access
from kalem.platforms.hebiar.face.responses import HebiarError, HebiarLoginResult, HebiarPackagePage, HebiarReason
from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot
from tests.golden import hebiar_examples as ex
from tests.golden.shape import assert_same_shape
from tests.support import SEED_ORDER, client_for, csrf_token, token
from tests.webhooks.conftest import deliveries, drain, receiver, worker  # noqa: F401 - fixtures

HEADERS = {"accept": "text/plain", "Content-Type": "application/json"}
HOOK_TOKEN = "hebiar-receiver-token"

#: The documented GetOrderPackages example as a kalem order: one unit, cancelled with reason 151.
EXAMPLE_ORDER = {
    "order_number": "3124010971725196", "seller_id": "acme", "currency": "TRY", "channel": "WEB",
    "lines": [{"line_id": "3124010971725196-26014919", "sku": "26014919", "barcode": "8690345727803",
               "name": "Beestar Çizim Seti 4'lü", "quantity": 1, "unit_price": "7.50", "discount": "1.88"}],
    "packages": [{"package_id": "5303724133", "status": "Picking", "cargo_tracking_number": "242452881425",
                  "items": [{"line_id": "3124010971725196-26014919", "quantity": 1}]}],
    "customer": {"customer_id": "402380", "code": "b2F5CeP0eE4oBePRkWQrlcqf", "first_name": "ALİ",
                 "last_name": "HAZAR", "email": "ali.hazar@outlook.com.tr", "phone": "905312250102"},
    "shipment_address": {"first_name": "ALİ", "last_name": "HAZAR", "address1": "Zaviye, ***** / ***",
                         "address2": "-", "neighborhood": "Zaviye", "district": "Yeşilyurt", "city": "Malatya",
                         "postal_code": "11111", "country_code": "TR", "phone": "905312250102"},
    "due_date": "2024-01-12T13:41:26.585+03:00",
}
EXAMPLE_ORDER["invoice_address"] = EXAMPLE_ORDER["shipment_address"]


@pytest.fixture
def hebiar(api, db):
    """An operator's Hebiar client, signed in the documented way (`POST /Auth/login`)."""
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    access.create_user(UnitOfWork(db), username="a101", password="secret-pass", role="operator", seller_id=None)
    login = api.post("/Auth/login", json={"UserName": "a101", "Password": "secret-pass"})
    with client_for(api, login.json()["token"]) as client:
        yield client


def packages(client: httpx.Client, number: str) -> list[dict]:
    response = client.get("/orders/GetOrderPackages", params={"page": 0, "size": 15, "OrderNumber": number,
                                                              "Status": "null", "EndDate": "null"})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def units(client: httpx.Client, number: str) -> dict[str, dict]:
    return {u["sourceOrderItemLineId"]: u for p in packages(client, number) for ln in p["lines"]
            for u in ln["itemLines"]}


# --- requests of CreateOrderItemLineCancelRequest and the pages it links -------------------------------

def test_documented_create_cancel_request(hebiar, api):
    response = hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=ex.CANCEL_REQUEST_BODY, headers=HEADERS)
    assert response.status_code == 200
    assert_same_shape(response.json(), ex.CANCEL_REQUEST_RESPONSE, equal=["*"])
    [queued] = api.get("/v1/cancel-requests", params={"status": "pending"}).json()["data"]
    assert queued["lines"][0]["reason_id"] == 137 and queued["lines"][0]["note"] == "sebep açıklaması"


def test_cancel_order_item_line_list(hebiar, api):
    response = hebiar.post("/Orders/CancelOrderItemLineList", json=ex.CANCEL_LIST_BODY, headers=HEADERS)
    assert_same_shape(response.json(), ex.CANCEL_LIST_RESPONSE, equal=["*"])
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["cancelled_quantity"] == 1


def test_login(hebiar, api):
    response = api.post("/Auth/login", json={"UserName": "a101", "Password": "secret-pass"})
    assert_same_shape(response.json(), ex.LOGIN_RESPONSE, equal=["$.isSuccess", "$.statusCode"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", response.json()["expire"])
    HebiarLoginResult.model_validate(response.json())


def test_reasons_by_status(hebiar):
    response = hebiar.get("/Lookup/OrderStatusReasonByTenant/GetStatusReasonByType", params={"statusType": "Cancelled"})
    rows = response.json()
    assert_same_shape(rows[:2], ex.REASONS_RESPONSE, equal=["$[].reasonName", "$[].id", "$[].orderStatusReason",
                                                            "$[].orderStatusReasonId"])
    assert {137, 151} <= {r["id"] for r in rows}  # the ids the documented examples send
    for row in rows:
        HebiarReason.model_validate(row)


def test_get_order_packages_matches_the_documented_example(hebiar, api):
    assert api.post("/v1/orders", json=EXAMPLE_ORDER).status_code == 201
    cancel = [{"sourceOrderItemLineId": "3124010971725196-26014919-1", "quantity": 1, "reasonId": 151}]
    assert hebiar.post("/Orders/CancelOrderItemLineList", json=cancel).status_code == 200
    response = hebiar.get("/orders/GetOrderPackages", params={
        "page": 0, "size": 5, "orderByField": "orderDate", "orderByDirection": "DESC", "StartDate": "1704099392000",
        "EndDate": "null", "OrderNumber": "3124010971725196", "Status": "", "CustomerCode": "null",
        "CustomerId": "null", "CustomerFirstName": "null", "CustomerLastName": "null", "CustomerPhone": "",
        "CustomerEmail": "", "IsGuest": "null"})
    body = response.json()
    documented = _as_the_table_types_it(ex.ORDER_PACKAGES_RESPONSE)
    # The envelope's error fields are in the page's field table, not in its example.
    assert (body.pop("errorMesssage"), body.pop("errorSource"), body.pop("correlationId"), body.pop("errors")) == (
        None, None, None, [])
    # kalem keeps a package's tracking number only (no carrier, link or code) and no product images.
    documented["data"][0] |= {"cargoTrackingLink": None, "cargoCode": None, "cargoName": None}
    documented["data"][0]["lines"][0]["productImageUrl"] = None
    assert_same_shape(body, documented, equal=[
        "$.isSuccess", "$.statusCode", "$.resultCount", "$.totalResultCount", "$.pageSize", "$.currentPage",
        "$.data[].status", "$.data[].sourcePackageId", "$.data[].orderNumber", "$.data[].customerCode",
        "$.data[].customerId", "$.data[].customerFirstName", "$.data[].customerLastName", "$.data[].customerEmail",
        "$.data[].cargoTrackingNumber", "$.data[].totalListPrice", "$.data[].totalProductPrice",
        "$.data[].channelCode", "$.data[].lines[].productPrice",
        "$.data[].lines[].listPrice", "$.data[].lines[].itemLines[].saleTotal",
        "$.data[].lines[].itemLines[].returnReason", "$.data[].lines[].itemLines[].returnReasonDesc",
        "$.data[].lines[].itemLines[].isCancel", "$.data[].lines[].itemLines[].sourceOrderItemLineId",
        "$.data[].lines[].itemLines[].sourceOrderItemId", "$.data[].shipmentAddress.fullName",
        "$.data[].shipmentAddress.fullAddress", "$.data[].shipmentAddress.district",
        "$.data[].invoiceAddress.countryCode", "$.data[].payment.iban"])
    package = body["data"][0]
    unit = package["lines"][0]["itemLines"][0]
    HebiarPackagePage.model_validate(response.json())  # what /openapi.json declares for the operation
    assert unit["lastPackageId"] == package["id"] and unit["lastPackageItemId"] == package["lines"][0]["id"]
    assert package["dueDate"] == "2024-01-12T10:41:26.585000Z"
    assert [h["status"] for h in package["packageHistories"]] == ["Picked", "Cancelled"]


def _as_the_table_types_it(example: dict) -> dict:
    """The example with the types the page's field table gives where the example shows null."""
    documented = copy.deepcopy(example)
    package = documented["data"][0]
    unit = package["lines"][0]["itemLines"][0]
    unit["isReturn"], unit["returnLineAttachments"] = False, []
    package["vendorCode"] = "acme"
    return documented


def test_package_and_unit_ids_are_unique_stable_integers(hebiar, api, db):
    two = {**copy.deepcopy(SEED_ORDER), "order_number": "4000000002"}
    two["lines"][0]["line_id"] = "item000002"
    two["packages"] = [{"package_id": f"BB_pid2-{k}", "status": "Picking", "items": [
        {"line_id": "item000002", "quantity": q}]} for k, q in ((1, 2), (2, 1))]
    assert api.post("/v1/orders", json=two).status_code == 201
    first = packages(hebiar, "4000000001") + packages(hebiar, "4000000002")
    ids = [p["id"] for p in first]
    assert all(type(i) is int for i in ids) and len(set(ids)) == 3
    every = [u for p in first for ln in p["lines"] for u in ln["itemLines"]]
    assert len({u["id"] for u in every}) == 6
    for field in ("id", "orderId", "orderItemId", "lastPackageId", "lastPackageItemId"):
        assert all(type(u[field]) is int for u in every), field
    assert len({u["orderId"] for u in every}) == 2
    # A cancel does not renumber anything; a second read shows the same ids.
    assert hebiar.post("/Orders/CancelOrderItemLineList", json=[{"sourceOrderItemLineId": "item000002-3",
                                                                  "quantity": 1, "reasonId": 135}]).status_code == 200
    before = snapshot(db)
    again = packages(hebiar, "4000000001") + packages(hebiar, "4000000002")
    assert snapshot(db) == before  # numbered once: later reads write nothing
    assert [p["id"] for p in again] == ids
    again_units = [u["id"] for p in again for ln in p["lines"] for u in ln["itemLines"]]
    assert sorted(again_units) == sorted(u["id"] for u in every)


def test_sale_totals_are_rounded_to_the_cent_and_add_up(hebiar):
    # 3 × 199.90 − 20.00 = 579.70 over three units: 193.24 + 193.23 + 193.23, never 193.2333…
    got = units(hebiar, "4000000001")
    assert [got[f"item1691416223190-{n}"]["saleTotal"] for n in (1, 2, 3)] == [193.24, 193.23, 193.23]


def test_payment_customer_and_seller_fields_come_from_the_intake(hebiar, api):
    order = {**copy.deepcopy(EXAMPLE_ORDER), "order_number": "3124010971725197", "seller_name": "Acme A.Ş.",
             "payment": {"method": "CreditCard", "status": "Paid", "total": "5.62", "installment_count": 1,
                         "paid_at": "2024-01-09T10:41:26+03:00", "bank_name": "Ziraat"}}
    order["lines"][0]["line_id"] = "3124010971725197-1"
    order["packages"][0] |= {"package_id": "5303724134", "items": [{"line_id": "3124010971725197-1", "quantity": 1}]}
    order["invoice_address"] = {**order["invoice_address"], "tax_office": "Malatya", "tax_number": "1234567890"}
    created = api.post("/v1/orders", json=order)
    assert created.status_code == 201, created.text
    assert created.json()["payment"]["total"] == "5.62" and created.json()["customer"]["customer_id"] == "402380"
    [package] = packages(hebiar, "3124010971725197")
    assert package["vendorCompanyName"] == "Acme A.Ş."
    assert (package["payment"]["paymentMethod"], package["payment"]["paymentStatus"], package["payment"]["total"],
            package["payment"]["installmentCount"]) == ("CreditCard", "Paid", 5.62, 1)
    assert package["payment"]["iban"] is None and package["payment"]["paidDateUtc"] == "2024-01-09T07:41:26Z"
    assert (package["invoiceAddress"]["taxNumber"], package["taxNumber"]) == ("1234567890", "1234567890")
    assert package["shipmentAddress"]["id"] != package["invoiceAddress"]["id"]


def test_the_documented_filters_select_packages(hebiar, api):
    assert api.post("/v1/orders", json=EXAMPLE_ORDER).status_code == 201
    def found(**params) -> list[str]:
        response = hebiar.get("/orders/GetOrderPackages", params={"OrderNumber": "null", "IsGuest": "null", **params})
        assert response.status_code == 200, response.text
        return [p["orderNumber"] for p in response.json()["data"]]
    assert found() == ["3124010971725196", "4000000001"]
    assert found(orderByDirection="ASC", orderByField="orderDate") == ["4000000001", "3124010971725196"]
    assert found(CustomerEmail="ALI.hazar@outlook.com.tr", CustomerId="402380") == ["3124010971725196"]
    assert found(CustomerFirstName="ALİ", CustomerLastName="nobody") == []
    assert found(Status="Picked", CustomerCode="null", CustomerPhone="") == ["3124010971725196", "4000000001"]
    assert found(Status="Shipped") == []
    assert found(StartDate="4102444800") == []  # 2100-01-01, in seconds
    assert hebiar.get("/orders/GetOrderPackages", params={"orderByField": "price"}).status_code == 422


def test_a_rejected_cancel_request_shows_its_denial_on_the_unit(hebiar, api):
    hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=ex.CANCEL_REQUEST_BODY)
    [request] = api.get("/v1/cancel-requests").json()["data"]
    api.post(f"/v1/cancel-requests/{request['id']}/reject", json={"reason_id": 168, "note": "yolda"})
    unit = units(hebiar, "4000000001")["item1691416223190-1"]
    assert (unit["rejectReason"], unit["rejectReasonDesc"], unit["isCancel"]) == ("Gönderi Yola Çıktı", "yolda", False)
    assert unit["isAvaibleCancelRequest"] is True


# --- unit identity through the face ------------------------------------------------------------------

def test_a_retried_cancel_request_is_refused_and_touches_no_other_unit(hebiar, api, db):
    first = hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=ex.CANCEL_REQUEST_BODY, headers=HEADERS)
    assert first.json() == ex.CANCEL_REQUEST_RESPONSE
    before = snapshot(db)
    retried = hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=ex.CANCEL_REQUEST_BODY, headers=HEADERS)
    assert retried.status_code == 409
    assert retried.json()["isSuccess"] is False and retried.json()["errors"][0]["code"] == "unit_pending_decision"
    assert snapshot(db) == before
    got = units(hebiar, "4000000001")
    assert [got[f"item1691416223190-{n}"]["isAvaibleCancelRequest"] for n in (1, 2, 3)] == [False, True, True]
    assert len(api.get("/v1/cancel-requests", params={"status": "pending"}).json()["data"]) == 1
    # The same with a direct cancel: -1 is cancelled once; the retry is refused, -2 and -3 stay open.
    hebiar.post("/Orders/CancelOrderItemLineList", json=[{**ex.CANCEL_LIST_BODY[0],
                                                          "sourceOrderItemLineId": "item1691416223190-2"}])
    twice = hebiar.post("/Orders/CancelOrderItemLineList", json=[{**ex.CANCEL_LIST_BODY[0],
                                                                  "sourceOrderItemLineId": "item1691416223190-2"}])
    assert twice.status_code == 409 and twice.json()["errors"][0]["code"] == "unit_already_cancelled"
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["ledger"] == {
        "open": 1, "pending_cancel": 1, "cancelled": 1, "shipped": 0, "delivered": 0, "return_pending": 0,
        "returned": 0}


# --- hooks, received over real HTTP ----------------------------------------------------------------

def hebiar_subscriber(api, receiver, event_types=("*",)) -> None:  # noqa: F811 - the fixture, passed in
    body = {"url": f"http://127.0.0.1:{receiver.port}/SampleWebHooks/PackageWebHook_Successsample",
            "event_types": list(event_types), "dialect": "hebiar", "auth": {"kind": "bearer", "token": HOOK_TOKEN}}
    assert api.post("/v1/webhook-subscriptions", json=body).status_code == 201


def settled(api) -> bool:
    return all(d["status"] not in ("pending", "delivering") for d in deliveries(api))


def received(receiver) -> list[dict]:  # noqa: F811
    for got in receiver.requests:
        assert (got.method, got.path) == ("POST", "/SampleWebHooks/PackageWebHook_Successsample")
        assert got.headers.get("authorization") == f"Bearer {HOOK_TOKEN}"
        assert got.headers.get("content-type", "").startswith("application/json")
    return [got.json() for got in receiver.requests]


def test_seller_decisions_arrive_as_the_documented_hooks(hebiar, api, db, receiver, worker):  # noqa: F811
    hebiar_subscriber(api, receiver, ["cancel_request.*"])
    assert api.post("/v1/orders", json={**copy.deepcopy(SEED_ORDER), "order_number": "4000000002", "lines": [
        {**SEED_ORDER["lines"][0], "line_id": "item000002"}], "packages": [
        {"package_id": "BB_pid000002", "status": "Picking", "items": [{"line_id": "item000002", "quantity": 3}]}]
    }).status_code == 201
    hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=ex.CANCEL_REQUEST_BODY)
    hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=[{**ex.CANCEL_REQUEST_BODY[0],
                                                                   "sourceOrderItemLineId": "item000002-2"}])
    first, second = api.get("/v1/cancel-requests").json()["data"]
    seller = client_for(api, token(db, "seller", "acme"))
    assert seller.post(f"/v1/cancel-requests/{first['id']}/approve").status_code == 200
    refused = seller.post(f"/v1/cancel-requests/{second['id']}/reject", json={"reason_id": 168, "note": ""})
    assert refused.status_code == 200
    drain(worker, lambda: settled(api))
    # cancel_request.created sends nothing (skipped); two orders' hooks may arrive in either order.
    by_name = {hook["hookName"]: hook for hook in received(receiver)}
    confirmed, rejected = by_name["CancelOrderItemLineConfirmedEvent"], by_name["CancelOrderItemLineRejectedEvent"]
    assert len(receiver.requests) == 2
    assert_same_shape(confirmed, ex.CONFIRMED, equal=["$.hookName", "$.packageType", "$.items[].packageItemStatusId",
                                                      "$.items[].packageItemStatusName"])
    assert (confirmed["packageId"], confirmed["items"][0]["orderItemLineId"]) == ("BB_pid1692966394724",
                                                                                  "item1691416223190-1")
    # The package still holds units 2 and 3: its status is its own, not Cancelled.
    assert (confirmed["packageStatusId"], confirmed["packageStatusName"]) == (1304, "Picked")
    assert_same_shape(rejected, ex.REJECTED, equal=[
        "$.hookName", "$.packageType", "$.packageStatusId", "$.packageStatusName", "$.packageStatusReasonId",
        "$.packageStatusReasonName", "$.packageStatusReasonDesc", "$.items[].packageItemStatusId",
        "$.items[].packageItemStatusName", "$.items[].packageItemStatusReasonId",
        "$.items[].packageItemStatusReasonName", "$.items[].packageItemStatusReasonDesc"])
    assert (rejected["packageId"], rejected["items"][0]["orderItemLineId"]) == ("BB_pid000002", "item000002-2")


def test_a_partial_approval_confirms_the_approved_units_and_rejects_the_refused_ones(
        hebiar, api, db, receiver, worker):  # noqa: F811
    hebiar_subscriber(api, receiver, ["cancel_request.*"])
    asked = [{**ex.CANCEL_REQUEST_BODY[0], "sourceOrderItemLineId": f"item1691416223190-{n}"} for n in (2, 3)]
    assert hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=asked).status_code == 200
    [request] = api.get("/v1/cancel-requests").json()["data"]
    seller = client_for(api, token(db, "seller", "acme"))
    approved = seller.post(f"/v1/cancel-requests/{request['id']}/approve", json={
        "lines": [{"line_id": "item1691416223190", "quantity": 1}]})
    assert approved.status_code == 200, approved.text
    drain(worker, lambda: settled(api))
    confirmed, rejected = received(receiver)
    assert_same_shape(confirmed, ex.CONFIRMED, equal=["$.hookName", "$.packageType", "$.items[].packageItemStatusId",
                                                      "$.items[].packageItemStatusName"])
    assert [i["orderItemLineId"] for i in confirmed["items"]] == ["item1691416223190-2"]  # the lowest asked
    assert (confirmed["packageId"], confirmed["packageStatusId"], confirmed["packageStatusName"]) == (
        "BB_pid1692966394724", 1304, "Picked")  # units 1 and 3 are still in it
    # The refused unit is sent as the documented rejection (no denial reason: the seller gave none).
    without_reason = {k: v for k, v in ex.REJECTED.items() if "Reason" not in k}
    without_reason["items"] = [{k: v for k, v in i.items() if "Reason" not in k} for i in ex.REJECTED["items"]]
    assert_same_shape(rejected, without_reason, equal=[
        "$.hookName", "$.packageType", "$.packageStatusId", "$.packageStatusName", "$.items[].packageItemStatusId",
        "$.items[].packageItemStatusName"])
    assert (rejected["packageId"], [i["orderItemLineId"] for i in rejected["items"]]) == (
        "BB_pid1692966394724", ["item1691416223190-3"])
    assert units(hebiar, "4000000001")["item1691416223190-3"]["isAvaibleCancelRequest"] is True  # open again


def test_a_refused_unit_is_named_in_the_package_a_split_moved_it_to(hebiar, api, db, receiver, worker):  # noqa: F811
    hebiar_subscriber(api, receiver, ["cancel_request.*"])
    asked = [{**ex.CANCEL_REQUEST_BODY[0], "sourceOrderItemLineId": f"item1691416223190-{n}"} for n in (1, 2)]
    assert hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=asked).status_code == 200
    [request] = api.get("/v1/cancel-requests").json()["data"]
    split = api.post("/v1/orders/4000000001/packages/BB_pid1692966394724/split", json={
        "packages": [{"items": [{"line_id": "item1691416223190", "quantity": 1}]}]})  # unit 1 alone; 2 and 3 after
    assert split.status_code == 200, split.text
    children = {p["package_id"] for p in api.get("/v1/orders/4000000001").json()["packages"]
                if p.get("parent_id") == "BB_pid1692966394724"}
    assert len(children) == 2
    approved = api.post(f"/v1/cancel-requests/{request['id']}/approve", json={
        "lines": [{"line_id": "item1691416223190", "quantity": 1}]})
    assert approved.status_code == 200, approved.text
    drain(worker, lambda: settled(api))
    confirmed, rejected = received(receiver)
    assert confirmed["hookName"] == "CancelOrderItemLineConfirmedEvent"
    assert confirmed["packageStatusName"] == "Cancelled"  # unit 1 was its package's only unit
    assert rejected["hookName"] == "CancelOrderItemLineRejectedEvent"
    assert rejected["items"] == [{"orderItemLineId": "item1691416223190-2", "packageItemStatusId": 1324,
                                  "packageItemStatusName": "CancelRequestDenied"}]
    assert rejected["packageId"] in children and rejected["packageId"] != confirmed["packageId"]


SHIPPED_EQUAL = ["$.hookName", "$.packageType", "$.packageStatusId", "$.packageStatusName",
                 "$.items[].packageItemStatusId", "$.items[].packageItemStatusName"]


def test_shipping_and_delivering_send_order_package_status_changed(hebiar, api, receiver, worker):  # noqa: F811
    hebiar_subscriber(api, receiver, ["package.*"])
    path = "/v1/orders/4000000001/packages/BB_pid1692966394724/status"
    assert api.post(path, json={"status": "Shipped", "cargo_tracking_number": "CargoKey"}).status_code == 200
    assert api.post(path, json={"status": "Delivered"}).status_code == 200
    drain(worker, lambda: settled(api))
    shipped, delivered = received(receiver)
    assert_same_shape(shipped, {**ex.PACKAGE_CHANGED, **ex.CARGO_KNOWN}, equal=[*SHIPPED_EQUAL, "$.cargoKey"])
    assert [i["orderItemLineId"] for i in shipped["items"]] == [f"item1691416223190-{n}" for n in (1, 2, 3)]
    assert (delivered["hookName"], delivered["packageStatusName"], delivered["items"][0]["packageItemStatusName"]) == (
        "OrderPackageStatusChangedEvent", "Delivered", "Delivered")


def test_a_split_announces_its_new_packages_and_its_cancelled_units(hebiar, api, receiver, worker):  # noqa: F811
    hebiar_subscriber(api, receiver, ["package.split", "lines.cancelled"])
    split = api.post("/v1/orders/4000000001/packages/BB_pid1692966394724/split", json={
        "packages": [{"items": [{"line_id": "item1691416223190", "quantity": 1}]}],
        "cancelled": [{"line_id": "item1691416223190", "quantity": 1, "reason_id": 135}]})
    assert split.status_code == 200, split.text
    drain(worker, lambda: settled(api))
    hooks = received(receiver)
    assert [(h["hookName"], h["packageStatusName"], len(h["items"])) for h in hooks] == [
        ("OrderPackageStatusChangedEvent", "Picked", 1), ("OrderPackageStatusChangedEvent", "Picked", 1),
        ("OrderPackageStatusChangedEvent", "Cancelled", 1)]
    assert len({h["packageId"] for h in hooks} | {"BB_pid1692966394724"}) == 4  # three new packages
    every = [i["orderItemLineId"] for h in hooks for i in h["items"]]
    assert sorted(every) == [f"item1691416223190-{n}" for n in (1, 2, 3)]


def test_a_cancel_through_the_face_is_not_echoed_but_a_native_one_is_sent(hebiar, api, receiver, worker):  # noqa: F811
    hebiar_subscriber(api, receiver, ["lines.cancelled"])
    assert hebiar.post("/Orders/CancelOrderItemLineList", json=ex.CANCEL_LIST_BODY).status_code == 200
    native = api.post("/v1/orders/4000000001/cancellations", json={"lines": [
        {"line_id": "item1691416223190", "quantity": 2, "reason_id": 135}]})
    assert native.status_code == 200, native.text
    drain(worker, lambda: settled(api))
    [changed] = received(receiver)
    assert_same_shape(changed, {**ex.PACKAGE_CHANGED, **ex.CARGO_KNOWN, "cargoKey": None}, equal=["$.hookName"])
    assert (changed["packageStatusId"], changed["packageStatusName"]) == (1302, "Cancelled")
    assert [i["orderItemLineId"] for i in changed["items"]] == ["item1691416223190-2", "item1691416223190-3"]
    statuses = {d["sequence"]: d["status"] for d in deliveries(api)}
    assert sorted(statuses.values()) == ["delivered", "skipped"]  # the face's own cancel: queued, then skipped


def test_returns_send_the_three_return_hooks(hebiar, api, receiver, worker):  # noqa: F811
    hebiar_subscriber(api, receiver, ["return.*"])
    path = "/v1/orders/4000000001/packages/BB_pid1692966394724/status"
    for status in ("Shipped", "Delivered"):
        assert api.post(path, json={"status": status}).status_code == 200
    asked = [api.post("/v1/orders/4000000001/returns", json={"lines": [
        {"line_id": "item1691416223190", "quantity": 1, "reason_id": 151}]}) for _ in (1, 2)]  # units 1, then 2
    assert [a.status_code for a in asked] == [201, 201], asked[0].text
    approve, reject = (a.json()["id"] for a in asked)
    assert api.post(f"/v1/returns/{approve}/approve").status_code == 200
    assert api.post(f"/v1/returns/{reject}/reject", json={
        "reason_id": 167, "note": "Kutunun içinden belirtilen ürün çıkmadı"}).status_code == 200
    drain(worker, lambda: settled(api))
    hooks = received(receiver)
    assert [h["hookName"] for h in hooks] == ["ReturnOrderPackageStatusChangedEvent"] * 2 + [
        "ReturnOrderPackageConfirmedEvent", "ReturnOrderPackageRejectedEvent"]
    assert_same_shape(hooks[0], {**ex.RETURN_CHANGED, **ex.CARGO_KNOWN, "cargoKey": None},
                      equal=["$.hookName", "$.packageType"])
    assert_same_shape(hooks[2], ex.RETURN_CONFIRMED, equal=SHIPPED_EQUAL)
    assert_same_shape(hooks[3], ex.RETURN_REJECTED, equal=[
        *SHIPPED_EQUAL, "$.packageStatusReasonId", "$.packageStatusReasonName", "$.packageStatusReasonDesc",
        "$.items[].packageItemStatusReasonId", "$.items[].packageItemStatusReasonName"])
    assert (hooks[2]["packageId"], hooks[2]["items"][0]["orderItemLineId"]) == (approve, "item1691416223190-1")


# --- the documentation's "Hub Arayüz": the seller's cancel-requests page, and its decision by webhook -----------


def test_a_cancel_request_lands_on_the_sellers_hub_page_and_the_decision_reaches_the_operator(
        hebiar, api, db, server, receiver, worker):  # noqa: F811
    hebiar_subscriber(api, receiver, ["cancel_request.*"])
    assert hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=ex.CANCEL_REQUEST_BODY).status_code == 200
    [request] = api.get("/v1/cancel-requests").json()["data"]
    with httpx.Client(base_url=str(api.base_url), follow_redirects=True) as browser:
        login_page = browser.get("/hub/login")
        signed_in = browser.post("/hub/login", data={"csrf": csrf_token(login_page.text),
                                                     "token": token(db, "seller", "acme")})
        assert signed_in.status_code == 200 and signed_in.url.path == "/hub/cancel-requests"
        assert "4000000001" in signed_in.text and request["id"] in signed_in.text  # on the seller's queue
        page = browser.get(f"/hub/cancel-requests/{request['id']}")
        approved = browser.post(f"/hub/cancel-requests/{request['id']}/approve",
                                data={"csrf": csrf_token(page.text), "qty:item1691416223190": "1"})
        assert approved.status_code == 200 and "done=approved" in str(approved.url)
    drain(worker, lambda: settled(api))
    [confirmed] = received(receiver)
    assert_same_shape(confirmed, ex.CONFIRMED, equal=["$.hookName", "$.items[].packageItemStatusName"])
    assert confirmed["items"][0]["orderItemLineId"] == "item1691416223190-1"
    assert confirmed["packageStatusName"] == "Picked"  # units 2 and 3 are still in the package


# --- errors --------------------------------------------------------------------------------------------

ERROR_ENVELOPE = {"isSuccess": False, "statusCode": 404, "errorMessage": "x", "errorMesssage": "x",
                  "errorSource": "kalem", "correlationId": "x", "errors": [{"code": "x", "message": "x"}], "data": None}


@pytest.mark.parametrize("method, path, body, status", [
    ("POST", "/Orders/CreateOrderItemLineCancelRequest", [{**ex.CANCEL_REQUEST_BODY[0], "quantity": 4}], 409),
    ("POST", "/Orders/CancelOrderItemLineList", [{**ex.CANCEL_LIST_BODY[0], "sourceOrderItemLineId": "x-1"}], 404),
    ("POST", "/Orders/CancelOrderItemLineList", [{**ex.CANCEL_LIST_BODY[0], "reasonId": 1}], 422),
    ("GET", "/orders/GetOrderPackages?StartDate=yesterday", None, 422),
    ("GET", "/Lookup/OrderStatusReasonByTenant/GetStatusReasonByType?statusType=Nope", None, 422),
    ("POST", "/Auth/login", {"UserName": "a101", "Password": "wrong"}, 401),
])
def test_bad_input_gets_the_oms_envelope_and_changes_nothing(hebiar, db, method, path, body, status):
    before = snapshot(db)
    response = hebiar.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert_same_shape(response.json(), {**ERROR_ENVELOPE, "statusCode": status},
                      equal=["$.isSuccess", "$.statusCode", "$.errorSource"])
    HebiarError.model_validate(response.json())
    assert snapshot(db) == before


# --- what the face does not offer ------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", "/orders/GetReturnOrderPackages"), ("POST", "/orders/saveorders"), ("POST", "/orders/createpackage"),
    ("POST", "/OrderPackage/SetOrderPackageStatusInfoList"), ("PUT", "/OrderPackage/SetOrderPackageCargoInfoList"),
    ("PUT", "/OrderPackage/SetOrderPackageInvoiceInfoList"), ("PUT", "/Orders/SetOrderClientStatus"),
    ("PUT", "/OrderPackage/SetPackageClientStatus"), ("POST", "/Orders/SetErpInfoList"),
    ("POST", "/OrderPackage/shipment-packages/1/split"), ("POST", "/Return/CreateReturnRequest"),
])
def test_endpoints_the_face_does_not_offer_are_404_and_change_nothing(hebiar, db, method, path):
    before = snapshot(db)
    assert hebiar.request(method, path, json=[]).status_code == 404
    assert snapshot(db) == before
