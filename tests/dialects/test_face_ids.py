"""The Akinon and Hebiar faces show integer ids without writing: reading an order through either face
changes no row, its ids are the same on every read and in every process, and a page of orders stops
before it shows more units than a page may (docs/security.md)."""

from __future__ import annotations

import httpx

from kalem.app import access
from kalem.platforms.akinon import pks
from kalem.platforms.hebiar import reads
from kalem.store import sealed
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from tests.conftest import serving, snapshot
from tests.refunds.test_akinon import akinon, read
from tests.support import client_for, order


def hebiar_client(api, db) -> httpx.Client:
    access.create_user(UnitOfWork(db), username="oms", password="secret-pass", role="operator", seller_id=None)
    login = api.post("/Auth/login", json={"UserName": "oms", "Password": "secret-pass"})
    return client_for(api, login.json()["token"])


def hebiar_ids(client, number="4000000001") -> list[int]:
    data = client.get("/orders/GetOrderPackages", params={"OrderNumber": number}).json()["data"]
    return [i for p in data for i in (p["id"], *(
        x for line in p["lines"] for x in (line["id"], *(u["id"] for u in line["itemLines"]),
                                           *(u["orderItemId"] for u in line["itemLines"]),
                                           *(u["orderId"] for u in line["itemLines"]))))]


def akinon_ids(client, number="4000000001") -> list[int]:
    o = read(client, number)
    return [o["pk"], *(i["pk"] for i in o["orderitem_set"])]


def test_reading_a_fresh_order_through_either_face_writes_nothing(server, api, db):
    ak, hb = akinon(server, db), hebiar_client(api, db)
    assert api.post("/v1/orders", json=order()).status_code == 201
    before = snapshot(db)
    o = read(ak, "4000000001")
    assert ak.get(f"/api/v1/orders/{o['pk']}/").status_code == 200
    assert ak.get("/api/v1/orders/").json()["count"] == 1
    assert ak.get(f"/api/i1/orders_integration/{o['pk']}/detailed_integration/").status_code == 200
    assert hebiar_ids(hb)
    assert snapshot(db) == before   # no id row minted, nothing else written


def test_ids_are_the_same_on_every_read_and_in_another_process(server, api, db):
    ak, hb = akinon(server, db), hebiar_client(api, db)
    api.post("/v1/orders", json=order())
    first_akinon, first_hebiar = akinon_ids(ak), hebiar_ids(hb)
    assert len(set(first_akinon)) == 4 and first_akinon == akinon_ids(ak)
    assert len(set(first_hebiar)) > 3 and first_hebiar == hebiar_ids(hb)
    # Another API process on the same database (its own connections and caches) shows the same ids.
    other = Database.connect(server.settings.database_url, sealer=sealed.from_settings(server.settings))
    try:
        with serving(server.settings, other) as url, httpx.Client(base_url=url, timeout=30) as again:
            token = {"Authorization": ak.headers["Authorization"]}
            assert akinon_ids(httpx.Client(base_url=url, timeout=30, headers=token)) == first_akinon
            login = again.post("/Auth/login", json={"UserName": "oms", "Password": "secret-pass"}).json()["token"]
            assert hebiar_ids(httpx.Client(base_url=url, timeout=30,
                                           headers={"Authorization": f"Bearer {login}"})) == first_hebiar
    finally:
        other.dispose()
    # A cancel through Akinon names the unit by the pk a read showed; the next read shows the same pks.
    o = read(ak, "4000000001")
    item = o["orderitem_set"][1]["pk"]
    r = ak.post(f"/api/i1/orders/{o['pk']}/cancel/", json={
        "order": o["pk"], "cancel_items": [item], "forced_refund_amount": None, "reasons": {str(item): 136}})
    assert r.status_code == 200, r.text
    assert akinon_ids(ak) == first_akinon
    assert [i["status"] for i in read(ak, "4000000001")["orderitem_set"]] == ["400", "100", "400"]


def test_ids_of_two_orders_never_meet(server, api, db):
    ak, hb = akinon(server, db), hebiar_client(api, db)
    api.post("/v1/orders", json=order("4000000001"))
    api.post("/v1/orders", json=order("4000000002"))
    assert not set(akinon_ids(ak, "4000000001")) & set(akinon_ids(ak, "4000000002"))
    assert not set(hebiar_ids(hb, "4000000001")) & set(hebiar_ids(hb, "4000000002"))
    # An item pk of one order is not an item of the other.
    other = read(ak, "4000000002")
    stray = akinon_ids(ak, "4000000001")[1]
    r = ak.post(f"/api/i1/orders/{other['pk']}/cancel/", json={
        "order": other["pk"], "cancel_items": [stray], "forced_refund_amount": None, "reasons": {str(stray): 136}})
    assert r.status_code == 400 and r.json()["code"] == "invalid", r.text
    assert ak.get(f"/api/v1/orders/{stray}/").status_code == 404   # a unit's pk names no order


def large(number: str, units: int) -> dict:
    body = order(number)
    body["lines"][0]["quantity"] = units
    body["packages"][0]["items"][0]["quantity"] = units
    return body


def test_a_page_of_orders_stops_before_it_shows_too_many_units(server, api, db):
    ak, hb = akinon(server, db), hebiar_client(api, db)
    share = pks.UNITS_PER_PAGE * 2 // 5   # two orders fit a page, three do not
    for number in ("4000000001", "4000000002", "4000000003"):
        assert api.post("/v1/orders", json=large(number, share)).status_code == 201, number
    first = ak.get("/api/v1/orders/", params={"limit": 20}).json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert "offset=2" in first["next"] and "page=" not in first["next"]
    rest = ak.get(first["next"]).json()
    assert [o["number"] for o in first["results"] + rest["results"]] == ["4000000003", "4000000002", "4000000001"]
    assert rest["next"] is None and sum(len(o["orderitem_set"]) for o in rest["results"]) == share

    assert reads.UNITS_PER_PAGE == pks.UNITS_PER_PAGE
    page = hb.get("/orders/GetOrderPackages", params={"page": 0, "size": 20}).json()
    assert (page["totalResultCount"], page["totalPages"], page["resultCount"]) == (3, 2, 2)
    last = hb.get("/orders/GetOrderPackages", params={"page": 1, "size": 20}).json()
    assert [p["orderNumber"] for p in page["data"] + last["data"]] == ["4000000003", "4000000002", "4000000001"]


def test_small_orders_keep_full_pages(server, api, db):
    ak = akinon(server, db)
    for n in range(1, 4):
        api.post("/v1/orders", json=order(f"400000000{n}"))
    first = ak.get("/api/v1/orders/", params={"limit": 2}).json()
    assert len(first["results"]) == 2 and first["next"].endswith("page=2") and first["count"] == 3
    assert len(ak.get(first["next"]).json()["results"]) == 1

