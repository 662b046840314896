"""The order page a seller needs: what the order cost, was paid and got back, the customer and the
addresses, lines with their units' states — in the seller's language, with no version numbers, event
codes or JSON. An operator's technical section keeps those, decoded."""

from __future__ import annotations

import pytest

from tests.hub.test_hub_e2e import _sign_in, context  # noqa: F401 - the fixture
from tests.support import token

pytestmark = pytest.mark.slow

NUMBER = "6900000001"
ORDER = {
    "order_number": NUMBER, "seller_id": "acme", "currency": "TRY", "channel": "WEB", "shipping_amount": "29.90",
    "lines": [{"line_id": f"{NUMBER}-a", "sku": "KZK-01", "name": "Yün kazak", "quantity": 2, "unit_price": "749.50",
               "discount": "50.00", "tax_rate": "20"},
              {"line_id": f"{NUMBER}-b", "sku": "ATK-02", "name": "Atkı", "quantity": 1, "unit_price": "120.00"}],
    "customer": {"first_name": "Ayşe", "last_name": "Çelik", "email": "ayse@example.com", "phone": "+905551112233"},
    "shipment_address": {"first_name": "Ayşe", "last_name": "Çelik", "address1": "Gül Sokak 3", "district": "Kadıköy",
                         "city": "İstanbul", "postal_code": "34710", "country_code": "TR"},
    "invoice_address": {"company": "Çelik Tekstil", "address1": "Lale Cad. 5", "city": "Ankara",
                        "tax_office": "Çankaya", "tax_number": "1234567890"},
    "payment": {"method": "Kredi kartı", "total": "1598.90", "installment_count": 3, "bank_name": "Garanti"},
}


def _prepare(api) -> dict:  # noqa: ANN001
    assert api.post("/v1/orders", json=ORDER).status_code == 201
    made = api.post("/v1/cancel-requests", json={"order_number": NUMBER, "seller_id": "acme", "lines": [
        {"line_id": f"{NUMBER}-a", "quantity": 1, "reason_id": 136, "note": "müşteri vazgeçti, ölçü küçük"}]})
    assert made.status_code == 201, made.text
    refund = api.post(f"/v1/orders/{NUMBER}/cancellations-with-refund",
                      json={"lines": [{"line_id": f"{NUMBER}-b", "quantity": 1, "reason_id": 136}]})
    assert refund.status_code == 201, refund.text
    return api.get(f"/v1/orders/{NUMBER}").json()


def test_a_seller_reads_the_order_in_turkish_and_english_without_internals(server, api, context) -> None:
    native = _prepare(api)
    page = _sign_in(context, token(server.db, "seller", "acme"))
    page.goto(f"/hub/orders/{NUMBER}?lang=tr")
    money = page.locator("[data-section=money]").inner_text()
    for words in ("Ürünler\n1.619,00 TRY", "İndirimler\n-50,00 TRY", "Kargo\n29,90 TRY", "Ödenen\n1.598,90 TRY",
                  "İade edildi\n0,00 TRY", "Ödenmeyi bekleyen iade\n120,00 TRY"):
        assert words in money, (words, money)
    customer = page.locator("[data-section=customer]").inner_text()
    for words in ("Ayşe Çelik", "ayse@example.com", "Teslimat adresi", "Gül Sokak 3", "34710 Kadıköy İstanbul",
                  "Fatura adresi", "Çelik Tekstil", "Vergi: Çankaya · 1234567890", "Kredi kartı · Garanti",
                  "1.598,90 TRY · 3 taksit"):
        assert words in customer, (words, customer)
    line = page.locator(f"[data-line='{NUMBER}-a']").inner_text()
    assert "Yün kazak" in line and "Birim fiyat 749,50 TRY · 2 adet" in line and "Ödenen 1.449,00 TRY" in line
    assert "№ 1: İptal bekliyor" in line and "№ 2: Açık" in line
    assert "Atkı" in page.locator(f"[data-line='{NUMBER}-b']").inner_text()
    assert "Beklemede" in page.locator("[data-section=cancel-requests]").inner_text()
    assert "Ödeme bekliyor" in page.locator("[data-section=refunds]").inner_text()
    history = page.locator("[data-section=history]").inner_text()
    assert "Sipariş alındı" in history and "İptal talebi açıldı" in history

    main = page.locator("main").inner_text()
    assert "Sürüm" not in main and page.get_by_test_id("order-version").count() == 0
    for internal in ("order.placed", "cancel_request.created", "lines.cancelled", "{", "\\u00", "ord_", "cr_"):
        assert internal not in main, internal
    assert page.locator("[data-section=technical]").count() == 0
    assert native["version"] > 1  # there is a version, and the seller is not shown it

    page.goto(f"/hub/orders/{NUMBER}?lang=en")
    money = page.locator("[data-section=money]").inner_text()
    assert "Paid\n1,598.90 TRY" in money and "Refunds awaiting settlement\n120.00 TRY" in money
    customer = page.locator("[data-section=customer]").inner_text()
    assert "Delivery address" in customer and "Invoice address" in customer and "3 instalments" in customer
    assert "Order received" in page.locator("[data-section=history]").inner_text()
    assert "order.placed" not in page.locator("main").inner_text()


def test_an_operator_has_the_technical_section_decoded(server, api, context) -> None:
    native = _prepare(api)
    page = _sign_in(context, token(server.db, "operator"))
    page.goto(f"/hub/orders/{NUMBER}?seller=acme")
    technical = page.locator("[data-section=technical]")
    technical.locator("summary").click()
    assert technical.get_by_test_id("order-version").inner_text() == str(native["version"])
    text = technical.inner_text()
    assert "cancel_request.created" in text and native["id"] in text
    assert "müşteri vazgeçti, ölçü küçük" in text  # the note as written, not "m\u00fc\u015fteri"
    assert "\\u00" not in page.content()


def test_an_order_sent_without_details_says_so(server, api, context) -> None:
    bare = {k: v for k, v in ORDER.items() if k not in ("customer", "shipment_address", "invoice_address", "payment")}
    assert api.post("/v1/orders", json=bare).status_code == 201
    page = _sign_in(context, token(server.db, "seller", "acme"))
    page.goto(f"/hub/orders/{NUMBER}")
    assert page.locator("[data-section=customer]").inner_text().endswith(
        "Satış kanalı müşteri ve adres bilgisi göndermedi.")
