"""The hub's refunds view, in Turkish and English: each tab lists exactly the refunds the API has in that
status, every amount the API's number written the way the reader's language writes its currency; an
operator settles a pending refund and refunds a failed one again from the page (a forced amount typed
the Turkish way); settling a refund whose outcome is already recorded is refused in the page's language
and changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import snapshot
from tests.hub.test_hub_e2e import _sign_in, context  # noqa: F401 - the fixture
from tests.hub.test_hub_money_agrees import shown
from tests.support import token

pytestmark = pytest.mark.slow

#: Per currency: line a (3 units, with a discount) and line b (1 unit).
PRICES = {"TRY": ("1499.90", "15.00", "100.00"), "JPY": ("1299", "100", "15000"),
          "KWD": ("12.345", "1.000", "1234.500"), "EUR": ("124.79", "10.00", "50.00")}

#: The refused second settle, per page language: the words the page must show.
REFUSED = {"tr": "Bu para iadesinin sonucu zaten kaydedilmiş; hiçbir şey değişmedi.",
           "en": "This refund’s outcome was already recorded; nothing changed."}


def _ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json()


def _number(currency: str) -> str:
    return f"79{list(PRICES).index(currency):08d}"


def _cancel(api: httpx.Client, currency: str, line: str) -> dict[str, Any]:
    """Cancel one unit of a line: under the default policy the decision opens its refund."""
    number = _number(currency)
    _ok(api.post(f"/v1/orders/{number}/cancellations", json={
        "lines": [{"line_id": f"{number}-{line}", "quantity": 1, "reason_id": 136}]}))
    made = [r for r in _ok(api.get(f"/v1/orders/{number}/refunds"))["data"]
            if r["lines"][0]["line_id"] == f"{number}-{line}"]
    assert len(made) == 1 and made[0]["status"] == "pending", made
    return made[0]


def _place(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """Four orders, six refunds in three states: what the tabs must list."""
    for currency, (price, discount, b_price) in PRICES.items():
        number = _number(currency)
        _ok(api.post("/v1/orders", json={
            "order_number": number, "seller_id": "acme", "currency": currency, "shipping_amount": "0",
            "lines": [{"line_id": f"{number}-a", "sku": "A", "name": "Kazak", "quantity": 3, "unit_price": price,
                       "discount": discount, "tax_rate": "20"},
                      {"line_id": f"{number}-b", "sku": "B", "name": "Atkı", "quantity": 1,
                       "unit_price": b_price}]}), 201)
    made = {"TRY failed": _cancel(api, "TRY", "b"), "TRY pending": _cancel(api, "TRY", "a"),
            "JPY paid": _cancel(api, "JPY", "b"), "JPY pending": _cancel(api, "JPY", "a"),
            "KWD pending": _cancel(api, "KWD", "b"), "EUR pending": _cancel(api, "EUR", "b")}
    _ok(api.post(f"/v1/refunds/{made['TRY failed']['id']}/settle", json={"status": "failed"}))
    _ok(api.post(f"/v1/refunds/{made['JPY paid']['id']}/settle", json={"status": "succeeded"}))
    return made


def _all_refunds(api: httpx.Client) -> list[dict[str, Any]]:
    return [r for currency in PRICES
            for r in _ok(api.get(f"/v1/orders/{_number(currency)}/refunds"))["data"]]


def _tab(page, status: str, lang: str) -> dict[str, Decimal]:  # noqa: ANN001
    """The refunds a tab lists, by id, each with the amount it shows read back as a number."""
    page.goto(f"/hub/refunds?status={status}&lang={lang}")
    assert page.get_by_test_id(f"tab-{status}").get_attribute("aria-current") == "page"
    listed: dict[str, Decimal] = {}
    for row in page.locator("[data-testid^='refund-']").all():
        refund_id = (row.get_attribute("data-testid") or "").removeprefix("refund-")
        number = row.locator("td").first.inner_text().strip()
        currency = next(c for c in PRICES if _number(c) == number)
        listed[refund_id] = shown(row.get_by_test_id("amount").inner_text().split(" (")[0], currency, lang)
    return listed


def test_each_tab_lists_the_apis_refunds_with_their_amounts_in_the_readers_language(server, api, context) -> None:
    _place(api)
    page = _sign_in(context, token(server.db, "operator"))
    refunds = _all_refunds(api)
    assert {r["status"] for r in refunds} == {"pending", "succeeded", "failed"}
    for lang in ("tr", "en"):
        for status in ("pending", "succeeded", "failed"):
            expected = {r["id"]: Decimal(r["amount"]) for r in refunds if r["status"] == status}
            assert _tab(page, status, lang) == expected, (lang, status)
    # Babel's way of each language, checked once by eye: grouping, decimal mark, JPY without decimals.
    page.goto("/hub/refunds?status=succeeded&lang=tr")
    assert page.get_by_test_id("amount").inner_text() == "15.000 JPY"
    page.goto("/hub/refunds?status=succeeded&lang=en")
    assert page.get_by_test_id("amount").inner_text() == "15,000 JPY"
    page.goto("/hub/refunds?status=failed&lang=tr")
    assert page.get_by_test_id("amount").inner_text() == "100,00 TRY"


def test_an_operator_settles_and_retries_from_the_page_and_the_api_agrees(server, api, context) -> None:
    made = _place(api)
    page = _sign_in(context, token(server.db, "operator"))

    page.goto("/hub/refunds?status=pending&lang=tr")
    page.get_by_test_id(f"refund-{made['JPY pending']['id']}").get_by_test_id("settle-succeeded").click()
    page.wait_for_url("**/hub/refunds?status=succeeded&done=settled")
    assert page.get_by_test_id("done").inner_text() == "Para iadesinin sonucu kaydedildi."
    settled = _ok(api.get(f"/v1/refunds/{made['JPY pending']['id']}"))
    assert settled["status"] == "succeeded" and settled["settled_at"]
    assert made["JPY pending"]["id"] in _tab(page, "succeeded", "tr")

    page.goto("/hub/refunds?status=failed&lang=tr")
    row = page.get_by_test_id(f"refund-{made['TRY failed']['id']}")
    row.get_by_test_id("forced-amount").fill("80,50")
    row.get_by_test_id("retry").click()
    page.wait_for_url("**/hub/refunds?status=pending&done=retried")
    again = [r for r in _ok(api.get(f"/v1/orders/{_number('TRY')}/refunds"))["data"]
             if r["lines"][0]["line_id"] == f"{_number('TRY')}-b" and r["status"] == "pending"]
    assert len(again) == 1, again
    assert (again[0]["amount"], again[0]["forced_amount"]) == ("80.50", "80.50")
    assert again[0]["units"] == made["TRY failed"]["units"]
    assert _ok(api.get(f"/v1/refunds/{made['TRY failed']['id']}"))["status"] == "failed"
    assert _tab(page, "pending", "tr")[again[0]["id"]] == Decimal("80.50")
    cell = page.get_by_test_id(f"refund-{again[0]['id']}").get_by_test_id("amount")
    assert cell.inner_text().startswith("80,50 TRY")


@pytest.mark.parametrize(("lang", "refund"), [("tr", "KWD pending"), ("en", "EUR pending")])
def test_a_second_settle_is_refused_in_the_pages_language_and_changes_nothing(
        server, api, context, lang, refund) -> None:
    made = _place(api)
    refund_id = made[refund]["id"]
    page = _sign_in(context, token(server.db, "operator"))
    page.goto(f"/hub/refunds?status=pending&lang={lang}")
    row = page.get_by_test_id(f"refund-{refund_id}")
    row.wait_for()
    # Another operator (or the payer's report) records the outcome while this page is open.
    _ok(api.post(f"/v1/refunds/{refund_id}/settle", json={"status": "succeeded"}))
    before, recorded = snapshot(server.db), _ok(api.get(f"/v1/refunds/{refund_id}"))

    with page.expect_response(f"**/hub/refunds/{refund_id}/settle") as answer:
        row.get_by_test_id("settle-failed").click()
    assert answer.value.status == 409
    error = page.get_by_test_id("error")
    error.wait_for()
    assert error.get_attribute("data-code") == "refund_already_settled"
    assert error.locator(".lead").inner_text() == REFUSED[lang]
    # The domain's English words: shown on an English page, folded away (closed) on a Turkish one.
    detail = error.get_by_test_id("error-detail")
    assert "already" in detail.text_content()
    assert detail.evaluate("e => e.tagName") == ("P" if lang == "en" else "DETAILS")
    assert detail.locator("xpath=descendant-or-self::p").is_visible() is (lang == "en")
    assert _ok(api.get(f"/v1/refunds/{refund_id}")) == recorded
    assert recorded["status"] == "succeeded"
    assert snapshot(server.db) == before
