"""The n11 face: orderLineIds over kalem's units (also under concurrent splits), refusals changing
nothing, credentials, UpdateOrder and the GetShipmentPackages filters. The seed's examples are golden tests
(tests/golden/test_n11.py); their bodies live here, verbatim."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from kalem.platforms.n11 import key_pairs
from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot

SPLIT = "/rest/delivery/v1/splitPackageByQuantity"
PACKAGES = "/rest/delivery/v1/shipmentPackages"

# The four request examples of n11's SplitPackageByQuantity page, verbatim (the last one has its trailing
# comma).
SEED_1 = """{
"splitPackages": [
{
"packageDetails": [
{
"orderLineId": 448627086,
"quantities": 1
}
]
}
]
}"""
SEED_2 = """{
"splitPackages": [
{
"packageDetails": [
{
"orderLineId": 448627086,
"quantities": 3
},
{
"orderLineId": 448627087,
"quantities": 2
}
]
}
]
}"""
SEED_3 = """{
"splitPackages": [
{
"packageDetails": [
{
"orderLineId": 448627086,
"quantities": 2
}
]
},
{
"packageDetails": [
{
"orderLineId": 448627086,
"quantities": 1
}
]
}
]
}"""
SEED_4 = """{
"cancelledItems": [
{
"cancelReasonId": 61,
"orderLineId": 389132250,
"quantity": 1
}
],
"splitPackages": [
{
"packageDetails": [
{
"orderLineId": 389132250,
"quantities": 2
}
]
},
{
"packageDetails": [
{
"orderLineId": 389132250,
"quantities": 1
}
]
},
]
}"""
SEED_4_FIXED = SEED_4.replace("},\n]\n}", "}\n]\n}")


def n11_order(number: str, package: str, lines: dict[str, int], status: str = "Picking") -> dict:
    """An order sold on n11 (its face sees no other channel's)."""
    return {"order_number": number, "seller_id": "acme", "currency": "TRY", "channel": "n11",
            "lines": [{"line_id": ln, "sku": f"SKU-{ln}", "name": ln, "quantity": q, "unit_price": "100.00",
                       "discount": "10.00", "tax_rate": "20"} for ln, q in lines.items()],
            "packages": [{"package_id": package, "status": status, "cargo_tracking_number": f"CT-{package}",
                          "items": [{"line_id": ln, "quantity": q} for ln, q in lines.items()]}]}


class N11:
    def __init__(self, client: httpx.Client, api: httpx.Client) -> None:
        self.client, self.api = client, api

    def packages(self, **params) -> list[dict]:
        response = self.client.get(PACKAGES, params={"size": 100, **params})
        assert response.status_code == 200, response.text
        return response.json()["content"]

    def line_id(self, package_id: str, line_id: str) -> int:
        for package in self.packages(packageIds=package_id):
            for line in package["lines"]:
                if line["stockCode"] == f"SKU-{line_id}":
                    return line["orderLineId"]
        raise AssertionError(f"{package_id}/{line_id} not shown")

    def held(self, order_number: str) -> dict[str, tuple[str, dict[str, int]]]:
        """package id → (status, {kalem line id: units}) from the native API."""
        order = self.api.get(f"/v1/orders/{order_number}").json()
        return {p["package_id"]: (p["status"], {i["line_id"]: i["quantity"] for i in p["items"]})
                for p in order["packages"]}


@pytest.fixture
def n11(api, db):
    for body in (n11_order("N11-1", "PKG-1", {"L86": 4, "L87": 3}), n11_order("N11-2", "PKG-2", {"L50": 4}),
                 n11_order("N11-3", "PKG-3", {"L30": 2}, status="Created")):
        assert api.post("/v1/orders", json=body).status_code == 201
    appkey, appsecret = key_pairs.create_key_pair(UnitOfWork(db), seller_id="acme")
    with httpx.Client(base_url=api.base_url, headers={"appkey": appkey, "appsecret": appsecret},
                      timeout=30) as client:
        yield N11(client, api)


def seed(n11: N11, body: str) -> str:
    ids = {"448627086": ("PKG-1", "L86"), "448627087": ("PKG-1", "L87"), "389132250": ("PKG-2", "L50")}
    for seed_id, part in ids.items():
        if seed_id in body:
            body = body.replace(seed_id, str(n11.line_id(*part)))
    return body


def post(n11: N11, body: str, path: str = SPLIT) -> httpx.Response:
    return n11.client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})


def _norm(pairs) -> list:
    return sorted((status, sorted(items.items())) for status, items in pairs)


