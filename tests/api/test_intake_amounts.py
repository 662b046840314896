"""Money the currency can hold: an amount with more decimals than its currency has (CLDR's minor units,
through Babel) is refused at intake with its own code and field, and changes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import snapshot


def _order(number: str, currency: str, price: str, *, discount: str = "0", shipping: str = "0") -> dict:
    return {"order_number": number, "seller_id": "acme", "currency": currency, "shipping_amount": shipping,
            "lines": [{"line_id": f"{number}-a", "sku": "A", "name": "A", "quantity": 2, "unit_price": price,
                       "discount": discount}]}


@pytest.mark.parametrize(("currency", "price", "discount", "shipping", "field"), [
    ("TRY", "10.005", "0", "0", "lines[0].unit_price"),
    ("JPY", "100.50", "0", "0", "lines[0].unit_price"),
    ("TRY", "10.00", "0.001", "0", "lines[0].discount"),
    ("KWD", "1.000", "0", "2.0005", "shipping_amount"),
])
def test_an_amount_finer_than_its_currency_is_refused(api, db, currency, price, discount, shipping, field):
    before = snapshot(db)
    response = api.post("/v1/orders", json=_order("AMT-1", currency, price, discount=discount, shipping=shipping))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "amount_too_precise", error
    assert [e["field"] for e in error["details"]["errors"]] == [field], error
    assert snapshot(db) == before


@pytest.mark.parametrize(("currency", "price"), [("JPY", "100"), ("KWD", "1.125"), ("TRY", "10.50"),
                                                 ("TRY", "10.500")])
def test_amounts_the_currency_holds_are_taken_in(api, currency, price):
    response = api.post("/v1/orders", json=_order(f"AMT-{currency}-{price}", currency, price))
    assert response.status_code == 201, response.text
