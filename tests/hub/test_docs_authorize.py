"""`/docs` in a real browser: "Authorize" with a bearer token, then "Try it out" on a `/v1` operation
makes a real call with that token and shows the order it answers."""

from __future__ import annotations

import pytest

from tests.support import order, token

pytestmark = pytest.mark.slow


def test_swagger_ui_authorizes_a_v1_call_with_a_bearer_token(server, api, browser) -> None:  # noqa: ANN001
    assert api.post("/v1/orders", json=order("4000000777")).status_code == 201
    secret = token(server.db, "seller", "acme")
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    sent: list[dict[str, str]] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: sent.append(r.headers) if "/v1/orders/4000000777" in r.url else None)
        page.goto("/docs")
        page.wait_for_selector(".opblock-tag")

        page.locator(".auth-wrapper .authorize").click()
        scheme = page.locator(".auth-container", has_text="bearer")
        scheme.locator("input").fill(secret)
        scheme.locator("button.authorize").click()
        scheme.locator(".btn-done").click()

        path = page.locator(".opblock-summary-path[data-path='/v1/orders/{order_number}']")
        operation = page.locator(".opblock-get", has=path)
        operation.locator(".opblock-summary").click()
        operation.locator(".try-out__btn").click()
        operation.locator("input[placeholder='order_number']").fill("4000000777")
        operation.locator(".execute").click()
        status = operation.locator(".live-responses-table .response .response-col_status")
        status.wait_for()
        shown = status.inner_text().strip()
        body = operation.locator(".live-responses-table .response .highlight-code").inner_text()
    finally:
        context.close()
    assert shown == "200", body
    assert sent and sent[-1]["authorization"] == f"Bearer {secret}"
    assert '"order_number": "4000000777"' in body and '"seller_id": "acme"' in body