def children(held: dict, parent: str) -> list:
    """The other packages of the order, as a sorted list, to compare with `kids(...)`."""
    return _norm(v for pid, v in held.items() if pid != parent)


def kids(*pairs: tuple[str, dict[str, int]]) -> list:
    return _norm(pairs)


def test_an_id_whose_units_went_elsewhere_is_retired(n11, db, api):
    """A split made natively, then a cancel of the unit the id followed, before n11 showed the new
    packages: no new package carries the id, so naming it is refused and changes nothing."""
    old = n11.line_id("PKG-2", "L50")
    split = api.post("/v1/orders/N11-2/packages/PKG-2/split",
                     json={"packages": [{"items": [{"line_id": "L50", "quantity": 2}]}]})
    assert split.status_code == 200, split.text
    cancel = api.post("/v1/orders/N11-2/cancellations",
                      json={"lines": [{"line_id": "L50", "quantity": 1, "reason_id": 135}]})
    assert cancel.status_code == 200, cancel.text
    assert old not in {ln["orderLineId"] for p in n11.packages(status="Picking") for ln in p["lines"]}
    before = snapshot(db)
    retired = post(n11, json.dumps({"splitPackages": [{"packageDetails": [{"orderLineId": old, "quantities": 1}]}]}))
    assert retired.status_code == 400 and retired.json()["errorCode"] == "SELLER_API.orderLineRetired", retired.text
    assert "shipmentPackages" in retired.json()["errorMessage"] and snapshot(db) == before


