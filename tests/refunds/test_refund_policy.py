"""The seller's refund policy: a decision under `on_decision` creates exactly the refund its preview showed,
in the decision's transaction; `manual` moves no money; the policy's bad input changes nothing."""

from __future__ import annotations

from tests.conftest import snapshot
from tests.support import client_for, manual_refunds, order, token

LINE = "item1691416223190"
NUMBER = "4000000001"


def _refunds(api, number: str = NUMBER) -> list[dict]:
    r = api.get(f"/v1/orders/{number}/refunds")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _preview(api, quantity: int, number: str = NUMBER) -> dict:
    r = api.post(f"/v1/orders/{number}/refund-preview", json={"lines": [{"line_id": LINE, "quantity": quantity}]})
    assert r.status_code == 200, r.text
    return r.json()["breakdown"]


def test_a_direct_cancel_refunds_what_its_preview_showed(api):
    assert api.post("/v1/orders", json=order()).status_code == 201
    preview = _preview(api, 2)
    r = api.post(f"/v1/orders/{NUMBER}/cancellations", json={"lines": [{"line_id": LINE, "quantity": 2,
                                                                        "reason_id": 136}]})
    assert r.status_code == 200, r.text
    (refund,) = _refunds(api)
    assert refund["on_decision"] and refund["status"] == "pending" and refund["cause"] == "cancellation"
    assert refund["breakdown"] == preview and refund["amount"] == preview["total"]
    kinds = [e["type"] for e in api.get(f"/v1/orders/{NUMBER}/events").json()["data"]]
    assert kinds[-2:] == ["lines.cancelled", "refund.created"]


def test_an_approved_cancel_request_refunds_the_units_it_cancels(api):
    assert api.post("/v1/orders", json=order()).status_code == 201
    made = api.post("/v1/cancel-requests", json={"order_number": NUMBER, "seller_id": "acme",
                                                 "lines": [{"line_id": LINE, "quantity": 3, "reason_id": 136}]})
    assert made.status_code == 201, made.text
    preview = _preview(api, 3)
    r = api.post(f"/v1/cancel-requests/{made.json()['id']}/approve", json={})
    assert r.status_code == 200, r.text
    (refund,) = _refunds(api)
    assert refund["breakdown"] == preview and refund["amount"] == "609.60"   # the last unit brings shipping
    assert refund["units"] == [{"line_id": LINE, "first": 1, "last": 3}]


def test_a_cancel_with_refund_refunds_once(api):
    assert api.post("/v1/orders", json=order()).status_code == 201
    r = api.post(f"/v1/orders/{NUMBER}/cancellations-with-refund",
                 json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]})
    assert r.status_code == 201, r.text
    (refund,) = _refunds(api)
    assert not refund["on_decision"]


def test_manual_keeps_decisions_without_money(api, db):
    assert api.post("/v1/orders", json=order()).status_code == 201
    manual_refunds(db)
    r = api.post(f"/v1/orders/{NUMBER}/cancellations", json={"lines": [{"line_id": LINE, "quantity": 1,
                                                                        "reason_id": 136}]})
    assert r.status_code == 200, r.text
    assert _refunds(api) == []


