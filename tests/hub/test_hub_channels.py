"""The Channels page in a real headless Chromium, in Turkish and in English: a seller's n11 account shows
its health in words, a dead push sent again from the page, and the drift found by a reconciliation,
resolved from the page by taking the platform's state on one order and pushing kalem's on another.

The platform is this same kalem's n11 face, holding the orders of another seller ("shop") whose n11
key pair the account uses: kalem reads them as n11 shows them, over real HTTP."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from kalem.app import channel_reconcile
from kalem.bootstrap.platforms import connectors
from kalem.hub.i18n import EN, TR
from kalem.platforms.n11 import key_pairs
from kalem.store.channel_accounts import DEAD
from kalem.store.uow import UnitOfWork
from tests.channels.test_n11_kalem_to_kalem import cancel_on_a_as_n11, six_units
from tests.hub.test_hub_e2e import _sign_in, context  # noqa: F401 - the fixture
from tests.support import token

pytestmark = pytest.mark.slow

SAME = "6950000001"      # on the platform (shop's) and in kalem (acme's): they will differ
ONLY_KALEM = "6950000002"


@pytest.mark.parametrize("lang", ["tr", "en"])
def test_a_seller_sees_its_channel_health_and_resolves_drift_from_the_hub(server, api, context, lang) -> None:  # noqa: F811
    labels = {"tr": TR, "en": EN}[lang]
    uow = partial(UnitOfWork, server.db)
    keys = key_pairs.create_key_pair(uow(), seller_id="shop", new_seller=True)
    assert api.post("/v1/orders", json=six_units(SAME, "shop", channel="n11")).status_code == 201
    cancel_on_a_as_n11(SimpleNamespace(base=server.url), keys, SAME)   # n11 shows one unit cancelled
    made = api.post("/v1/channel-accounts", json={"platform": "n11", "base_url": server.url, "seller_id": "acme",
                                                  "credentials": {"appkey": keys[0], "appsecret": keys[1]}})
    assert made.status_code == 201, made.text
    account = made.json()["id"]
    assert api.post("/v1/orders", json=six_units("6950000003", "globex")).status_code == 201
    for number in (SAME, ONLY_KALEM):
        assert api.post("/v1/orders", json=six_units(number, "acme", channel="n11")).status_code == 201
    line = api.get(f"/v1/orders/{ONLY_KALEM}?seller_id=acme").json()["lines"][0]["line_id"]
    assert api.post(f"/v1/orders/{ONLY_KALEM}/cancellations?seller_id=acme", json={"lines": [
        {"line_id": line, "quantity": 1, "reason_id": 135}]}).status_code == 200
    [push] = api.get(f"/v1/channel-accounts/{account}/pushes").json()["data"]
    with uow() as unit:   # what the sync records when n11 refuses the credentials and a push is given up
        unit.channel_accounts.failed(account, now=unit.now(), kind="credentials_rejected", message="n11 refused",
                                     next_pull_at=None)
        unit.channel_accounts.finish(push["id"], status=DEAD, now=unit.now(), kind="unreadable_answer",
                                     message="n11's answer is not one kalem knows", body="<html>")
        unit.commit()
    [report] = channel_reconcile.reconcile(uow, connectors())
    assert sorted(d["order_number"] for d in report.drift) == [SAME, ONLY_KALEM]

    page = _sign_in(context, token(server.db, "seller", "acme"))
    page.goto(f"/hub/channels?lang={lang}")
    assert page.locator("h1").inner_text() == labels["channels.title"]
    assert page.locator("header nav").get_by_text(labels["nav.channels"]).is_visible()
    card = page.locator(f"section[data-account='{account}']")
    expect(card.get_by_test_id("state")).to_have_text(labels["channels.failing"])
    expect(card.get_by_test_id("last-error")).to_contain_text(labels["channels.error_kind.credentials_rejected"])
    expect(card.get_by_test_id("failures")).to_have_text("1")
    assert keys[1] not in page.content()

    # The dead push, sent again.
    card.locator(f"tr[data-push='{push['id']}'] [data-testid=replay]").click()
    expect(page.get_by_test_id("done")).to_have_text(labels["channels.done.replayed"])
    assert api.get(f"/v1/channel-accounts/{account}/pushes").json()["data"][0]["status"] == "pending"

    # The drift: on SAME n11 shows a unit cancelled that kalem holds open; ONLY_KALEM n11 does not show.
    drift = {d["order_number"]: d["id"] for d in api.get(f"/v1/channel-accounts/{account}/drift").json()["data"]}
    same = page.locator(f"tr[data-drift='{drift[SAME]}']")
    expect(same.get_by_test_id("on-platform")).to_contain_text(f"{labels['channels.count.cancelled']} 1")
    expect(same.get_by_test_id("in-kalem")).to_contain_text(f"{labels['channels.count.cancelled']} 0")
    expect(page.locator(f"tr[data-drift='{drift[ONLY_KALEM]}'] [data-testid=on-platform]")) \
        .to_have_text(labels["channels.not_shown"])
    same.get_by_test_id("take-platform").click()
    expect(page.get_by_test_id("done")).to_have_text(labels["channels.done.take_platform"])
    assert api.get(f"/v1/orders/{SAME}?seller_id=acme").json()["lines"][0]["ledger"]["cancelled"] == 1
    assert [d["order_number"] for d in api.get(f"/v1/channel-accounts/{account}/drift").json()["data"]] \
        == [ONLY_KALEM]

    page.locator(f"tr[data-drift='{drift[ONLY_KALEM]}'] [data-testid=push-kalem]").click()
    expect(page.get_by_test_id("done")).to_have_text(labels["channels.done.push_kalem"])
    expect(card.get_by_test_id("no-drift")).to_have_text(labels["channels.drift_empty"])
    assert api.get(f"/v1/channel-accounts/{account}/drift").json()["data"] == []
    assert [p["status"] for p in api.get(f"/v1/channel-accounts/{account}/pushes").json()["data"]] == ["pending"]

    # Another seller sees none of it.
    other = _sign_in(context.browser.new_context(base_url=server.url), token(server.db, "seller", "globex"))
    other.goto(f"/hub/channels?lang={lang}")
    expect(other.get_by_test_id("empty")).to_have_text(labels["channels.empty"])
    other.context.close()
