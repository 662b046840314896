"""The hub in a real browser (Debian's headless Chromium through Playwright) against a real server,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import snapshot
from tests.support import token, two_line_order

pytestmark = pytest.mark.slow


def _request(api: httpx.Client, number: str, seller: str, items: list[tuple[str, int, int]]) -> str:
    assert api.post("/v1/orders", json=two_line_order(number, seller) | {"channel": "WEB"}).status_code == 201
    response = api.post("/v1/cancel-requests", json={
        "order_number": number, "seller_id": seller,
        "lines": [{"line_id": f"{number}-{suffix}", "quantity": n, "reason_id": reason}
                  for suffix, n, reason in items]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def context(browser, server) -> Iterator[object]:  # noqa: ANN001
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def _sign_in(context, secret: str):  # noqa: ANN001, ANN202
    page = context.new_page()
    page.goto("/hub/login")
    page.fill("input[name=token]", secret)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/hub/cancel-requests")
    return page


def test_seller_approves_part_of_one_request_rejects_another_and_the_api_agrees(server, api, context) -> None:
    first = _request(api, "6100000001", "acme", [("a", 2, 136), ("b", 3, 137)])
    second = _request(api, "6100000002", "acme", [("a", 1, 136)])
    page = _sign_in(context, token(server.db, "seller", "acme"))

    rows = page.locator("tr[data-request]")
    assert rows.count() == 2
    assert page.locator(f"tr[data-request='{first}'] .badge").inner_text() == "Beklemede"
    assert "WEB" in page.locator(f"tr[data-request='{first}']").inner_text()

    # Approve 1 of 2 units of line a and all 3 of line b, with the live refund preview beside the form.
    page.locator(f"tr[data-request='{first}'] a.button.primary").click()
    page.fill("input[name='qty:6100000001-a']", "1")
    expect(page.get_by_test_id("refund-total")).to_have_text("22,00 TRY")
    page.fill("#approve input[name=note]", "bir adet paketlendi")
    page.get_by_test_id("approve").click()  # 1 × 10.00 + 3 × 4.00 refunded
    assert page.get_by_test_id("status").inner_text() == "Onaylandı"
    assert page.get_by_test_id("approved-6100000001-a").inner_text() == "1"

    # Reject the other with a denial reason and a note.
    page.goto(f"/hub/cancel-requests/{second}")
    page.select_option("select[name=reason_id]", "168")
    page.fill("#reject input[name=note]", "kargoya verildi")
    page.get_by_test_id("reject").click()
    assert page.get_by_test_id("status").inner_text() == "Reddedildi"

    # The native API says the same.
    decided = api.get(f"/v1/cancel-requests/{first}").json()
    assert decided["status"] == "approved" and decided["decision_note"] == "bir adet paketlendi"
    assert {ln["line_id"]: ln["approved_quantity"] for ln in decided["lines"]} == \
        {"6100000001-a": 1, "6100000001-b": 3}
    rejected = api.get(f"/v1/cancel-requests/{second}").json()
    assert rejected["status"] == "rejected"

    # The order page's ledger bars show exactly the native API's ledger, state by state.
    for number in ("6100000001", "6100000002"):
        page.goto(f"/hub/orders/{number}")
        native = api.get(f"/v1/orders/{number}").json()
        assert page.get_by_test_id("order-version").count() == 0  # a seller reads the order, not its version
        for line in native["lines"]:
            shown = {li.get_attribute("data-state"): int(li.get_attribute("data-count"))
                     for li in page.locator(f"[data-line='{line['line_id']}'] .counts li").all()}
            assert shown == {state: n for state, n in line["ledger"].items() if n}, line["line_id"]
            numbered = [(li.get_attribute("data-units"), li.get_attribute("data-state"))
                        for li in page.locator(f"[data-line='{line['line_id']}'] .units li").all()]
            assert numbered == [(str(r["first"]) if r["first"] == r["last"] else f"{r['first']}–{r['last']}",
                                 r["state"])
                                for r in line["units"]], line["line_id"]   # the same units, by number
        events = api.get(f"/v1/orders/{number}/events").json()["data"]
        assert page.locator(".timeline li").count() == len(events)
    page.goto("/hub/orders/6100000001")
    assert page.locator("[data-line='6100000001-a'] .counts li[data-state=cancelled]").get_attribute(
        "data-count") == "1"
    assert page.locator("[data-line='6100000001-a'] .counts li[data-state=open]").get_attribute("data-count") == "1"


def test_bulk_reject_needs_a_preview_step_and_decides_each(server, api, context) -> None:
    ids = [_request(api, f"62000000{n:02d}", "acme", [("a", 1, 136)]) for n in range(3)]
    page = _sign_in(context, token(server.db, "seller", "acme"))
    for request_id in ids[:2]:
        page.check(f"tr[data-request='{request_id}'] input[name=ids]")
    page.select_option(".bulk-bar select[name=action]", "reject")
    page.select_option(".bulk-bar select[name=reason_id]", "169")
    page.click(".bulk-bar button[type=submit]")
    before = snapshot(server.db)  # the confirmation step has changed nothing yet
    assert page.get_by_test_id("confirm-bulk").is_visible()
    assert snapshot(server.db) == before
    page.get_by_test_id("confirm-bulk").click()
    assert page.locator(".outcomes li.ok").count() == 2
    statuses = [api.get(f"/v1/cancel-requests/{i}").json()["status"] for i in ids]
    assert statuses == ["rejected", "rejected", "pending"]


def test_another_sellers_order_looks_exactly_like_a_missing_one(server, api, context) -> None:
    theirs = _request(api, "6300000001", "globex", [("a", 1, 136)])
    page = _sign_in(context, token(server.db, "seller", "acme"))
    other = page.goto("/hub/orders/6300000001")
    other_text = page.get_by_test_id("error").inner_text()
    missing = page.goto("/hub/orders/6300000001?seller=globex")  # naming the seller does not widen a seller's scope
    assert other.status == missing.status == 404
    assert page.get_by_test_id("error").inner_text() == other_text
    nowhere = page.goto("/hub/orders/6399999999")
    assert nowhere.status == 404 and page.get_by_test_id("error").inner_text() == other_text
    assert page.goto(f"/hub/cancel-requests/{theirs}").status == 404
    assert "Traceback" not in page.content()
    page.goto("/hub/cancel-requests")
    assert page.locator("tr[data-request]").count() == 0  # globex's request is not in acme's queue


def test_form_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(server, api, context) -> None:
    request_id = _request(api, "6400000001", "acme", [("a", 2, 136)])
    page = _sign_in(context, token(server.db, "seller", "acme"))
    before = snapshot(server.db)
    for form in ({}, {"csrf": "forged"}):
        for path, data in ((f"/hub/cancel-requests/{request_id}/approve", {"qty:6400000001-a": "2"}),
                           (f"/hub/cancel-requests/{request_id}/reject", {"reason_id": "168"}),
                           ("/hub/cancel-requests/bulk", {"ids": request_id, "action": "approve", "step": "confirm"}),
                           ("/hub/logout", {})):
            response = context.request.post(path, form=data | form, max_redirects=0)
            assert response.status == 403, (path, response.status)
            assert 'data-code="csrf_failed"' in response.text()
    # The browser's own form, with its token taken out, gets the 403 page too.
    page.goto(f"/hub/cancel-requests/{request_id}")
    page.evaluate("document.querySelectorAll('#reject input[name=csrf]').forEach(e => e.remove())")
    page.select_option("select[name=reason_id]", "168")
    with page.expect_response(f"**/{request_id}/reject") as answer:
        page.get_by_test_id("reject").click()
    assert answer.value.status == 403
    assert page.get_by_test_id("error").get_attribute("data-code") == "csrf_failed"
    assert snapshot(server.db) == before
    assert api.get(f"/v1/cancel-requests/{request_id}").json()["status"] == "pending"


def test_sign_in_form_needs_its_csrf_token_and_wrong_credentials_are_told(server, context) -> None:
    secret = token(server.db, "seller", "acme")
    refused = context.request.post("/hub/login", form={"token": secret}, max_redirects=0)
    assert refused.status == 403 and "kalem_hub=" not in (refused.headers.get("set-cookie") or "")
    page = context.new_page()
    page.goto("/hub/login")
    page.fill("input[name=token]", "kalem_not-a-token")
    page.click("button[type=submit].primary")
    assert page.locator(".alert.error").inner_text() == "Giriş bilgileri geçersiz."
    assert page.goto("/hub/cancel-requests").url.endswith("/hub/login?next=%2Fhub%2Fcancel-requests")


def test_operator_sees_every_seller_and_filters_by_one_in_english(server, api, context) -> None:
    _request(api, "6500000001", "acme", [("a", 1, 136)])
    _request(api, "6500000002", "globex", [("b", 2, 137)])
    page = _sign_in(context, token(server.db, "operator"))
    assert page.locator("tr[data-request]").count() == 2
    page.goto("/hub/cancel-requests?lang=en")
    assert page.locator("h1").inner_text() == "Cancel requests"
    page.select_option("select[name=seller]", "globex")  # htmx swaps the table and pushes the URL
    page.wait_for_url("**seller=globex**")
    page.wait_for_function("document.querySelectorAll('tr[data-request]').length === 1")
    assert "6500000002" in page.locator("tr[data-request]").inner_text()
    page.goto("/hub/cancel-requests?q=0001")
    assert page.locator("h1").inner_text() == "Cancel requests"  # the language stays (cookie)
    assert page.locator("tr[data-request]").count() == 1
    page.goto("/hub/cancel-requests?reason=137")
    assert "6500000002" in page.locator("tr[data-request]").inner_text()
    assert page.goto("/hub/cancel-requests?from=yesterday").status == 422


def test_pages_fit_a_phone(server, api, browser) -> None:
    request_id = _request(api, "6600000001", "acme", [("a", 2, 136), ("b", 1, 137)])
    ctx = browser.new_context(base_url=server.url, viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        page = _sign_in(ctx, token(server.db, "seller", "acme"))
        for path in ("/hub/cancel-requests", f"/hub/cancel-requests/{request_id}", "/hub/orders/6600000001",
                     "/hub/orders/nope"):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
    finally:
        ctx.close()
