"""Every amount on a hub page is the native API's number for the same thing, written the way the
reader's language writes that currency: TRY and EUR with two decimals, JPY with none, KWD with three."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.hub.test_hub_e2e import _sign_in, context  # noqa: F401 - the fixture
from tests.support import token

pytestmark = pytest.mark.slow

DIGITS = {"TRY": 2, "EUR": 2, "JPY": 0, "KWD": 3}

#: Per currency: line a (3 units, a discount), line b (1 unit), shipping; and what the buyer paid, as the
#: hub must write it in Turkish (worked out by hand: 3 × a − discount + b + shipping).
ORDERS = {
    "TRY": (("499.90", "15.00"), "100.00", "29.90", "1.614,60 TRY"),
    "EUR": (("124.79", "10.00"), "50.00", "4.99", "419,36 EUR"),
    "JPY": (("1299", "100"), "15000", "500", "19.297 JPY"),
    "KWD": (("12.345", "1.000"), "1234.500", "2.500", "1.273,035 KWD"),
}


def shown(text: str, currency: str, lang: str) -> Decimal:
    """The number a hub amount says, read back: its decimals are exactly the currency's."""
    number, code = text.strip().rsplit(" ", 1)
    assert code == currency, text
    group, decimal = (".", ",") if lang == "tr" else (",", ".")
    plain = number.replace(group, "").replace(decimal, ".")
    fraction = plain.partition(".")[2]
    assert len(fraction) == DIGITS[currency], text
    return Decimal(plain)


def _order(api: httpx.Client, currency: str) -> str:
    (price, discount), b_price, shipping, _ = ORDERS[currency]
    number = f"77{list(ORDERS).index(currency):08d}"
    body = {"order_number": number, "seller_id": "acme", "currency": currency, "shipping_amount": shipping,
            "lines": [{"line_id": f"{number}-a", "sku": "A", "name": "Kazak", "quantity": 3, "unit_price": price,
                       "discount": discount, "tax_rate": "20"},
                      {"line_id": f"{number}-b", "sku": "B", "name": "Atkı", "quantity": 1, "unit_price": b_price}]}
    assert api.post("/v1/orders", json=body).status_code == 201
    return number


def test_every_amount_on_the_queue_the_request_and_the_order_is_the_apis(server, api, context) -> None:
    requests: dict[str, str] = {}
    for currency in ORDERS:
        number = _order(api, currency)
        refund = api.post(f"/v1/orders/{number}/cancellations-with-refund",
                          json={"lines": [{"line_id": f"{number}-b", "quantity": 1, "reason_id": 136}]})
        assert refund.status_code == 201, refund.text
        if currency == "TRY":  # one refund settled, so "refunded" is not only zero
            api.post(f"/v1/refunds/{refund.json()['refund']['id']}/settle", json={"status": "succeeded"}
                     ).raise_for_status()
        made = api.post("/v1/cancel-requests", json={"order_number": number, "seller_id": "acme", "lines": [
            {"line_id": f"{number}-a", "quantity": 3, "reason_id": 136}]})
        assert made.status_code == 201, made.text
        requests[currency] = made.json()["id"]

    page = _sign_in(context, token(server.db, "seller", "acme"))
    for lang in ("tr", "en"):
        for currency, request_id in requests.items():
            number = f"77{list(ORDERS).index(currency):08d}"
            preview = api.post(f"/v1/orders/{number}/refund-preview",
                               json={"lines": [{"line_id": f"{number}-a", "quantity": 3}]}).json()["breakdown"]

            # The queue's amount and the request's refund preview are the API's preview of approving it.
            page.goto(f"/hub/cancel-requests?lang={lang}")
            queued = page.locator(f"tr[data-request='{request_id}'] [data-testid=queue-refund]")
            assert shown(queued.inner_text(), currency, lang) == Decimal(preview["total"])
            page.goto(f"/hub/cancel-requests/{request_id}")
            total = page.get_by_test_id("refund-total")
            total.wait_for()
            assert shown(total.inner_text(), currency, lang) == Decimal(preview["total"])

            # The order page: what it cost, was paid and went back, line by line and refund by refund.
            page.goto(f"/hub/orders/{number}")
            native = api.get(f"/v1/orders/{number}").json()
            refunds = api.get(f"/v1/orders/{number}/refunds").json()["data"]
            lines = {ln["line_id"]: Decimal(ln["unit_price"]) * ln["quantity"] - Decimal(ln["discount"])
                     for ln in native["lines"]}
            items = sum(Decimal(ln["unit_price"]) * ln["quantity"] for ln in native["lines"])
            discounts = sum(Decimal(ln["discount"]) for ln in native["lines"])
            by_status = {s: sum((Decimal(r["amount"]) for r in refunds if r["status"] == s), Decimal(0))
                         for s in ("pending", "succeeded")}
            paid = items - discounts + Decimal(native["shipping_amount"])
            expected = {"items": items, "discounts": -discounts, "shipping": Decimal(native["shipping_amount"]),
                        "paid": paid, "refunded": by_status["succeeded"],
                        "refundable": paid - by_status["succeeded"] - by_status["pending"]}
            if by_status["pending"]:
                expected["pending"] = by_status["pending"]
            figures = page.locator("[data-section=money] [data-money]")
            seen = {f.get_attribute("data-money"): f for f in figures.all()}
            assert set(seen) == set(expected), currency
            for key, amount in expected.items():
                assert shown(seen[key].inner_text(), currency, lang) == amount, (currency, key)
            for line_id, amount in lines.items():
                line_paid = page.locator(f"[data-line='{line_id}'] [data-money=line-paid]")
                assert shown(line_paid.inner_text(), currency, lang) == amount, line_id
            for r in refunds:
                cell = page.locator(f"[data-refund-id='{r['id']}'] td").first
                assert shown(cell.inner_text(), currency, lang) == Decimal(r["amount"]), r["id"]
            if lang == "tr":
                assert seen["paid"].inner_text() == ORDERS[currency][3]
                assert "−0,00" not in page.content() and "-0,00" not in page.content()
    page.goto("/hub/orders/7700000001?lang=en")
    assert page.locator("[data-money=paid]").inner_text() == "419.36 EUR"


def test_a_zero_discount_reads_as_none_in_the_refund_preview(server, api, context) -> None:
    number = _order(api, "EUR")
    made = api.post("/v1/cancel-requests", json={"order_number": number, "seller_id": "acme", "lines": [
        {"line_id": f"{number}-b", "quantity": 1, "reason_id": 136}]}).json()
    page = _sign_in(context, token(server.db, "seller", "acme"))
    page.goto(f"/hub/cancel-requests/{made['id']}")
    preview = page.get_by_test_id("refund-preview")
    preview.get_by_test_id("refund-total").wait_for()
    discount = preview.locator("tbody tr").first.locator("td").nth(3)
    assert discount.inner_text() == "—"  # the line has no discount; not "−0,00 EUR"
