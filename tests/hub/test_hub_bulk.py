"""Bulk decisions speak the seller's language on every mistake, keep what the seller chose, and
report each outcome by order number and line name."""

from __future__ import annotations

import pytest

from tests.conftest import snapshot
from tests.hub.test_hub_e2e import _request, _sign_in, context  # noqa: F401 - the fixture
from tests.support import csrf_token, token

pytestmark = pytest.mark.slow


def _choose(page, ids: list[str], action: str, note: str = "") -> None:  # noqa: ANN001
    for request_id in ids:
        page.check(f"tr[data-request='{request_id}'] input[name=ids]")
    page.select_option(".bulk-bar select[name=action]", action)
    page.fill(".bulk-bar input[name=note]", note)


def _continue(page) -> int:  # noqa: ANN001
    with page.expect_response("**/hub/cancel-requests/bulk") as answer:
        page.click(".bulk-bar button[type=submit]")
    page.wait_for_load_state()
    return answer.value.status


@pytest.mark.parametrize(("lang", "no_reason", "nothing"), [
    ("tr", "Reddetmek için bir ret sebebi seçin.", "Önce listeden en az bir talep seçin."),
    ("en", "Choose a rejection reason to reject.", "Select at least one request in the list first."),
])
def test_a_mistake_is_said_in_the_sellers_language_and_the_selection_stays(
        server, api, context, lang, no_reason, nothing) -> None:
    ids = [_request(api, f"68000000{n:02d}", "acme", [("a", 1, 136)]) for n in range(3)]
    page = _sign_in(context, token(server.db, "seller", "acme"))
    page.goto(f"/hub/cancel-requests?lang={lang}")
    before = snapshot(server.db)

    _choose(page, ids[:2], "reject", "stok sayımı: ç")
    assert _continue(page) == 422
    assert page.get_by_test_id("bulk-problem").inner_text() == no_reason
    for request_id in ids[:2]:
        assert page.locator(f"tr[data-request='{request_id}'] input[name=ids]").is_checked()
    assert not page.locator(f"tr[data-request='{ids[2]}'] input[name=ids]").is_checked()
    assert page.locator(".bulk-bar select[name=action]").input_value() == "reject"
    assert page.locator(".bulk-bar input[name=note]").input_value() == "stok sayımı: ç"
    text = page.locator("main").inner_text()
    assert "reason_id" not in text and "whole number" not in text and "denial" not in text
    assert snapshot(server.db) == before

    for request_id in ids[:2]:
        page.uncheck(f"tr[data-request='{request_id}'] input[name=ids]")
    assert _continue(page) == 422
    assert page.get_by_test_id("bulk-problem").inner_text() == nothing
    assert snapshot(server.db) == before


def test_a_forged_reason_is_refused_in_turkish_not_with_developer_text(server, api, context) -> None:
    request_id = _request(api, "6810000001", "acme", [("a", 1, 136)])
    page = _sign_in(context, token(server.db, "seller", "acme"))
    before = snapshot(server.db)
    for reason in ("abc", "", "1.5", "136"):  # 136 is a cancel reason, not a denial reason
        answer = context.request.post("/hub/cancel-requests/bulk", form={
            "csrf": csrf_token(page.content()), "ids": request_id, "action": "reject", "reason_id": reason,
            "step": "preview"})
        assert answer.status == 422, reason
        html = answer.text()
        assert "Reddetmek için bir ret sebebi seçin." in html and "whole number" not in html, reason
        assert f'value="{request_id}" aria-label="Seç 6810000001" checked' in html, reason  # still selected
    assert snapshot(server.db) == before


def test_results_name_orders_and_lines_and_a_request_decided_meanwhile_says_so(server, api, context) -> None:
    first = _request(api, "6820000001", "acme", [("a", 1, 136), ("b", 2, 137)])
    second = _request(api, "6820000002", "acme", [("a", 2, 136)])
    page = _sign_in(context, token(server.db, "seller", "acme"))
    _choose(page, [first, second], "approve")
    assert _continue(page) == 200
    assert page.get_by_test_id("confirm-bulk").is_visible()
    api.post(f"/v1/cancel-requests/{second}/approve").raise_for_status()  # someone else decides it first
    page.get_by_test_id("confirm-bulk").click()
    ok = page.locator(f".outcomes li.ok[data-request='{first}']").inner_text()
    assert "Sipariş 6820000001" in ok and "A × 1, B × 2" in ok and "Onaylandı" in ok
    failed = page.locator(f".outcomes li.failed[data-request='{second}']").inner_text()
    assert "Sipariş 6820000002" in failed and "Bu talep zaten karara bağlanmış." in failed
    text = page.locator("main").inner_text()
    assert first not in text and second not in text and "cr_" not in text
    assert "cancel_request_already_decided" not in text
    assert api.get(f"/v1/cancel-requests/{first}").json()["status"] == "approved"
