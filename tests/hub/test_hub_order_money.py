"""The order page shows what the order cost and what went back: invoices, credit notes, landed
cost, refunds — each figure equal to the native API's — and, for operators, webhook deliveries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.dialects.test_zonos import LINE, UPDATE, gql, seed_order
from tests.hub.test_hub_e2e import _sign_in, context  # noqa: F401 - the fixture
from tests.support import SEED_ORDER, manual_refunds, token
from tests.webhooks.conftest import drain, receiver, subscribe, worker  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def tr(amount: str, currency: str) -> str:
    whole, cents = f"{Decimal(amount):,.2f}".split(".")
    return f"{whole.replace(',', '.')},{cents} {currency}"


def test_invoices_credit_notes_landed_cost_and_refunds_match_the_api(server, api, context) -> None:
    assert api.post("/v1/orders", json=seed_order(quantity=3, shipping="5.00")).status_code == 201
    api.post("/v1/orders/4000000101/invoices/INV-4000000101-1/charge").raise_for_status()
    assert "errors" not in gql(api, UPDATE, aon="AO-67890", itemId=f"item_{LINE}", quantity=1)
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    refund = api.post("/v1/orders/4000000001/cancellations-with-refund",
                      json={"lines": [{"line_id": SEED_ORDER["lines"][0]["line_id"], "quantity": 1, "reason_id": 136}]})
    assert refund.status_code == 201, refund.text

    page = _sign_in(context, token(server.db, "seller", "acme"))
    page.goto("/hub/orders/4000000101")
    invoice = api.get("/v1/orders/4000000101/invoices").json()["data"][0]
    note = api.get("/v1/orders/4000000101/credit-notes").json()["data"][0]
    cost = api.get("/v1/orders/4000000101/landed-costs").json()["data"][-1]
    row = page.locator(f"[data-invoice='{invoice['number']}']").inner_text()
    assert tr(invoice["total"], "USD") in row and "Ödendi" in row
    assert "Ödenecek" not in row and f"Tahsil edildi: {tr(invoice['amount_due'], 'USD')}" in row  # paid: not "to pay"
    credit = page.locator(f"[data-credit-note='{note['number']}']").inner_text()
    assert tr(note["amount"], "USD") in credit and "1 × T-Shirt çıkarıldı" in credit  # why, in Turkish
    assert "Sipariş alındı" in row
    assert page.get_by_test_id("landed-cost-total").inner_text() == tr(cost["total"], "USD")

    page.goto("/hub/orders/4000000001")
    assert page.locator("[data-section=invoices]").count() == 0  # a domestic order is not billed by kalem
    pending = page.locator("[data-refund=pending]").inner_text()
    assert tr(refund.json()["refund"]["amount"], "TRY") in pending and "Ödeme bekliyor" in pending
    assert "Ödeme yöntemine iade" in pending
    assert page.locator("[data-section=deliveries]").count() == 0  # webhooks are the operator's


def test_operators_see_an_orders_webhook_deliveries(server, api, context, receiver, worker) -> None:
    manual_refunds(server.db)  # about something else than the refund a decision makes
    subscribe(api, receiver.url, dialect="hebiar", event_types=["*"])
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    drain(worker, lambda: len(api.get("/v1/webhook-deliveries").json()["data"]) == 1 and
          api.get("/v1/webhook-deliveries").json()["data"][0]["status"] == "skipped")
    request = api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": SEED_ORDER["lines"][0]["line_id"], "quantity": 1, "reason_id": 136}]}).json()
    api.post(f"/v1/cancel-requests/{request['id']}/approve").raise_for_status()
    drain(worker, lambda: len(receiver.requests) == 1)
    drain(worker, lambda: {d["status"] for d in api.get("/v1/webhook-deliveries").json()["data"]} ==
          {"skipped", "delivered"})
    page = _sign_in(context, token(server.db, "operator"))
    page.goto("/hub/orders/4000000001?lang=en")
    rows = page.locator("[data-section=deliveries] tbody tr")
    assert rows.count() == 3
    assert "HTTP 200" in page.locator("[data-delivery=delivered]").inner_text()
    assert "Not sent" in page.locator("[data-delivery=skipped]").first.inner_text()
