"""The n11 connector's pull streams: it reads the next page of n11's window only once the orders of the
page before have been used, so a pull of any size holds one page of orders (bench/channels.py measures
the sync's memory from 10,000 to 100,000 pulled orders)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx

from kalem.platforms.n11 import key_pairs
from kalem.platforms.n11.connector import SHIPMENT_PACKAGES, N11Connector
from kalem.store.channel_accounts import ChannelAccount
from kalem.store.uow import UnitOfWork
from tests.support import order

NUMBERS = [f"41000000{i:02d}" for i in range(1, 6)]


class Recording(httpx.HTTPTransport):
    """httpx's own transport, keeping the query of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[dict[str, list[str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == SHIPMENT_PACKAGES:
            self.queries.append(parse_qs(request.url.query.decode()))
        return super().handle_request(request)

    def window_pages(self) -> list[str]:
        """The pages of the date window asked for so far (not the per-order reads)."""
        return [q["page"][0] for q in self.queries if "startDate" in q]


def account(base_url: str, keys: tuple[str, str]) -> ChannelAccount:
    now = datetime.now(UTC)
    return ChannelAccount(id="chacc_test", seller_id="acme", platform="n11", channel="n11", base_url=base_url,
                          enabled=True, created_at=now, watermark=None, next_pull_at=now, last_success_at=None,
                          last_error_at=None, last_error_kind=None, last_error=None, consecutive_failures=0,
                          credential_names=("appkey", "appsecret"),
                          credentials={"appkey": keys[0], "appsecret": keys[1]})


def test_pull_reads_the_next_page_only_after_the_orders_of_the_page_before(server: Any, api: httpx.Client) -> None:
    keys = key_pairs.create_key_pair(UnitOfWork(server.db), seller_id="acme")
    for number in NUMBERS:
        assert api.post("/v1/orders", json=order(number, channel="n11")).status_code == 201
    transport = Recording()
    pulled = N11Connector(page_size=2, transport=transport).pull(account(server.url, keys), None)
    orders = iter(pulled.orders)

    first = next(orders)
    assert first.spec.order_number == NUMBERS[0]
    assert transport.window_pages() == ["0"], "the pull read past the page it was taking in"
    second = next(orders)
    assert transport.window_pages() == ["0"]
    third = next(orders)  # the first order of the next page
    assert transport.window_pages() == ["0", "0"]  # it starts at the last change the page before showed

    rest = list(orders)
    assert [o.spec.order_number for o in (first, second, third, *rest)] == NUMBERS  # each once, oldest first
    assert len(transport.window_pages()) == 4   # pages of two, each starting at the last one read
    newest = max(p["lastModifiedDate"] for number in NUMBERS for p in httpx.get(
        server.url + SHIPMENT_PACKAGES, params={"orderNumber": number},
        headers={"appkey": keys[0], "appsecret": keys[1]}).json()["content"])
    assert pulled.final_watermark() == str(newest)


def test_a_pull_does_not_read_again_what_the_sync_took_in_unchanged(server: Any, api: httpx.Client) -> None:
    """The next pull starts at the last change seen, inclusive; the packages there (many may share that
    millisecond) that this sync took in, unchanged since, are not read or taken in again."""
    keys = key_pairs.create_key_pair(UnitOfWork(server.db), seller_id="acme")
    for number in NUMBERS:
        assert api.post("/v1/orders", json=order(number, channel="n11")).status_code == 201
    transport = Recording()
    connector = N11Connector(page_size=2, transport=transport)
    first = connector.pull(account(server.url, keys), None)
    assert [o.spec.order_number for o in first.orders] == NUMBERS
    transport.queries.clear()

    again = connector.pull(account(server.url, keys), first.final_watermark())
    assert list(again.orders) == []
    assert transport.window_pages() == ["0"]                          # the window from the watermark
    assert not [q for q in transport.queries if "orderNumber" in q]   # and no order read again

    fresh = N11Connector(page_size=2, transport=transport)            # another sync: it reads them again
    assert [o.spec.order_number for o in fresh.pull(account(server.url, keys), first.final_watermark()).orders]


def test_a_package_changed_during_the_pull_moves_nothing_unread_onto_a_page_already_read(
        server: Any, api: httpx.Client) -> None:
    """Oldest change first, a package changed mid-pull goes to the end of the window. Paged by number,
    every package after its old place would slide one page back, and the one at the page's edge would
    never be read (nor by the next pull, which starts after the newest change seen)."""
    keys = key_pairs.create_key_pair(UnitOfWork(server.db), seller_id="acme")
    for number in NUMBERS:
        assert api.post("/v1/orders", json=order(number, channel="n11")).status_code == 201
    pulled = N11Connector(page_size=2).pull(account(server.url, keys), None)
    orders = iter(pulled.orders)
    taken = [next(orders).spec.order_number, next(orders).spec.order_number]   # the first page
    shipped = api.post(f"/v1/orders/{NUMBERS[0]}/packages/BB_pid{NUMBERS[0][-6:]}/status",   # on A, mid-pull
                       json={"status": "Shipped", "cargo_tracking_number": "TRK1"})
    assert shipped.status_code == 200, shipped.text
    taken += [o.spec.order_number for o in orders]
    assert set(taken) == set(NUMBERS), f"never read: {set(NUMBERS) - set(taken)}"
