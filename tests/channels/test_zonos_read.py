"""The Zonos connector's `read` (reconciliation) against kalem's Zonos face: an order the face holds is
shown unit by unit; an order it does not hold is None, told by the face's own `ORDER_NOT_FOUND`
extension code and by nothing else — any other GraphQL error, even one whose code ends the same way,
is a failure to read, never an order missing on Zonos."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from kalem.app.channel_connectors import REFUSED, ChannelFailure
from kalem.domain.orders import Order
from kalem.platforms.zonos.connector import ZonosConnector
from kalem.store.channel_accounts import ChannelAccount
from kalem.store.uow import UnitOfWork
from tests.support import order, token


def account(base_url: str, credential: str) -> ChannelAccount:
    now = datetime.now(UTC)
    return ChannelAccount(id="cha_zonos", seller_id="acme", platform="zonos", channel="zonos", base_url=base_url,
                          enabled=True, created_at=now, watermark=None, next_pull_at=now, last_success_at=None,
                          last_error_at=None, last_error_kind=None, last_error=None, consecutive_failures=0,
                          credential_names=("credentialToken", "webhookSecret"),
                          credentials={"credentialToken": credential, "webhookSecret": "whsec_dGVzdA=="})


def as_zonos_shows(placed: Order) -> Order:
    """The order as a kalem merchant of Zonos holds it: numbered with the Zonos order id."""
    return replace(placed, order_number="order_" + placed.id.removeprefix("ord_"))


def placed(server: Any, api: httpx.Client) -> Order:
    assert api.post("/v1/orders", json=order("4300000101", channel="zonos")).status_code == 201
    with UnitOfWork(server.db) as unit:
        return unit.orders.get("4300000101", "acme")


def test_read_shows_the_order_and_none_for_an_order_zonos_does_not_hold(server: Any, api: httpx.Client) -> None:
    mine = as_zonos_shows(placed(server, api))
    seller = account(server.url, token(server.db))
    view = ZonosConnector().read(seller, mine)
    assert view is not None
    [line] = mine.lines
    assert view.lines["item_" + line.line_id].alive == line.ledger.alive == line.quantity
    unknown = replace(mine, order_number="order_00000000-0000-0000-0000-000000000000")
    assert ZonosConnector().read(seller, unknown) is None


@pytest.mark.parametrize("code", ["CHANNEL_ACCOUNT_NOT_FOUND", "LINE_NOT_FOUND", ""])
def test_any_other_error_is_a_failure_to_read_not_a_missing_order(server: Any, api: httpx.Client, code: str) -> None:
    mine = as_zonos_shows(placed(server, api))
    answer = {"data": None, "errors": [{"message": "something else", "extensions": {"code": code} if code else {}}]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=json.dumps(answer).encode()))
    with pytest.raises(ChannelFailure) as failed:
        ZonosConnector(transport=transport).read(account(server.url, token(server.db)), mine)
    assert failed.value.kind == REFUSED
