"""The hub's sales-channel filters on the cancel-request queue and the orders list, in a real browser
(Debian's headless Chromium through Playwright) against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import snapshot
from tests.support import token, two_line_order

pytestmark = pytest.mark.slow


def _order_with_request(api: httpx.Client, number: str, seller: str, channel: str) -> str:
    assert api.post("/v1/orders", json=two_line_order(number, seller) | {"channel": channel}).status_code == 201
    response = api.post("/v1/cancel-requests", json={
        "order_number": number, "seller_id": seller,
        "lines": [{"line_id": f"{number}-a", "quantity": 1, "reason_id": 136}]})
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


def test_seller_filters_queue_and_orders_by_its_own_channels(server, api, context) -> None:
    web = _order_with_request(api, "6810000001", "acme", "WEB")
    app = _order_with_request(api, "6810000002", "acme", "app")
    _order_with_request(api, "6810000003", "globex", "market")  # another seller's channel is never offered
    page = _sign_in(context, token(server.db, "seller", "acme"))

    # The queue offers exactly the seller's channels, in Turkish; choosing one swaps the table (htmx).
    assert page.locator("label:has(select[name=channel])").inner_text().startswith("Satış kanalı")
    offered = [o.get_attribute("value") for o in page.locator("select[name=channel] option").all()]
    assert offered == ["", "WEB", "app"]
    assert page.locator("tr[data-request]").count() == 2
    page.select_option("select[name=channel]", "app")
    page.wait_for_url("**channel=app**")
    page.wait_for_function("document.querySelectorAll('tr[data-request]').length === 1")
    row = page.locator("tr[data-request]")
    assert row.get_attribute("data-request") == app
    assert "app" in row.locator("td[data-label='Satış kanalı']").inner_text()
    page.goto("/hub/cancel-requests?channel=WEB&lang=en")
    assert page.locator("tr[data-request]").get_attribute("data-request") == web
    assert page.locator("label:has(select[name=channel])").inner_text().startswith("Sales channel")
    assert page.locator("select[name=channel]").input_value() == "WEB"  # the choice stays chosen
    page.goto("/hub/cancel-requests?channel=market")  # globex's channel: nothing of acme's
    assert page.locator("tr[data-request]").count() == 0

    # The orders list shows each order's channel and narrows to the one chosen.
    page.goto("/hub/orders")
    assert page.locator("tbody tr").count() == 2
    shown = {r.locator("td").nth(0).inner_text(): r.locator("td[data-label='Sales channel']").inner_text()
             for r in page.locator("tbody tr").all()}
    assert shown == {"6810000001": "WEB", "6810000002": "app"}
    page.select_option("select[name=channel]", "WEB")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**channel=WEB**")
    assert [r.locator("td").nth(0).inner_text() for r in page.locator("tbody tr").all()] == ["6810000001"]
    assert page.locator("select[name=channel]").input_value() == "WEB"


def test_operator_types_a_channel_until_it_chooses_a_seller(server, api, context) -> None:
    _order_with_request(api, "6820000001", "acme", "WEB")
    _order_with_request(api, "6820000002", "globex", "WEB")
    _order_with_request(api, "6820000003", "globex", "market")
    page = _sign_in(context, token(server.db, "operator"))

    # No seller chosen: a name to type (listing every seller's channels would read every order).
    assert page.locator("select[name=channel]").count() == 0
    page.fill("input[name=channel]", "WEB")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**channel=WEB**")
    page.wait_for_function("document.querySelectorAll('tr[data-request]').length === 2")
    assert sorted(r.inner_text().split()[0] for r in page.locator("tr[data-request] td:nth-child(2)").all()) == \
        ["6820000001", "6820000002"]

    # A seller chosen: its channels to pick from.
    page.goto("/hub/orders?seller=globex")
    assert [o.get_attribute("value") for o in page.locator("select[name=channel] option").all()] == \
        ["", "WEB", "market"]
    page.goto("/hub/orders?seller=globex&channel=market")
    assert [r.locator("td").nth(0).inner_text() for r in page.locator("tbody tr").all()] == ["6820000003"]


def test_a_malformed_channel_is_refused_and_changes_nothing(server, api, context) -> None:
    _order_with_request(api, "6830000001", "acme", "WEB")
    page = _sign_in(context, token(server.db, "seller", "acme"))
    before = snapshot(server.db)
    for path in ("/hub/cancel-requests?channel=no%20spaces", "/hub/orders?channel=-leading-dash"):
        response = page.goto(path)
        assert response.status == 422, path
        assert page.get_by_test_id("error").get_attribute("data-code") == "channel_name_invalid", path
    assert snapshot(server.db) == before
