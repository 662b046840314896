"""Golden tests of the n11 face: every request example of n11's SplitPackageByQuantity page sent as
printed (ids re-pointed at this test's orders), its answer compared with the page's, and the
GetShipmentPackages read it leaves compared with n11's GetShipmentPackages documentation field by
field and type by type."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from tests.conftest import snapshot
from tests.dialects.test_n11 import (  # noqa: F401 - n11 is the fixture
    N11,
    PACKAGES,
    SEED_1,
    SEED_2,
    SEED_3,
    SEED_4,
    SEED_4_FIXED,
    children,
    kids,
    n11,
    post,
    seed,
)
from tests.golden.shape import assert_same_shape
from tests.support import manual_refunds

#: The seed's answer to every example.
SEED_RESPONSE = {"code": 200, "message": "success"}
#: Since n11's changelog of 2026-05-25 the answer also lists the packages made (n11's SplitPackageByQuantity
#: documentation, the field names of a third-party client; the types as n11 shows them elsewhere).
SPLIT_RESPONSE = {**SEED_RESPONSE, "splitPackageOrderItems": [
    {"orderNumber": "205318737", "packageId": "112964324974270", "orderLineId": 448627086, "stockCode": "SKU-1",
     "quantity": 1}]}

_ADDRESS = {"address": "Cumhuriyet Mah. 1", "city": "İstanbul", "district": "Şişli", "neighborhood": "Merkez",
            "fullName": "Ayşe Yılmaz", "gsm": "5551112233", "tcId": "11111111111", "postalCode": "34000",
            "taxId": "1234567890", "taxHouse": "Şişli", "invoiceType": "1"}
#: One package of GetShipmentPackages (n11's GetShipmentPackages documentation: the field list of a production sample,
#: ids as strings, dates as epoch milliseconds, money as numbers).
PACKAGE = {
    "id": "112964324974270", "orderNumber": "205318737", "sellerId": 1234567, "customerId": 987654,
    "customerfullName": "Ayşe Yılmaz", "customerEmail": "a@example.com", "tcIdentityNumber": "11111111111",
    "taxId": "1234567890", "taxOffice": "Şişli", "billingAddress": _ADDRESS, "shippingAddress": _ADDRESS,
    "cargoSenderNumber": "7250000000000", "cargoTrackingNumber": "725123456789",
    "cargoTrackingLink": "https://kargotakip.example/725123456789", "shipmentCompanyId": 344,
    "cargoProviderName": "Yurtiçi Kargo", "shipmentMethod": 1, "installmentChargeWithVATprice": 195.0,
    "lastModifiedDate": 1733040000000, "agreedDeliveryDate": 1733299200000, "totalAmount": 200.0,
    "totalDiscountAmount": 5.0, "packageHistories": [{"createdDate": 1733040000000, "status": "Picking"}],
    "shipmentPackageStatus": "Picking", "deliveryAddressType": "KTN", "countryCode": "TR",
    "productOrigin": "TR", "micro": False, "hsCode": "610910", "invoiceLink": "https://invoice.example/1.pdf",
    "invoiceDate": 1733040000000, "etgbNo": "24341100EX000001", "etgbDate": 1733040000000,
    "lines": [{
        "orderLineId": 448627086, "productId": 55443322, "productName": "Tişört", "stockCode": "SKU-1",
        "barcode": "8690000000001", "quantity": 2, "variantAttributes": [{"name": "Beden", "value": "M"}],
        "customTextOptionValues": [], "price": 100.0, "dueAmount": 195.0, "installmentChargeWithVAT": 195.0,
        "sellerCouponDiscount": 0.0, "sellerDiscount": 5.0, "mallDiscount": 0.0, "sellerInvoiceAmount": 195.0,
        "totalMallDiscountPrice": 0.0, "totalSellerDiscountPrice": 5.0, "orderItemLineItemStatusName": "Picking",
        "vatRate": 20.0, "commissionRate": 12.5, "taxDeductionRate": 0.0, "totalLaborCostExcludingVAT": 0.0,
        "netMarketingFeeRate": 1.0, "netMarketplaceFeeRate": 0.5,
    }],
}
PAGE = {"pageCount": 1, "totalPages": 1, "page": 0, "size": 20, "content": [PACKAGE]}

#: Documented fields kalem holds no data for: present, and null (docs/fidelity.md lists them).
NO_DATA = ("customerId", "customerfullName", "customerEmail", "tcIdentityNumber", "taxId", "taxOffice",
           "cargoSenderNumber", "cargoTrackingLink", "shipmentCompanyId", "cargoProviderName", "shipmentMethod",
           "agreedDeliveryDate", "deliveryAddressType", "countryCode", "productOrigin", "micro", "hsCode",
           "invoiceLink", "invoiceDate", "etgbNo", "etgbDate")
NO_LINE_DATA = ("productId", "barcode", "commissionRate", "taxDeductionRate", "totalLaborCostExcludingVAT",
                "netMarketingFeeRate", "netMarketplaceFeeRate")


def as_kalem_shows(status: str) -> dict[str, Any]:
    """The documented package as kalem fills it: the fields it has no data for null, sellerId its
    seller id (a string), no variant attributes; every other field and type as documented."""
    package = copy.deepcopy(PACKAGE)
    package.update(dict.fromkeys(NO_DATA), sellerId="acme", shipmentPackageStatus=status)
    package["billingAddress"] = package["shippingAddress"] = dict.fromkeys(_ADDRESS)
    line = package["lines"][0]
    line.update(dict.fromkeys(NO_LINE_DATA), variantAttributes=[], orderItemLineItemStatusName=status)
    return package


def assert_split_answer(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert {key: body[key] for key in SEED_RESPONSE} == SEED_RESPONSE  # the seed's answer, exactly
    assert_same_shape(body, SPLIT_RESPONSE, equal=["$.code", "$.message"])
    return body["splitPackageOrderItems"]


def assert_read_as_documented(n11: N11, order_number: str) -> dict[str, dict[str, Any]]:
    """GetShipmentPackages of the order, every package compared with §2.6; the packages by id."""
    response = n11.client.get(PACKAGES, params={"orderNumber": order_number, "size": 100})
    assert response.status_code == 200, response.text
    page = response.json()
    assert_same_shape({**page, "content": []}, {**PAGE, "content": []})
    for package in page["content"]:
        status = package["shipmentPackageStatus"]
        assert_same_shape(package, as_kalem_shows(status),
                          equal=["$.shipmentPackageStatus", "$.lines[].orderItemLineItemStatusName"])
        assert package["orderNumber"] == order_number
    return {p["id"]: p for p in page["content"]}


def ids_of(package: dict[str, Any]) -> dict[str, int]:
    return {line["stockCode"]: line["orderLineId"] for line in package["lines"]}


def made(items: list[dict[str, Any]], sku: str, quantity: int) -> dict[str, Any]:
    return next(i for i in items if i["stockCode"] == sku and i["quantity"] == quantity)


def test_documented_example_1_one_unit_into_its_own_package(n11):
    old = {"SKU-L86": n11.line_id("PKG-1", "L86"), "SKU-L87": n11.line_id("PKG-1", "L87")}
    items = assert_split_answer(post(n11, seed(n11, SEED_1)))
    assert sorted((i["stockCode"], i["quantity"]) for i in items) == [("SKU-L86", 1), ("SKU-L86", 3), ("SKU-L87", 3)]
    held = n11.held("N11-1")
    assert held["PKG-1"] == ("Unpacked", {"L86": 4, "L87": 3})
    assert children(held, "PKG-1") == kids(("Picking", {"L86": 1}), ("Picking", {"L86": 3, "L87": 3}))
    # The existing orderLineIds stay (on the new parts holding each line's first unit); only the
    # other new part gets a new id.
    assert made(items, "SKU-L86", 1)["orderLineId"] == old["SKU-L86"]
    assert made(items, "SKU-L87", 3)["orderLineId"] == old["SKU-L87"]
    assert made(items, "SKU-L86", 3)["orderLineId"] not in old.values()
    shown = assert_read_as_documented(n11, "N11-1")
    assert shown["PKG-1"]["shipmentPackageStatus"] == "Unpacked" and ids_of(shown["PKG-1"]) == old
    assert [h["status"] for h in shown["PKG-1"]["packageHistories"]] == ["Picking", "Unpacked"]
    tracking = {p["cargoTrackingNumber"] for p in shown.values()}
    assert len(tracking) == 3  # new packages: a new id and a new cargoTrackingNumber each
    for item in items:
        assert shown[item["packageId"]]["shipmentPackageStatus"] == "Picking"
        assert ids_of(shown[item["packageId"]])[item["stockCode"]] == item["orderLineId"]


def test_documented_example_2_two_lines_in_one_package(n11):
    old = {"SKU-L86": n11.line_id("PKG-1", "L86"), "SKU-L87": n11.line_id("PKG-1", "L87")}
    items = assert_split_answer(post(n11, seed(n11, SEED_2)))
    held = n11.held("N11-1")
    assert children(held, "PKG-1") == kids(("Picking", {"L86": 1, "L87": 1}), ("Picking", {"L86": 3, "L87": 2}))
    group = made(items, "SKU-L86", 3)["packageId"]
    assert {i["stockCode"]: i["orderLineId"] for i in items if i["packageId"] == group} == old
    assert not {i["orderLineId"] for i in items if i["packageId"] != group} & set(old.values())
    assert_read_as_documented(n11, "N11-1")


def test_documented_example_3_several_packages(n11):
    old86, old87 = n11.line_id("PKG-1", "L86"), n11.line_id("PKG-1", "L87")
    items = assert_split_answer(post(n11, seed(n11, SEED_3)))
    held = n11.held("N11-1")
    assert children(held, "PKG-1") == kids(("Picking", {"L86": 2}), ("Picking", {"L86": 1}),
                                       ("Picking", {"L86": 1, "L87": 3}))
    assert made(items, "SKU-L86", 2)["orderLineId"] == old86 and made(items, "SKU-L87", 3)["orderLineId"] == old87
    l86_ids = [i["orderLineId"] for i in items if i["stockCode"] == "SKU-L86"]
    assert len(set(l86_ids)) == 3
    assert_read_as_documented(n11, "N11-1")


@pytest.mark.parametrize("body", [SEED_4, SEED_4_FIXED], ids=["verbatim", "without-trailing-comma"])
def test_documented_example_4_cancel_and_split(n11, api, body, db):
    """The example is printed with a trailing comma (`},\\n]`); kalem answers it as the seed does."""
    manual_refunds(db)  # about something else than the refund a decision makes
    old = n11.line_id("PKG-2", "L50")
    items = assert_split_answer(post(n11, seed(n11, body)))
    assert sorted(i["quantity"] for i in items) == [1, 2]
    # The cancelled package itself becomes UnSupplied; the rest go to a new package that the split
    # turns Unpacked, and the requested packages are made from it.
    tree = {p["package_id"]: p for p in api.get("/v1/orders/N11-2/packages").json()["packages"]}
    assert tree["PKG-2"]["status"] == "UnSupplied" and [i["quantity"] for i in tree["PKG-2"]["items"]] == [1]
    [rest] = tree["PKG-2"]["children"]
    assert tree[rest]["status"] == "Unpacked" and [i["quantity"] for i in tree[rest]["items"]] == [3]
    assert sorted(tree[rest]["children"]) == sorted(i["packageId"] for i in items)
    assert all(tree[i["packageId"]]["status"] == "Picking" for i in items)
    line = api.get("/v1/orders/N11-2").json()["lines"][0]
    assert (line["ledger"]["cancelled"], line["ledger"]["open"]) == (1, 3)
    shown = assert_read_as_documented(n11, "N11-2")
    assert [h["status"] for h in shown["PKG-2"]["packageHistories"]] == ["Picking", "UnSupplied"]
    assert [h["status"] for h in shown[rest]["packageHistories"]] == ["Picking", "Unpacked"]
    assert ids_of(shown["PKG-2"]) == {"SKU-L50": old}  # the existing id stays on the cancelled part
    assert old not in {i["orderLineId"] for i in items}
    assert len({p["cargoTrackingNumber"] for p in shown.values()}) == 4
    events = api.get("/v1/orders/N11-2/events").json()["data"]
    assert [e["type"] for e in events[-2:]] == ["package.split", "lines.cancelled"]
    assert events[-1]["data"]["items"][0]["reason_id"] == 61


def test_the_existing_id_keeps_naming_its_units_and_split_packages_split_again(n11, db):
    old = n11.line_id("PKG-1", "L86")
    first = assert_split_answer(post(n11, json.dumps({"splitPackages": [{"packageDetails": [
        {"orderLineId": old, "quantities": 2}]}]})))
    assert made(first, "SKU-L86", 2)["orderLineId"] == old
    again = assert_split_answer(post(n11, json.dumps({"splitPackages": [{"packageDetails": [
        {"orderLineId": old, "quantities": 1}]}]})))  # the 2-unit package holding it, split again
    assert sorted(i["quantity"] for i in again) == [1, 1] and old in {i["orderLineId"] for i in again}
    before = snapshot(db)
    single = post(n11, json.dumps({"splitPackages": [{"packageDetails": [{"orderLineId": old, "quantities": 1}]}]}))
    # its package now holds one unit: only packages with more than one unit split again
    assert single.status_code == 400 and single.json()["errorCode"] == "SELLER_API.nothingToSplit", single.text
    assert snapshot(db) == before


@pytest.mark.parametrize("reason", [61, 62, 63, 64, 65])
def test_every_cancel_reason_of_the_catalog_is_taken(n11, api, reason, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    old = n11.line_id("PKG-2", "L50")
    body = {"cancelledItems": [{"cancelReasonId": reason, "orderLineId": old, "quantity": 1}],
            "splitPackages": [{"packageDetails": [{"orderLineId": old, "quantities": 3}]}]}
    assert_split_answer(n11.client.post("/rest/delivery/v1/splitPackageByQuantity", json=body))
    events = api.get("/v1/orders/N11-2/events").json()["data"]
    assert events[-1]["type"] == "lines.cancelled" and events[-1]["data"]["items"][0]["reason_id"] == reason


def test_split_combine_package_answers_as_documented(n11):
    l87 = n11.line_id("PKG-1", "L87")
    response = n11.client.post("/rest/delivery/v1/splitCombinePackage", json={"splitGroups": [{"orderLineIds": [l87]}]})
    assert response.status_code == 200 and response.json() == SEED_RESPONSE
    assert children(n11.held("N11-1"), "PKG-1") == kids(("Picking", {"L86": 4}), ("Picking", {"L87": 3}))
    assert_read_as_documented(n11, "N11-1")


def test_update_order_answers_per_line_as_documented(n11):
    l30 = n11.line_id("PKG-3", "L30")
    response = n11.client.put("/rest/order/v1/update", json={"lines": [{"lineId": l30}], "status": "Picking"})
    assert response.status_code == 200, response.text
    assert_same_shape(response.json(), {"content": [{"lineId": 1, "status": "Picking", "reasons": []}]},
                      equal=["$.content[].status"])
    assert n11.held("N11-3")["PKG-3"][0] == "Picking"


def test_status_filter_takes_one_status_in_either_spelling(n11):
    assert_split_answer(post(n11, seed(n11, SEED_1)))
    for spelling in ("Unpacked", "UnPacked", "unpacked"):
        assert [p["id"] for p in n11.packages(status=spelling)] == ["PKG-1"]
    assert {p["shipmentPackageStatus"] for p in n11.packages(status="Picking")} == {"Picking"}


def test_error_envelope_is_n11s(n11, db):
    """As observed on n11's production API: the envelope n11 answers a wrong secret with, field for field."""
    documented = {"code": 400, "status": "failure", "errorCode": "SELLER_API.authenticationFailed",
                  "errorMessage": "Kimlik doğrulama başarısız", "errorCategory": "SELLER_API"}
    before = snapshot(db)
    with httpx.Client(base_url=n11.client.base_url, timeout=30,
                      headers={"appkey": n11.client.headers["appkey"], "appsecret": "wrong"}) as client:
        for response in (client.get(PACKAGES), client.post("/rest/delivery/v1/splitPackageByQuantity", json={})):
            assert response.status_code == 400
            assert_same_shape(response.json(), documented, equal=["$.code", "$.status", "$.errorCode",
                                                                  "$.errorCategory"])
    assert snapshot(db) == before


def test_n11_sends_no_webhooks(api):
    """n11 documents none (polling only): a subscription in an n11 dialect is refused."""
    response = api.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"],
                                                          "dialect": "n11", "secret": "whsec_" + "x" * 32})
    assert response.status_code in (400, 422), response.text


def test_services_kalem_does_not_offer_are_not_served(n11):
    """SOAP claims and invoices (`/ws`), products (`/ms`) and categories (`/cdn`) are outside kalem."""
    for path in ("/ws/ClaimCancelService", "/ws/ReturnService", "/ws/SellerInvoiceService", "/ms/product/query",
                 "/cdn/categories"):
        assert n11.client.post(path, content=b"<soap/>").status_code == 404, path
