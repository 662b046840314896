"""One refund account: the hub's preview, the native preview and the refund then created agree to the
cent, under the seller's strategy — in a real browser against a real server, on both databases."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from tests.support import token

pytestmark = pytest.mark.slow

NUMBER = "6200000001"
LINE = f"{NUMBER}-a"


def _amount(text: str) -> D:
    """The hub's Turkish money format, "1.234,50 TRY", as a Decimal."""
    return D(text.split()[0].replace(".", "").replace(",", "."))


def test_hub_preview_native_preview_and_refund_agree_under_the_sellers_strategy(server, api, browser) -> None:
    # Two units of 100.00 and 30.00 shipping; this seller never refunds shipping.
    assert api.put("/v1/sellers/acme/cancellation-strategy", json={"cargo_rule": "never"}).status_code == 200
    assert api.post("/v1/orders", json={
        "order_number": NUMBER, "seller_id": "acme", "currency": "TRY", "shipping_amount": "30.00",
        "lines": [{"line_id": LINE, "sku": "A", "name": "A", "quantity": 2, "unit_price": "100.00"}]},
    ).status_code == 201
    made = api.post("/v1/cancel-requests", json={"order_number": NUMBER, "seller_id": "acme",
                                                 "lines": [{"line_id": LINE, "quantity": 2, "reason_id": 136}]})
    assert made.status_code == 201, made.text

    native = api.post(f"/v1/orders/{NUMBER}/refund-preview", json={"lines": [{"line_id": LINE, "quantity": 2}]})
    assert native.status_code == 200, native.text
    assert native.json()["breakdown"]["total"] == "200.00"

    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto("/hub/login")
        page.fill("input[name=token]", token(server.db, "seller", "acme"))
        page.click("button[type=submit].primary")
        page.wait_for_url("**/hub/cancel-requests")
        page.goto(f"/hub/cancel-requests/{made.json()['id']}")
        expect(page.get_by_test_id("refund-total")).to_have_text("200,00 TRY")   # the live preview
        hub = _amount(page.get_by_test_id("refund-total").first.inner_text())
        page.get_by_test_id("approve").click()
        assert page.get_by_test_id("status").inner_text() == "Onaylandı"
    finally:
        context.close()

    # Under the default refund policy (on_decision) approving made the refund the preview showed.
    made_refunds = api.get(f"/v1/orders/{NUMBER}/refunds").json()["data"]
    assert len(made_refunds) == 1 and made_refunds[0]["on_decision"] and made_refunds[0]["status"] == "pending"
    assert hub == D(native.json()["breakdown"]["total"]) == D(made_refunds[0]["amount"]) == D("200.00")
    assert made_refunds[0]["breakdown"] == native.json()["breakdown"]
    # an explicit refund of the same units afterwards is that refund, not a second one
    refund = api.post(f"/v1/orders/{NUMBER}/refunds", json={"lines": [{"line_id": LINE, "quantity": 2}],
                                                             "cause": "cancellation", "reference": "RI-1"})
    assert refund.status_code == 201, refund.text
    assert refund.json()["refund"]["id"] == made_refunds[0]["id"] and refund.json()["refund"]["reference"] == "RI-1"
    assert len(api.get(f"/v1/orders/{NUMBER}/refunds").json()["data"]) == 1
