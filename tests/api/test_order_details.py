"""The native intake's optional order details (customer, addresses, payment, due date, seller name):
kept with the order, shown on its read, and part of its body."""

from __future__ import annotations

import copy

from tests.conftest import snapshot
from tests.support import SEED_ORDER

DETAILS = {
    "customer": {"customer_id": "402380", "code": "b2F5", "first_name": "Ali", "last_name": "Hazar",
                 "email": "ali@example.com", "phone": "905312250102", "is_guest": False},
    "shipment_address": {"first_name": "Ali", "last_name": "Hazar", "address1": "Zaviye Mh.", "city": "Malatya",
                         "district": "Yeşilyurt", "postal_code": "44000", "country_code": "tr"},
    "invoice_address": {"company": "Hazar Ltd", "tax_office": "Malatya", "tax_number": "1234567890"},
    "payment": {"method": "CreditCard", "status": "Paid", "total": "579.70", "paid_at": "2024-01-09T10:41:26",
                "installment_count": 3, "bank_name": "Ziraat"},
    "due_date": "2024-01-12T13:41:26+03:00", "seller_name": "Acme A.Ş.",
}


def test_details_are_kept_and_shown_in_utc(api):
    created = api.post("/v1/orders", json={**SEED_ORDER, **DETAILS})
    assert created.status_code == 201, created.text
    order = api.get("/v1/orders/4000000001").json()
    assert order["customer"] == DETAILS["customer"]
    assert order["shipment_address"]["country_code"] == "TR" and order["shipment_address"]["address2"] is None
    assert order["invoice_address"]["tax_number"] == "1234567890"
    assert order["payment"] == {**DETAILS["payment"], "paid_at": "2024-01-09T10:41:26Z"}
    assert (order["due_date"], order["seller_name"]) == ("2024-01-12T10:41:26Z", "Acme A.Ş.")
    assert api.post("/v1/orders", json={**SEED_ORDER, **DETAILS}).status_code == 200  # the same order again


def test_an_order_without_details_shows_nulls(api):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    order = api.get("/v1/orders/4000000001").json()
    assert [order[k] for k in DETAILS] == [None] * len(DETAILS)
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 200


def test_other_details_for_the_same_order_number_are_a_conflict(api, db):
    assert api.post("/v1/orders", json={**SEED_ORDER, **DETAILS}).status_code == 201
    before = snapshot(db)
    other = copy.deepcopy(DETAILS)
    other["customer"]["email"] = "someone@example.com"
    response = api.post("/v1/orders", json={**SEED_ORDER, **other})
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_already_exists"
    assert snapshot(db) == before


def test_bad_details_are_refused_and_nothing_is_kept(api, db):
    before = snapshot(db)
    for bad in ({"customer": {"email": "not-an-email"}}, {"shipment_address": {"country_code": "TUR"}},
                {"payment": {"total": "-1"}}, {"payment": {"installment_count": 0}},
                {"customer": {"vip": True}}, {"due_date": "tomorrow"},
                {"due_date": "0001-01-01T00:00:00+01:00"}, {"payment": {"paid_at": "0001-01-01T00:30:00+01:00"}},
                {"payment": {"paid_at": 1733040000}}, {"due_date": -5443057496901289.0},
                {"customer": {"is_guest": "yes"}}):
        response = api.post("/v1/orders", json={**SEED_ORDER, **bad})
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "invalid_request"
    assert snapshot(db) == before