def _refused(n11, db, body: str | dict, code: str, path: str = SPLIT, client: httpx.Client | None = None) -> None:
    before = snapshot(db)
    content = body if isinstance(body, str) else json.dumps(body)
    response = (client or n11.client).post(path, content=content.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    got = response.json()
    assert got["code"] == 400 and got["status"] == "failure" and got["errorCategory"] == "SELLER_API"
    assert got["errorCode"] == f"SELLER_API.{code}", got
    assert got["errorMessage"]
    assert snapshot(db) == before


def test_a_split_reads_its_orders_serial_and_stored_ids_once(n11, db):
    """The split names the order's parts before its change and again for its answer: the order's serial
    and its stored orderLineIds (neither ever changes) are read at most once in its transaction."""
    l86 = n11.line_id("PKG-1", "L86")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        done = post(n11, json.dumps(one(l86, 1, cancelledItems=[{"cancelReasonId": 61, "orderLineId": l86,
                                                                 "quantity": 1}])))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert done.status_code == 200, done.text
    assert len(done.json()["splitPackageOrderItems"]) == 3   # L86 split in two (one cancelled), L87 left
    serial_reads = [s for s in statements if "FROM order_serials WHERE order_id IN" in s]
    stored_reads = [s for s in statements if "FROM n11_line_ids WHERE order_id IN" in s]
    # the id names the serial, whose look-up found the order: its serial is known from then on
    assert serial_reads == [] and len(stored_reads) == 1, statements


def one(order_line_id: int, qty: int, **extra) -> dict:
    return {"splitPackages": [{"packageDetails": [{"orderLineId": order_line_id, "quantities": qty}]}], **extra}


def test_refusals_change_nothing(n11, db, api):
    l86, l87, l50, l30 = (n11.line_id("PKG-1", "L86"), n11.line_id("PKG-1", "L87"), n11.line_id("PKG-2", "L50"),
                          n11.line_id("PKG-3", "L30"))
    _refused(n11, db, one(l30, 1), "packageNotSplittable")  # Created
    _refused(n11, db, one(l86, 5), "splitExceedsPackage")
    _refused(n11, db, {"splitPackages": [{"packageDetails": [{"orderLineId": l86, "quantities": 3}]},
                                         {"packageDetails": [{"orderLineId": l86, "quantities": 2}]}]},
             "splitExceedsPackage")
    _refused(n11, db, {"splitPackages": [{"packageDetails": [{"orderLineId": l86, "quantities": 1},
                                                             {"orderLineId": l50, "quantities": 1}]}]},
             "linesOfSeveralOrders")
    _refused(n11, db, {"cancelledItems": [{"cancelReasonId": 61, "orderLineId": l86, "quantity": 1}]},
             "cancelRequiresSplit")
    _refused(n11, db, {"cancelledItems": [{"cancelReasonId": 61, "orderLineId": l86, "quantity": 1}],
                       "splitPackages": []}, "cancelRequiresSplit")
    _refused(n11, db, one(999_999_999, 1), "orderLineNotFound")
    for reason in (60, 66, 135):
        _refused(n11, db, one(l86, 1, cancelledItems=[{"cancelReasonId": reason, "orderLineId": l86, "quantity": 1}]),
                 "unknownReason")
    _refused(n11, db, one(l86, 0), "quantityNotPositive")
    _refused(n11, db, {"splitPackages": [{"packageDetails": [{"orderLineId": l86, "quantities": 4},
                                                             {"orderLineId": l87, "quantities": 3}]}]},
             "nothingToSplit")
    _refused(n11, db, one(l86, 1, cancelledItems=[{"cancelReasonId": 61, "orderLineId": l86, "quantity": 4}]),
             "splitExceedsPackage")
    _refused(n11, db, {"splitPackages": [{"packageDetails": [{"orderLineId": "x", "quantities": 1}]}]},
             "invalidRequest")
    _refused(n11, db, {"splitPackages": [{"packageDetails": [{"orderLineId": 2**70, "quantities": 1}]}]},
             "invalidRequest")
    _refused(n11, db, {"splitPackages": [{"packageDetails": []}]}, "invalidRequest")
    _refused(n11, db, {"splitGroups": [{"orderLineIds": [l30]}]}, "packageNotSplittable",
             path="/rest/delivery/v1/splitCombinePackage")
    # a Shipped package
    assert api.post("/v1/orders/N11-2/packages/PKG-2/status", json={"status": "Shipped"}).status_code == 200
    _refused(n11, db, one(l50, 1), "packageNotSplittable")


def test_credentials(n11, db):
    l86 = n11.line_id("PKG-1", "L86")
    appkey = n11.client.headers["appkey"]
    for headers in ({}, {"appkey": appkey}, {"appkey": appkey, "appsecret": "wrong"},
                    {"appkey": "n11k_nope", "appsecret": n11.client.headers["appsecret"]}):
        with httpx.Client(base_url=n11.client.base_url, headers=headers, timeout=30) as client:
            _refused(n11, db, one(l86, 1), "authenticationFailed", client=client)
            response = client.get(PACKAGES)
            assert response.status_code == 400 and response.json()["errorCode"] == "SELLER_API.authenticationFailed"
    # n11's documents also spell the headers appKey/appSecret
    with httpx.Client(base_url=n11.client.base_url, timeout=30,
                      headers={"appKey": appkey, "appSecret": n11.client.headers["appsecret"]}) as client:
        assert client.get(PACKAGES).status_code == 200


def test_another_sellers_package_looks_unknown(n11, db):
    l86 = n11.line_id("PKG-1", "L86")
    key, secret = key_pairs.create_key_pair(UnitOfWork(db), seller_id="other")
    with httpx.Client(base_url=n11.client.base_url, headers={"appkey": key, "appsecret": secret}, timeout=30) as other:
        _refused(n11, db, one(l86, 1), "orderLineNotFound", client=other)
        assert other.get(PACKAGES).json()["content"] == []
        assert other.put("/rest/order/v1/update", json={"lines": [{"lineId": l86}], "status": "Picking"}).json() == {
            "content": [{"lineId": l86, "status": None, "reasons": [f"orderLineId {l86} not found"]}]}


def test_update_order_approves_created_lines(n11, db):
    l30, l86 = n11.line_id("PKG-3", "L30"), n11.line_id("PKG-1", "L86")
    response = n11.client.put("/rest/order/v1/update",
                              json={"lines": [{"lineId": l30}, {"lineId": l86}, {"lineId": 123}], "status": "Picking"})
    assert response.status_code == 200, response.text
    assert response.json()["content"] == [{"lineId": l30, "status": "Picking", "reasons": []},
                                          {"lineId": l86, "status": "Picking", "reasons": []},
                                          {"lineId": 123, "status": None, "reasons": ["orderLineId 123 not found"]}]
    assert n11.held("N11-3")["PKG-3"][0] == "Picking"
    assert post(n11, json.dumps(one(l30, 1))).status_code == 200  # now it splits
    before = snapshot(db)
    bad = n11.client.put("/rest/order/v1/update", json={"lines": [{"lineId": l30}], "status": "Shipped"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "SELLER_API.invalidInput"
    assert snapshot(db) == before


PACKAGE_FIELDS = {"id", "orderNumber", "sellerId", "customerId", "customerfullName", "customerEmail",
                  "tcIdentityNumber", "taxId", "taxOffice", "billingAddress", "shippingAddress", "cargoSenderNumber",
                  "cargoTrackingNumber", "cargoTrackingLink", "shipmentCompanyId", "cargoProviderName",
                  "shipmentMethod", "installmentChargeWithVATprice", "lastModifiedDate", "agreedDeliveryDate",
                  "totalAmount", "totalDiscountAmount", "packageHistories", "shipmentPackageStatus",
                  "deliveryAddressType", "countryCode", "productOrigin", "micro", "hsCode", "invoiceLink",
                  "invoiceDate", "etgbNo", "etgbDate", "lines"}
LINE_FIELDS = {"orderLineId", "productId", "productName", "stockCode", "barcode", "quantity", "variantAttributes",
               "customTextOptionValues", "price", "dueAmount", "installmentChargeWithVAT", "sellerCouponDiscount",
               "sellerDiscount", "mallDiscount", "sellerInvoiceAmount", "totalMallDiscountPrice",
               "totalSellerDiscountPrice", "orderItemLineItemStatusName", "vatRate", "commissionRate",
               "taxDeductionRate", "totalLaborCostExcludingVAT", "netMarketingFeeRate", "netMarketplaceFeeRate"}


def test_shipment_packages_fields_filters_paging_and_window(n11, db):
    shown = n11.packages(orderNumber="N11-1")
    assert len(shown) == 1 and set(shown[0]) == PACKAGE_FIELDS
    line = next(ln for ln in shown[0]["lines"] if ln["stockCode"] == "SKU-L86")
    assert set(line) == LINE_FIELDS
    # price 100 × 4 units, line discount 10: invoice = price × quantity − sellerDiscount
    assert (line["price"], line["quantity"], line["sellerDiscount"], line["sellerInvoiceAmount"]) == (100, 4, 10, 390)
    assert shown[0]["totalAmount"] == 700 and shown[0]["totalDiscountAmount"] == 20
    assert {p["id"] for p in n11.packages()} == {"PKG-1", "PKG-2", "PKG-3"}
    assert [p["id"] for p in n11.packages(status="created")] == ["PKG-3"]
    assert {p["id"] for p in n11.packages(packageIds="PKG-1,PKG-2")} == {"PKG-1", "PKG-2"}
    assert n11.packages(sender="N11") == []
    page = n11.client.get(PACKAGES, params={"size": 1000, "page": 0}).json()
    assert page["size"] == 100 and page["pageCount"] == 3 and page["totalPages"] == 1
    first, second = (n11.client.get(PACKAGES, params={"size": 2, "page": p}).json() for p in (0, 1))
    assert (first["pageCount"], second["pageCount"], first["totalPages"]) == (2, 1, 2)
    assert second["page"] == 1 and n11.client.get(PACKAGES, params={"size": 2, "page": 5}).json()["content"] == []
    modified = max(p["lastModifiedDate"] for p in n11.packages())
    oldest = min(p["lastModifiedDate"] for p in n11.packages())
    day = 86_400_000
    assert n11.packages(startDate=modified + 1) == []
    assert len(n11.packages(startDate=modified - day)) == 3
    assert n11.packages(startDate=modified - 20 * day) == []  # start only: 15 days forward
    assert n11.packages(endDate=oldest - 1) == []
    assert len(n11.packages(endDate=modified + 29 * day)) == 3  # end only: a month back
    assert n11.packages(endDate=oldest + 31 * day) == []
    assert n11.packages(startDate=oldest - 90 * day, endDate=oldest + 31 * day) == []  # too wide: last month
    ids_before = snapshot(db)
    for params, code in (({"startDate": modified, "endDate": modified - 1}, "invalidInput"),
                         ({"status": "Lost"}, "invalidInput"), ({"size": 0}, "invalidRequest"),
                         ({"page": -1}, "invalidRequest"), ({"sender": "ME"}, "invalidRequest"),
                         ({"startDate": "yesterday"}, "invalidRequest")):
        response = n11.client.get(PACKAGES, params=params)
        assert response.status_code == 400 and response.json()["errorCode"] == f"SELLER_API.{code}", response.text
    assert snapshot(db) == ids_before


def test_ids_are_stable_across_reads(n11):
    first = {(p["id"], ln["stockCode"]): ln["orderLineId"] for p in n11.packages() for ln in p["lines"]}
    second = {(p["id"], ln["stockCode"]): ln["orderLineId"] for p in n11.packages() for ln in p["lines"]}
    assert first == second and len(set(first.values())) == len(first)


def test_shipment_packages_are_ordered_by_last_change_only(n11, db):
    for params in ({}, {"orderByField": "lastModifiedDate"}, {"orderByField": "LASTMODIFIEDDATE"}):
        for direction, reverse in (("ASC", False), ("DESC", True)):
            shown = [p["lastModifiedDate"] for p in n11.packages(orderByDirection=direction, **params)]
            assert len(shown) == 3 and shown == sorted(shown, reverse=reverse)
    before = snapshot(db)
    response = n11.client.get(PACKAGES, params={"orderByField": "orderDate"})
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "SELLER_API.unsupportedOrderByField"
    assert "lastModifiedDate" in response.json()["errorMessage"]
    assert snapshot(db) == before


def test_unknown_rest_path_answers_in_the_n11_envelope(n11):
    response = n11.client.get("/rest/delivery/v1/nothingHere")
    assert response.status_code == 404 and response.json()["errorCode"] == "SELLER_API.routeNotFound"


def test_two_clients_splitting_with_the_same_id_at_once(n11):
    """Under the order's lock the second sees the first's split: its id now names the one-unit
    package, which does not split again. One success, one refusal, every unit in one live package."""
    old = n11.line_id("PKG-2", "L50")
    body = json.dumps(one(old, 1))
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: post(n11, body), range(2)))
    assert sorted(r.status_code for r in answers) == [200, 400], [r.text for r in answers]
    refused = next(r for r in answers if r.status_code == 400)
    assert refused.json()["errorCode"] == "SELLER_API.nothingToSplit", refused.text
    held = n11.held("N11-2")
    assert children(held, "PKG-2") == kids(("Picking", {"L50": 1}), ("Picking", {"L50": 3}))


def test_a_window_of_more_than_a_thousand_orders_is_listed_whole_reading_only_each_pages_orders(n11, db):
    """Every package of a window is listed across the pages, however many orders the seller has; a page
    reads the orders of its own packages by id, never a listing of the seller's orders."""
    from kalem.app.ingest import place_orders
    from kalem.app.orders import PlaceOrder
    from kalem.app.principals import Principal
    from kalem.domain.orders import LineSpec, OrderSpec, PackageItem, PackageSpec, PackageStatus

    def spec(i: int) -> OrderSpec:
        return OrderSpec(seller_id="acme", order_number=f"BULK-{i:04d}", currency="TRY", channel="n11",
                         lines=(LineSpec(f"BL-{i}", "SKU-BULK", "bulk", 2, Decimal("10.00")),),
                         packages=(PackageSpec(f"BPKG-{i:04d}", PackageStatus.PICKING, (PackageItem(f"BL-{i}", 2),)),))

    operator = Principal("operator", "test")
    intakes = place_orders(UnitOfWork(db), [PlaceOrder(spec(i), operator) for i in range(1200)])
    assert all(intake.created for intake in intakes)
    wanted = {f"BPKG-{i:04d}" for i in range(1200)} | {"PKG-1", "PKG-2", "PKG-3"}

    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        pages = [n11.client.get(PACKAGES, params={"size": 100, "page": p, "orderByDirection": "ASC"}).json()
                 for p in range(13)]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    shown = [p["id"] for page in pages for p in page["content"]]
    assert len(shown) == len(wanted) and set(shown) == wanted
    assert {page["totalPages"] for page in pages} == {13}
    assert [page["pageCount"] for page in pages] == [100] * 12 + [3]
    changes = [p["lastModifiedDate"] for page in pages for p in page["content"]]
    assert changes == sorted(changes)
    order_reads = [s for s in statements if re.search(r"\bFROM orders\b", s)]
    assert order_reads and all(re.search(r"\bWHERE id IN\b", s) for s in order_reads), order_reads[:3]
    filtered = n11.packages(status="Picking", packageIds="BPKG-0007,BPKG-1199,PKG-3")
    assert {p["id"] for p in filtered} == {"BPKG-0007", "BPKG-1199"}


def test_end_date_takes_in_every_change_within_its_millisecond(n11, db):
    """`endDate` and `lastModifiedDate` name milliseconds, and kalem keeps a change to the microsecond: a
    package shown as changed at L is in every window that ends at L (a client paging by
    `lastModifiedDate` up to the time it started would otherwise never see it), and in none that ends
    before L."""
    with db.engine.connect() as conn:
        changed = conn.execute(sa.text("SELECT package_id, modified_us FROM n11_packages")).all()
    within = [(package, us) for package, us in changed if us % 1000]   # after their millisecond began
    assert within, changed
    for package, us in within:
        shown = us // 1000
        assert package in {p["id"] for p in n11.packages(endDate=shown)}
        assert package in {p["id"] for p in n11.packages(startDate=shown, endDate=shown)}
        assert package not in {p["id"] for p in n11.packages(startDate=shown - 1000, endDate=shown - 1)}