def test_a_channel_policy_beats_the_seller_wide_one_and_applies_after_it_is_set(api, db):
    assert api.post("/v1/orders", json=order(channel="n11")).status_code == 201
    seller = client_for(api, token(db, "seller", "acme"))
    r = seller.put("/v1/refund-policy", json={"policy": "manual"})
    assert r.status_code == 200 and r.json()["policy"] == "manual" and not r.json()["is_default"], r.text
    r = seller.put("/v1/refund-policy/channels/n11", json={"policy": "on_decision"})
    assert r.status_code == 200, r.text
    assert [(c["channel"], c["policy"]) for c in r.json()["channels"]] == [("n11", "on_decision")]
    cancel = {"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}
    assert seller.post(f"/v1/orders/{NUMBER}/cancellations", json=cancel).status_code == 200
    assert len(_refunds(api)) == 1
    assert seller.delete("/v1/refund-policy/channels/n11").status_code == 200   # seller-wide manual again
    assert seller.post(f"/v1/orders/{NUMBER}/cancellations", json=cancel).status_code == 200
    (kept,) = _refunds(api)   # the refund made before the change stays as it was
    assert kept["status"] == "pending" and kept["on_decision"]


def test_bad_policy_input_is_refused_and_changes_nothing(api, db):
    assert api.post("/v1/orders", json=order()).status_code == 201
    seller = client_for(api, token(db, "seller", "acme"))
    before = snapshot(db)
    r = api.put("/v1/refund-policy?seller_id=acme", json={"policy": "sometimes"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "refund_policy_unknown", r.text
    r = api.put("/v1/refund-policy?seller_id=nobody", json={"policy": "manual"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_seller", r.text
    r = seller.get("/v1/refund-policy?seller_id=other")
    assert r.status_code == 403 and r.json()["error"]["code"] == "seller_id_mismatch", r.text
    assert snapshot(db) == before


def test_settling_twice_retrying_and_forced_caps(api, db):
    assert api.post("/v1/orders", json=order()).status_code == 201
    assert api.post(f"/v1/orders/{NUMBER}/cancellations", json={"lines": [{"line_id": LINE, "quantity": 1,
                                                                        "reason_id": 136}]}).status_code == 200
    (refund,) = _refunds(api)
    r = api.post(f"/v1/refunds/{refund['id']}/retry", json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "refund_not_retryable", r.text
    assert api.post(f"/v1/refunds/{refund['id']}/settle", json={"status": "failed"}).status_code == 200
    before = snapshot(db)
    r = api.post(f"/v1/refunds/{refund['id']}/settle", json={"status": "succeeded"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "refund_already_settled", r.text
    r = api.post(f"/v1/refunds/{refund['id']}/retry", json={"forced_amount": "10000.00"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "forced_amount_exceeds_paid", r.text
    assert snapshot(db) == before
    r = api.post(f"/v1/refunds/{refund['id']}/retry", json={})
    assert r.status_code == 201, r.text
    again = r.json()["refund"]
    assert again["amount"] == refund["amount"] and again["units"] == refund["units"] and again["status"] == "pending"


def test_an_explicit_refund_taking_over_a_decision_refund_is_an_event(api, db):
    """A platform's own refund of the decision's units is that refund: integrators learn its new reference
    and payout from a `refund.claimed` event (and nothing is paid twice)."""
    assert api.post("/v1/orders", json=order()).status_code == 201
    cancel = {"lines": [{"line_id": LINE, "quantity": 2, "reason_id": 136}]}
    assert api.post(f"/v1/orders/{NUMBER}/cancellations", json=cancel).status_code == 200
    (made,) = _refunds(api)
    iban = "TR330006100519786457841326"
    r = api.post(f"/v1/orders/{NUMBER}/refunds", json={
        "lines": [{"line_id": LINE, "quantity": 2}], "reference": "RF-PLATFORM-7", "method": "fund_transfer",
        "iban": iban, "holder_name": "Ayşe Yılmaz"})
    assert r.status_code in (200, 201), r.text
    assert r.json()["refund"]["id"] == made["id"] and r.json()["refund"]["reference"] == "RF-PLATFORM-7"
    (claimed,) = _refunds(api)
    assert (claimed["id"], claimed["amount"], claimed["method"]) == (made["id"], made["amount"], "fund_transfer")
    events = api.get(f"/v1/orders/{NUMBER}/events").json()["data"]
    assert [e["type"] for e in events][-3:] == ["lines.cancelled", "refund.created", "refund.claimed"]
    data = events[-1]["data"]
    assert (data["refund_id"], data["reference"], data["method"], data["amount"], data["status"]) == (
        made["id"], "RF-PLATFORM-7", "fund_transfer", made["amount"], "pending")
    assert data["iban_masked"] and iban not in str(events[-1]) and data["holder_name"] == "Ayşe Yılmaz"
    # The same reference again is the same refund: no second event.
    again = api.post(f"/v1/orders/{NUMBER}/refunds", json={"lines": [{"line_id": LINE, "quantity": 2}],
                                                           "reference": "RF-PLATFORM-7"})
    assert again.status_code in (200, 201) and again.json()["refund"]["id"] == made["id"], again.text
    assert len(api.get(f"/v1/orders/{NUMBER}/events").json()["data"]) == len(events)
