"""What a seller reads in the hub: an obvious approve button, a partial approval that says so,
every label in Turkish and English, names instead of raw ids."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kalem.domain.events.catalog import EVENT_TYPES
from kalem.domain.reasons import reasons
from kalem.hub.i18n import EN, TR
from tests.hub.test_hub_e2e import _request, _sign_in, context  # noqa: F401 - the fixture
from tests.support import token

pytestmark = pytest.mark.slow


def test_every_kalem_reason_has_a_hub_label_in_both_languages_in_one_capitalisation():
    for r in reasons():
        for catalog in (TR, EN):
            label = catalog[f"reason.{r.id}"]
            assert label[0].isupper() and label[1:] == label[1:].lower() or "VAT" in label, label
    assert TR["reason.138"] != "Fraud"


def test_every_event_type_has_a_label_in_both_languages():
    for name in EVENT_TYPES:
        assert TR.get(f"event.{name}") and EN.get(f"event.{name}"), name


def test_approve_from_the_request_page_and_the_queue_says_one_of_two(server, api, context) -> None:
    request_id = _request(api, "6700000001", "acme", [("a", 2, 138)])
    page = _sign_in(context, token(server.db, "seller", "acme", name="Ada Depo"))
    page.goto(f"/hub/cancel-requests/{request_id}")
    assert page.locator("h1").inner_text() == "Sipariş 6700000001 · iptal talebi"
    approve = page.get_by_test_id("approve")
    assert approve.is_visible() and approve.inner_text() == "Onayla"
    assert not page.get_by_test_id("preview").is_visible()  # no second "İade önizlemesi" step with JavaScript on
    assert "Dolandırıcılık şüphesi" in page.locator("#approve").inner_text()
    page.fill("input[name='qty:6700000001-a']", "1")
    expect(page.get_by_test_id("refund-total")).to_have_text("10,00 TRY")
    page.locator("[data-testid=explanation] summary").click()
    explanation = page.get_by_test_id("explanation").inner_text()
    assert "1 × A, birim fiyat 10,00 TRY: 10,00 TRY" in explanation and "Kargo" in explanation
    assert not re.search(r"\d\.\d\d\b", explanation)  # Turkish number format only
    assert "modül" not in page.content()
    approve.click()
    facts = page.locator("dl.facts").inner_text()
    assert facts.count("Durum") == 1 and "Karar" in facts
    assert page.get_by_test_id("decided-by").inner_text().startswith("Ada Depo (Satıcı) tarafından")
    assert "tok_" not in facts and request_id not in page.locator("main").inner_text()
    page.goto("/hub/cancel-requests")
    row = page.locator(f"tr[data-request='{request_id}']")
    assert row.get_by_test_id("partial").inner_text() == "1 / 2 adet onaylandı"
    assert "10,00 TRY" in row.inner_text()  # the units approved, not the units requested
    assert page.locator("thead th").nth(2).text_content() == "Satış kanalı"  # was the cryptic "S.K."
    page.goto("/hub/cancel-requests?lang=en")
    row = page.locator(f"tr[data-request='{request_id}']")
    assert row.get_by_test_id("partial").inner_text() == "1 of 2 units approved"
    assert "Suspected fraud" in row.inner_text()
    assert "Rejection reason" in page.locator(".bulk-bar").inner_text()
    assert "Denial" not in page.content()
