"""The n11 face shows orderLineIds without writing: a read changes no row, the ids are the same on
every read and in every process, two orders' ids never meet, ids stored by an earlier version are kept,
and an order asked by number is shown however old it is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from kalem.app.orders import PlaceOrder, place_order
from kalem.app.principals import Principal
from kalem.domain.events.event import Actor
from kalem.domain.orders.order import LineSpec, OrderSpec, PackageItem, PackageSpec, PackageStatus
from kalem.domain.orders.order import place_order as domain_place
from kalem.platforms.n11 import line_ids
from kalem.platforms.n11.store import n11_line_ids
from kalem.store import sealed
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from tests.conftest import serving, snapshot
from tests.dialects.test_n11 import N11, n11, one, post  # noqa: F401 (n11 is a fixture)


def ids(n11: N11, **params) -> dict[tuple[str, str], int]:
    return {(p["id"], ln["stockCode"]): ln["orderLineId"] for p in n11.packages(**params) for ln in p["lines"]}


def test_reading_writes_nothing_even_after_splits(n11, db, api):
    before = snapshot(db)
    shown = ids(n11)
    assert len(shown) == 4 and all(i >= line_ids.BASE for i in shown.values())
    assert ids(n11, orderNumber="N11-1") and snapshot(db) == before
    # A split made natively, then one through the face: reading the new packages writes nothing either.
    split = api.post("/v1/orders/N11-2/packages/PKG-2/split",
                     json={"packages": [{"items": [{"line_id": "L50", "quantity": 1}]}]})
    assert split.status_code == 200, split.text
    made = post(n11, json.dumps(one(n11.line_id("PKG-1", "L86"), 1)))
    assert made.status_code == 200, made.text
    before = snapshot(db)
    after = ids(n11)
    assert len(after) == 9 and snapshot(db) == before
    assert not snapshot(db)["n11_line_ids"] and not snapshot(db)["n11_carried_line_ids"]
    # The split's answer and every later read agree.
    for item in made.json()["splitPackageOrderItems"]:
        assert after[(item["packageId"], item["stockCode"])] == item["orderLineId"]


def test_ids_are_the_same_on_every_read_and_in_another_process(n11, server):
    first = ids(n11)
    assert first == ids(n11) and len(set(first.values())) == len(first)
    other = Database.connect(server.settings.database_url, sealer=sealed.from_settings(server.settings))
    try:
        with serving(server.settings, other) as url, httpx.Client(base_url=url, timeout=30,
                                                                  headers=dict(n11.client.headers)) as again:
            assert ids(N11(again, n11.api)) == first
    finally:
        other.dispose()


def test_ids_of_two_orders_never_meet(n11, db):
    one_order, another = ids(n11, orderNumber="N11-1"), ids(n11, orderNumber="N11-2")
    assert one_order and another and not set(one_order.values()) & set(another.values())
    # An id the order does not carry (the next place of its block, the block of an order that does not
    # exist) is not found, and changes nothing.
    before = snapshot(db)
    for stray in (max(one_order.values()) + 1, line_ids.BASE + 10**6 * line_ids.BLOCK + 1, line_ids.BASE):
        refused = post(n11, json.dumps(one(stray, 1)))
        assert refused.status_code == 400 and refused.json()["errorCode"] == "SELLER_API.orderLineNotFound", stray
    assert snapshot(db) == before


def test_ids_stored_by_an_earlier_version_are_kept(n11, db):
    """Parts numbered before ids were computed keep their numbers, also over a split; the new parts a
    split makes get computed ones."""
    order_id = n11.api.get("/v1/orders/N11-1").json()["id"]
    with db.engine.begin() as conn:
        for order_line_id, line in ((7, "L86"), (8, "L87")):
            conn.execute(sa.insert(n11_line_ids).values(
                order_line_id=order_line_id, seller_id="acme", order_id=order_id, package_id="PKG-1", line_id=line,
                created_at=datetime.now(UTC)))
    assert ids(n11, orderNumber="N11-1") == {("PKG-1", "SKU-L86"): 7, ("PKG-1", "SKU-L87"): 8}
    made = post(n11, json.dumps(one(7, 1)))
    assert made.status_code == 200, made.text
    items = {(i["stockCode"], i["quantity"]): i["orderLineId"] for i in made.json()["splitPackageOrderItems"]}
    assert items[("SKU-L86", 1)] == 7 and items[("SKU-L87", 3)] == 8   # carried to the parts holding unit 1
    assert items[("SKU-L86", 3)] >= line_ids.BASE
    shown = ids(n11, orderNumber="N11-1")
    assert sorted(shown.values()) == sorted([7, 8, *items.values()])
    # 7 now names the new one-unit package: splitting it again is refused, as n11 refuses it.
    again = post(n11, json.dumps(one(7, 1)))
    assert again.status_code == 400 and again.json()["errorCode"] == "SELLER_API.nothingToSplit", again.text


def test_an_order_asked_by_number_is_shown_however_old(n11, db):
    """n11's documentation windows a search by its dates; one order asked by its number alone is shown
    even when its packages last changed more than a month ago."""
    old = datetime.now(UTC) - timedelta(days=90)
    spec = OrderSpec("acme", "N11-OLD", "TRY", (LineSpec("L1", "SKU-L1", "L1", 2, Decimal("10")),),
                     (PackageSpec("PKG-OLD", PackageStatus.PICKING, (PackageItem("L1", 2),)),), channel="n11")
    place_order(UnitOfWork(db, clock=lambda: old), PlaceOrder(spec, Principal("operator", "test")))
    assert "PKG-OLD" not in {p["id"] for p in n11.packages()}        # the default window: the last month
    shown = n11.packages(orderNumber="N11-OLD")
    assert [p["id"] for p in shown] == ["PKG-OLD"] and shown[0]["orderNumber"] == "N11-OLD"
    # With dates, the documented window rules hold for a search by number too.
    assert n11.packages(orderNumber="N11-OLD", endDate=int(datetime.now(UTC).timestamp() * 1000)) == []
    # The id shown names the part: it can be split by it.
    line = shown[0]["lines"][0]["orderLineId"]
    assert post(n11, json.dumps(one(line, 1))).status_code == 200
    assert len(n11.packages(orderNumber="N11-OLD")) == 3



def test_the_ids_of_an_order_stay_in_its_block(monkeypatch):
    """Place p × lines + line of the order's block: a (package, line) past the block is refused, never
    given an id of the next order."""
    lines = tuple(LineSpec(f"L{i}", f"S{i}", f"L{i}", 2, Decimal("10")) for i in (0, 1))
    spec = OrderSpec("acme", "N11-B", "TRY", lines,
                     tuple(PackageSpec(f"P{p}", PackageStatus.PICKING, (PackageItem("L0", 1), PackageItem("L1", 1)))
                           for p in (0, 1)))
    order = domain_place(spec, order_id="ord_b", actor=Actor("operator", "test"), now=datetime.now(UTC))[0]
    base = line_ids.BASE + 3 * line_ids.BLOCK
    assert line_ids.numbering(order, 3, {}) == {("ord_b", "P0", "L0"): base + 1, ("ord_b", "P0", "L1"): base + 2,
                                                ("ord_b", "P1", "L0"): base + 3, ("ord_b", "P1", "L1"): base + 4}
    monkeypatch.setattr(line_ids, "BLOCK", 4)
    with pytest.raises(line_ids.TooManyPackageLines):
        line_ids.numbering(order, 3, {})
