"""The Integrations page in a real headless Chromium, in Turkish and in English: a seller makes a
token (shown once; it works on the API), revokes it, subscribes a URL (its signing secret shown once),
pauses it, sends a delivery again and deletes the subscription — and another seller sees none of it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from kalem.hub.i18n import EN, TR
from tests.hub.test_hub_e2e import _sign_in, context  # noqa: F401 - the fixture
from tests.support import client_for, order, token

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("lang", ["tr", "en"])
def test_a_seller_manages_its_integrations_from_the_hub(server, api, context, lang) -> None:  # noqa: F811
    labels = {"tr": TR, "en": EN}[lang]
    assert api.post("/v1/orders", json=order("6900000001", seller="globex")).status_code == 201
    page = _sign_in(context, token(server.db, "seller", "acme"))
    page.goto(f"/hub/integrations?lang={lang}")
    assert page.locator("h1").inner_text() == labels["integrations.title"]
    assert page.locator("header nav").get_by_text(labels["nav.integrations"]).is_visible()

    # A token: its secret once, and it works on the API as acme.
    page.fill("[data-testid=token-form] input[name=name]", "ERP")
    page.get_by_test_id("create-token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text(labels["integrations.secret_once"])
    secret = page.get_by_test_id("new-token-secret").inner_text()
    with client_for(api, secret) as made:
        assert made.get("/v1/orders").status_code == 200
        made_id = next(t["id"] for t in api.get("/v1/tokens").json()["data"] if t["name"] == "ERP")
        assert api.get("/v1/tokens").json()["data"][0]["seller_id"] == "acme"
        page.goto(f"/hub/integrations?lang={lang}")
        assert secret not in page.content()   # never shown again
        page.locator(f"tr[data-token='{made_id}'] [data-testid=revoke]").click()
        expect(page.get_by_test_id("done")).to_have_text(labels["integrations.done.revoked"])
        expect(page.locator(f"tr[data-token='{made_id}'] .badge")).to_have_text(labels["integrations.revoked"])
        assert made.get("/v1/orders").json()["error"]["code"] == "credentials_invalid"

    # A subscription: its signing secret once; an order of acme's queues a delivery shown below it.
    page.fill("[data-testid=subscription-form] input[name=url]", "http://127.0.0.1:9/acme-hooks")
    page.get_by_test_id("create-subscription").click()
    expect(page.get_by_test_id("new-subscription")).to_contain_text(labels["integrations.signing_secret_once"])
    assert page.get_by_test_id("new-subscription-secret").inner_text().startswith("whsec_")
    [sub] = api.get("/v1/webhook-subscriptions").json()["data"]
    assert sub["seller_id"] == "acme"
    assert api.post("/v1/orders", json=order("6900000002", seller="acme")).status_code == 201
    page.goto(f"/hub/integrations?lang={lang}")
    row = page.locator("[data-testid=deliveries] tr[data-delivery]")
    expect(row).to_have_count(1)   # acme's order only, not globex's
    expect(row.locator(".badge")).to_have_text(labels["delivery_status.pending"])
    row.get_by_test_id("redeliver").click()
    expect(page.get_by_test_id("done")).to_have_text(labels["integrations.done.redelivered"])

    page.locator(f"tr[data-subscription='{sub['id']}'] [data-testid=toggle]").click()
    expect(page.get_by_test_id("done")).to_have_text(labels["integrations.done.paused"])
    assert api.get(f"/v1/webhook-subscriptions/{sub['id']}").json()["enabled"] is False
    expect(page.locator(f"tr[data-subscription='{sub['id']}'] [data-testid=toggle]")) \
        .to_have_text(labels["integrations.resume"])

    # Another seller's page shows none of it.
    other = _sign_in(context.browser.new_context(base_url=server.url), token(server.db, "seller", "globex"))
    other.goto(f"/hub/integrations?lang={lang}")
    assert sub["id"] not in other.content() and made_id not in other.content()
    other.context.close()

    page.locator(f"tr[data-subscription='{sub['id']}'] [data-testid=delete]").click()
    expect(page.get_by_test_id("done")).to_have_text(labels["integrations.done.deleted"])
    assert api.get("/v1/webhook-subscriptions").json()["data"] == []


def test_a_form_posted_without_its_csrf_token_changes_nothing(server, api, context) -> None:  # noqa: F811
    page = _sign_in(context, token(server.db, "seller", "acme"))
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    with httpx.Client(base_url=server.url, cookies=cookies, timeout=30) as forged:
        response = forged.post("/hub/integrations/tokens", data={"name": "forged"})
    assert response.status_code == 403 and 'data-code="csrf_failed"' in response.text
    assert [t["name"] for t in api.get("/v1/tokens").json()["data"]] == [None]   # the sign-in token only
    assert page.url.endswith("/hub/cancel-requests")
