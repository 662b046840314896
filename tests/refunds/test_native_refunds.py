"""Native returns, refund previews, refunds, settlement and strategies — over real HTTP, both databases."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest

from tests.conftest import snapshot
from tests.support import client_for, manual_refunds, order, token

VALID_IBAN = "TR330006100519786457841326"
LINE = "item1691416223190"


def delivered_order(number: str = "5000000001") -> dict:
    """Two lines: A with 2 units (one delivered package), B with 3 units (2 delivered, 1 open)."""
    return {
        "order_number": number, "seller_id": "acme", "currency": "TRY", "shipping_amount": "30.00",
        "lines": [{"line_id": f"{number}-a", "sku": "A", "name": "A", "quantity": 2, "unit_price": "100.00",
                   "discount": "10.00", "tax_rate": "20"},
                  {"line_id": f"{number}-b", "sku": "B", "name": "B", "quantity": 3, "unit_price": "50.00",
                   "tax_rate": "10"}],
        "packages": [{"package_id": f"{number}-p1", "status": "Delivered",
                      "items": [{"line_id": f"{number}-a", "quantity": 2}, {"line_id": f"{number}-b", "quantity": 2}]},
                     {"package_id": f"{number}-p2", "status": "Picking",
                      "items": [{"line_id": f"{number}-b", "quantity": 1}]}],
    }


def place(api, body) -> None:
    assert api.post("/v1/orders", json=body).status_code == 201


def test_preview_changes_nothing_and_matches_the_refund(api, db):
    place(api, order())
    before = snapshot(db)
    r = api.post("/v1/orders/4000000001/refund-preview", json={"lines": [{"line_id": LINE, "quantity": 3}]})
    assert r.status_code == 200, r.text
    preview = r.json()["breakdown"]
    assert snapshot(db) == before
    # the seed order: 3 × 199.90 − 20.00 = 579.70, and shipping 29.90 comes back with the last unit
    assert preview["total"] == "609.60"
    assert any("last unit" in s for s in preview["explanation"])
    r = api.post("/v1/orders/4000000001/cancellations-with-refund",
                 json={"lines": [{"line_id": LINE, "quantity": 3, "reason_id": 136}]})
    assert r.status_code == 201, r.text
    refund = r.json()["refund"]
    assert refund["amount"] == "609.60" and refund["status"] == "pending" and refund["cause"] == "cancellation"
    assert refund["breakdown"] == preview  # the preview is the refund, explanation and all
    assert refund["units"] == [{"line_id": LINE, "first": 1, "last": 3}]  # the units it holds, by number
    assert r.json()["order"]["lines"][0]["ledger"]["cancelled"] == 3


def test_preview_ahead_of_a_cancel_is_the_refund_of_the_units_it_cancels(api):
    """Unit 1 is cancelled without a refund; a cancel with refund of 2 takes units 2 and 3, and so does its
    preview — unit 1 carries the extra cent (10.00 over 3 units: 3.34, 3.33, 3.33)."""
    body = order()
    body["lines"][0] |= {"quantity": 3, "unit_price": "10.00", "discount": "20.00"}
    body["shipping_amount"] = "0.00"
    place(api, body)
    cancelled = api.post("/v1/orders/4000000001/cancellations",
                         json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]})
    assert cancelled.status_code == 200, cancelled.text
    preview = api.post("/v1/orders/4000000001/refund-preview", json={"lines": [{"line_id": LINE, "quantity": 2}]})
    assert preview.json()["breakdown"]["total"] == "6.66"
    r = api.post("/v1/orders/4000000001/cancellations-with-refund",
                 json={"lines": [{"line_id": LINE, "quantity": 2, "reason_id": 136}]})
    assert r.status_code == 201, r.text
    assert r.json()["refund"]["breakdown"] == preview.json()["breakdown"]
    assert r.json()["refund"]["units"] == [{"line_id": LINE, "first": 2, "last": 3}]


def test_partial_cancels_sum_to_what_was_paid(api):
    place(api, order())
    totals = []
    for _ in range(3):
        r = api.post("/v1/orders/4000000001/cancellations-with-refund",
                     json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]})
        assert r.status_code == 201, r.text
        totals.append(D(r.json()["refund"]["amount"]))
    assert sum(totals) == D("609.60")
    listed = api.get("/v1/orders/4000000001/refunds").json()["data"]
    assert [D(x["amount"]) for x in listed] == totals


def test_return_flow_then_refund_and_settle(api, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    body = delivered_order()
    place(api, body)
    r = api.post("/v1/orders/5000000001/returns",
                 json={"lines": [{"line_id": "5000000001-a", "quantity": 1, "reason_id": 152}]})
    assert r.status_code == 201, r.text
    ret = r.json()
    assert ret["status"] == "pending"
    line = api.get("/v1/orders/5000000001").json()["lines"][0]
    assert line["ledger"]["return_pending"] == 1 and line["ledger"]["delivered"] == 1
    # not refundable before the return is approved
    before = snapshot(db)
    r = api.post("/v1/orders/5000000001/refunds", json={"lines": [{"line_id": "5000000001-a", "quantity": 1}],
                                                        "cause": "return"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "units_not_refundable"
    assert snapshot(db) == before
    r = api.post(f"/v1/returns/{ret['id']}/approve")
    assert r.status_code == 200, r.text
    assert r.json()["order"]["lines"][0]["ledger"]["returned"] == 1
    r = api.post("/v1/orders/5000000001/refunds",
                 json={"lines": [{"line_id": "5000000001-a", "quantity": 1}], "method": "fund_transfer",
                       "iban": "TR33 0006 1005 1978 6457 8413 26", "holder_name": "Ayşe Yılmaz"})
    assert r.status_code == 201, r.text
    refund = r.json()["refund"]
    assert refund["cause"] == "return" and refund["amount"] == "95.00"
    assert refund["iban_masked"] == "TR33 **** **** **** **** **13 26"
    assert VALID_IBAN not in r.text and "0006 1005" not in r.text
    got = api.get(f"/v1/refunds/{refund['id']}")
    assert got.status_code == 200 and VALID_IBAN not in got.text
    settled = api.post(f"/v1/refunds/{refund['id']}/settle", json={"status": "succeeded"})
    assert settled.status_code == 200 and settled.json()["status"] == "succeeded"
    before = snapshot(db)
    again = api.post(f"/v1/refunds/{refund['id']}/settle", json={"status": "failed"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "refund_already_settled"
    assert snapshot(db) == before
    events = api.get("/v1/orders/5000000001/events").json()["data"]
    types = [e["type"] for e in events]
    assert types[-4:] == ["return.requested", "return.approved", "refund.created", "refund.settled"]
    assert VALID_IBAN not in str(events)


def test_rejected_return_goes_back_to_delivered(api):
    place(api, delivered_order())
    ret = api.post("/v1/orders/5000000001/returns",
                   json={"lines": [{"line_id": "5000000001-b", "quantity": 2, "reason_id": 151}]}).json()
    r = api.post(f"/v1/returns/{ret['id']}/reject", json={"reason_id": 167, "note": "missing parts"})
    assert r.status_code == 200, r.text
    assert r.json()["return"]["status"] == "rejected"
    assert r.json()["order"]["lines"][1]["ledger"]["delivered"] == 2


def test_failed_refund_releases_its_units(api):
    place(api, order())
    first = api.post("/v1/orders/4000000001/cancellations-with-refund",
                     json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}).json()["refund"]
    assert api.post(f"/v1/refunds/{first['id']}/settle", json={"status": "failed"}).status_code == 200
    again = api.post("/v1/orders/4000000001/refunds", json={"lines": [{"line_id": LINE, "quantity": 1}]})
    assert again.status_code == 201, again.text
    assert again.json()["refund"]["amount"] == first["amount"]


BAD = [
    # (body, status, code)
    ({"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}], "method": "fund_transfer",
      "iban": "TR330006100519786457841327", "holder_name": "X"}, 422, "invalid_iban"),
    ({"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}], "method": "fund_transfer",
      "iban": VALID_IBAN}, 422, "invalid_payout"),
    ({"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}], "forced_amount": "10000.00"},
     422, "forced_amount_exceeds_paid"),
    ({"lines": [{"line_id": LINE, "quantity": 4, "reason_id": 136}]}, 409, "quantity_exceeds_cancellable"),
    ({"lines": [{"line_id": "nope", "quantity": 1, "reason_id": 136}]}, 404, "line_not_found"),
    ({"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 999}]}, 422, "unknown_reason"),
    ({"lines": [{"line_id": LINE, "quantity": 1}]}, 422, "invalid_request"),
    ({"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}], "include_cargo": True}, 201, None),
]


@pytest.mark.parametrize("body,status,code", BAD)
def test_bad_cancel_with_refund_changes_nothing(api, db, body, status, code):
    place(api, order())
    before = snapshot(db)
    r = api.post("/v1/orders/4000000001/cancellations-with-refund", json=body)
    assert r.status_code == status, r.text
    if code:
        assert r.json()["error"]["code"] == code
        assert snapshot(db) == before
        assert VALID_IBAN not in r.text and "TR330006100519786457841327" not in r.text


def test_forced_amount_only_from_an_operator_and_recorded(api, db, server):
    place(api, order())
    seller = client_for(api, token(db, "seller", "acme"))
    before = snapshot(db)
    r = seller.post("/v1/orders/4000000001/cancellations-with-refund",
                    json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}], "forced_amount": "1.00"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forced_amount_operator_only"
    assert snapshot(db) == before
    r = api.post("/v1/orders/4000000001/cancellations-with-refund",
                 json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}], "forced_amount": "150.00"})
    assert r.status_code == 201, r.text
    assert r.json()["refund"]["amount"] == "150.00"
    assert r.json()["refund"]["forced_by"] == "operator:admin"
    # 579.70 / 3: the first unit takes the extra cent
    assert r.json()["refund"]["breakdown"]["computed_total"] == "193.24"


def test_second_refund_of_the_same_units_is_refused(api, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    place(api, order())
    assert api.post("/v1/orders/4000000001/cancellations", json={"lines": [
        {"line_id": LINE, "quantity": 2, "reason_id": 136}]}).status_code == 200
    assert api.post("/v1/orders/4000000001/refunds",
                    json={"lines": [{"line_id": LINE, "quantity": 2}]}).status_code == 201
    before = snapshot(db)
    r = api.post("/v1/orders/4000000001/refunds", json={"lines": [{"line_id": LINE, "quantity": 1}]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "units_not_refundable"
    assert snapshot(db) == before


def test_two_refunds_for_the_same_units_at_once_exactly_one_succeeds(api, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    place(api, order())
    assert api.post("/v1/orders/4000000001/cancellations", json={"lines": [
        {"line_id": LINE, "quantity": 3, "reason_id": 136}]}).status_code == 200
    barrier, results = threading.Barrier(6), []

    def go() -> None:
        barrier.wait()
        with client_for(api, "test-admin-token") as c:
            results.append(c.post("/v1/orders/4000000001/refunds",
                                  json={"lines": [{"line_id": LINE, "quantity": 3}]}).status_code)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [409] * 5, results
    assert len(api.get("/v1/orders/4000000001/refunds").json()["data"]) == 1


def test_cancelling_shipped_units_is_refused(api, db):
    place(api, delivered_order())
    before = snapshot(db)
    r = api.post("/v1/orders/5000000001/cancellations-with-refund",
                 json={"lines": [{"line_id": "5000000001-a", "quantity": 1, "reason_id": 136}]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "quantity_exceeds_cancellable"
    r = api.post("/v1/orders/5000000001/returns",
                 json={"lines": [{"line_id": "5000000001-b", "quantity": 3, "reason_id": 152}]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "units_not_returnable"
    assert snapshot(db) == before


def test_a_strategy_for_a_seller_kalem_does_not_know_is_refused_and_creates_nothing(api, db):
    token(db, "seller", "acme")
    before = snapshot(db)
    for r in (api.put("/v1/sellers/acmee/cancellation-strategy", json={"cargo_rule": "never"}),
              api.get("/v1/sellers/acmee/cancellation-strategy")):
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_seller", r.text
    assert snapshot(db) == before


def test_strategy_per_seller(api, db):
    r = api.get("/v1/sellers/acme/cancellation-strategy")
    assert r.json() == {"seller_id": "acme", "is_default": True,
                        "strategy": {"cargo_rule": "last_unit", "discounts_refundable": False, "allow_partial": True}}
    seller = client_for(api, token(db, "seller", "acme"))
    before = snapshot(db)
    assert seller.put("/v1/sellers/acme/cancellation-strategy", json={"cargo_rule": "never"}).status_code == 403
    assert api.put("/v1/sellers/acme/cancellation-strategy", json={"cargo_rule": "sometimes"}).status_code == 422
    assert snapshot(db) == before
    r = api.put("/v1/sellers/acme/cancellation-strategy", json={"cargo_rule": "per_unit"})
    assert r.status_code == 200 and r.json()["strategy"]["cargo_rule"] == "per_unit"
    assert seller.get("/v1/sellers/acme/cancellation-strategy").json()["is_default"] is False
    assert seller.get("/v1/sellers/other/cancellation-strategy").status_code == 403
    place(api, order())
    preview = api.post("/v1/orders/4000000001/refund-preview", json={"lines": [{"line_id": LINE, "quantity": 1}]})
    assert preview.json()["breakdown"]["shipping_amount"] == "9.97"  # 29.90 / 3, largest remainder first
