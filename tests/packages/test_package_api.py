"""`/v1/orders/{n}/packages`: lineage, split with cancel, status steps, idempotency, refusals, a race."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.conftest import snapshot
from tests.support import client_for, token


def order(number: str = "P-1", status: str = "Picking", seller: str = "acme") -> dict:
    return {"order_number": number, "seller_id": seller, "currency": "TRY",
            "lines": [{"line_id": f"{number}-a", "sku": "A", "name": "A", "quantity": 4, "unit_price": "10.00"},
                      {"line_id": f"{number}-b", "sku": "B", "name": "B", "quantity": 2, "unit_price": "5.00"}],
            "packages": [{"package_id": "PK", "status": status, "cargo_tracking_number": "CT-0",
                          "items": [{"line_id": f"{number}-a", "quantity": 4},
                                    {"line_id": f"{number}-b", "quantity": 2}]}]}


@pytest.fixture
def placed(api):
    assert api.post("/v1/orders", json=order()).status_code == 201
    return api


def split_body(*groups: dict, cancelled: tuple = ()) -> dict:
    return {"packages": [{"items": [{"line_id": k, "quantity": v} for k, v in g.items()]} for g in groups],
            "cancelled": [{"line_id": k, "quantity": q, "reason_id": r} for k, q, r in cancelled]}


def test_split_with_cancel_and_lineage(placed):
    response = placed.post("/v1/orders/P-1/packages/PK/split",
                           json=split_body({"P-1-a": 2}, cancelled=(("P-1-a", 1, 135),)))
    assert response.status_code == 200, response.text
    done = response.json()
    assert len(done["children"]) == 3 and done["refund"]["lines"][0]["amount"] == "10.00"
    packages = {p["package_id"]: p for p in placed.get("/v1/orders/P-1/packages").json()["packages"]}
    assert packages["PK"]["status"] == "Unpacked" and packages["PK"]["children"] == done["children"]
    assert packages["PK"]["next_actions"] == [] and packages["PK"]["live"] is False
    group, rest, unsupplied = (packages[i] for i in done["children"])
    # The cancel takes the lowest-numbered open unit (1); the group the next two; the rest the others.
    assert (group["status"], group["items"]) == ("Picking", [{"line_id": "P-1-a", "quantity": 2, "units": [[2, 3]]}])
    assert (rest["status"], rest["items"]) == ("Picking", [{"line_id": "P-1-a", "quantity": 1, "units": [[4, 4]]},
                                                           {"line_id": "P-1-b", "quantity": 2, "units": [[1, 2]]}])
    assert (unsupplied["status"], unsupplied["items"]) == ("UnSupplied", [{"line_id": "P-1-a", "quantity": 1,
                                                                           "units": [[1, 1]]}])
    assert all(p["ancestors"] == ["PK"] and p["parent_id"] == "PK" for p in (group, rest, unsupplied))
    assert group["cargo_tracking_number"] and group["cargo_tracking_number"] != rest["cargo_tracking_number"]
    line = placed.get("/v1/orders/P-1").json()["lines"][0]
    assert line["cancelled_quantity"] == 1 and line["ledger"]["open"] == 3


def test_ship_and_deliver_move_the_ledger(placed):
    child = placed.post("/v1/orders/P-1/packages/PK/split", json=split_body({"P-1-a": 1})).json()["groups"][0]
    shipped = placed.post(f"/v1/orders/P-1/packages/{child}/status",
                          json={"status": "Shipped", "cargo_tracking_number": "TR-1"})
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["lines"][0]["ledger"]["shipped"] == 1 and shipped.json()["status"] == "partially_shipped"
    delivered = placed.post(f"/v1/orders/P-1/packages/{child}/status", json={"status": "Delivered"}).json()
    assert delivered["lines"][0]["ledger"]["delivered"] == 1
    package = next(p for p in delivered["packages"] if p["package_id"] == child)
    assert [h["status"] for h in package["history"]] == ["Picking", "Shipped", "Delivered"]
    assert package["cargo_tracking_number"] == "TR-1"


def test_created_is_approved_before_it_splits(api, db):
    assert api.post("/v1/orders", json=order("P-2", status="Created")).status_code == 201
    before = snapshot(db)
    refused = api.post("/v1/orders/P-2/packages/PK/split", json=split_body({"P-2-a": 1}))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "package_not_splittable"
    assert snapshot(db) == before
    assert api.post("/v1/orders/P-2/packages/PK/status", json={"status": "Picking"}).status_code == 200
    assert api.post("/v1/orders/P-2/packages/PK/split", json=split_body({"P-2-a": 1})).status_code == 200


def test_refusals_change_nothing(placed, db, server):
    other = client_for(placed, token(db, "seller", "other"))
    cases = [
        (placed.post("/v1/orders/P-1/packages/PK/split", json=split_body({"P-1-a": 5})), 409, "split_exceeds_package"),
        (placed.post("/v1/orders/P-1/packages/PK/split", json=split_body({"P-1-a": 3}, {"P-1-a": 2})), 409,
         "split_exceeds_package"),
        (placed.post("/v1/orders/P-1/packages/PK/split", json=split_body(cancelled=(("P-1-a", 1, 135),))), 422,
         "cancel_requires_split"),
        (placed.post("/v1/orders/P-1/packages/PK/split", json=split_body({"P-1-a": 1}, cancelled=(("P-1-a", 1, 61),))),
         422, "unknown_reason"),
        (placed.post("/v1/orders/P-1/packages/PK/split", json=split_body({"P-1-a": -1})), 422, "quantity_not_positive"),
        (placed.post("/v1/orders/P-1/packages/PK/split", json=split_body({"nope": 1})), 404, "line_not_found"),
        (placed.post("/v1/orders/P-1/packages/NOPE/split", json=split_body({"P-1-a": 1})), 404, "package_not_found"),
        (placed.post("/v1/orders/P-1/packages/PK/split", json={"packages": [{"items": []}]}), 422, "invalid_request"),
        (placed.post("/v1/orders/P-1/packages/PK/split", content=b'{"packages": [,]}',
                     headers={"Content-Type": "application/json"}), 400, "malformed_json"),
        (placed.post("/v1/orders/P-1/packages/PK/status", json={"status": "Cancelled"}), 422, "invalid_request"),
        (placed.post("/v1/orders/P-1/packages/PK/status", json={"status": "Delivered"}), 409,
         "package_action_not_allowed"),
        (placed.post("/v1/orders/P-1/packages/PK/status", json={"status": "Picking"}), 409,
         "package_action_not_allowed"),
        (other.post("/v1/orders/P-1/packages/PK/split", json=split_body({"P-1-a": 1})), 404, "order_not_found"),
        (other.get("/v1/orders/P-1/packages"), 404, "order_not_found"),
    ]
    before = snapshot(db)
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
    assert snapshot(db) == before
    other.close()


def test_pending_cancel_units_block_shipping(placed, db):
    assert placed.post("/v1/cancel-requests", json={"order_number": "P-1", "lines": [
        {"line_id": "P-1-a", "quantity": 1, "reason_id": 137}]}).status_code == 201
    before = snapshot(db)
    refused = placed.post("/v1/orders/P-1/packages/PK/status", json={"status": "Shipped"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "units_pending_cancel"
    assert snapshot(db) == before


def test_idempotent_split(placed):
    body = split_body({"P-1-a": 1})
    first = placed.post("/v1/orders/P-1/packages/PK/split", json=body, headers={"Idempotency-Key": "k1"})
    again = placed.post("/v1/orders/P-1/packages/PK/split", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(placed.get("/v1/orders/P-1/packages").json()["packages"]) == 3


def test_intake_accepts_every_documented_starting_status(api):
    def body(number: str, first: str) -> dict:
        made = order(number)
        made["packages"] = [{"package_id": s, "status": s, "items": [{"line_id": f"{number}-a", "quantity": 1}]}
                            for s in (first, "Picking", "Shipped", "Delivered")]
        made["packages"][0]["items"].append({"line_id": f"{number}-b", "quantity": 2})
        return made

    placed = api.post("/v1/orders", json=body("P-3", "Created"))
    assert placed.status_code == 201, placed.text
    ledger = placed.json()["lines"][0]["ledger"]
    assert (ledger["open"], ledger["shipped"], ledger["delivered"]) == (2, 1, 1)
    refused = api.post("/v1/orders", json=body("P-4", "Unpacked"))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "package_status_not_placeable"


def test_two_clients_split_the_same_package_at_once(placed):
    barrier = threading.Barrier(2)
    results: list[httpx.Response] = []

    def split(groups: dict) -> None:
        with httpx.Client(base_url=placed.base_url, headers=dict(placed.headers), timeout=30) as client:
            barrier.wait()
            results.append(client.post("/v1/orders/P-1/packages/PK/split", json=split_body(groups)))

    threads = [threading.Thread(target=split, args=(g,)) for g in ({"P-1-a": 1}, {"P-1-b": 1})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.json()["error"]["code"] == "package_not_splittable"
    packages = placed.get("/v1/orders/P-1/packages").json()["packages"]
    assert len(packages) == 3  # one split happened, nothing lost
    live = [p for p in packages if p["live"]]
    assert sum(i["quantity"] for p in live for i in p["items"]) == 6
