"""The faces' writes served lean (n11's splits, Hebiar's line cancels, HepsiGlobal's item cancel and
refund, Akinon's order cancels) answer exactly as FastAPI's routes do: every refusal byte for byte and
changing nothing — their own credentials and envelopes included — and every success the same answer."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from kalem.platforms.n11 import key_pairs
from kalem.store.uow import UnitOfWork
from tests.api.test_lean_routes import answer, clients, same_view  # noqa: F401 - a fixture
from tests.conftest import ADMIN, snapshot
from tests.dialects.test_n11 import n11_order
from tests.golden.test_hepsiglobal import hg_order
from tests.refunds.test_akinon import akinon
from tests.refunds.test_hepsiglobal import hg_client
from tests.support import manual_refunds, order

SPLIT = "/rest/delivery/v1/splitPackageByQuantity"
COMBINE = "/rest/delivery/v1/splitCombinePackage"
ASK, CANCEL_LINES = "/Orders/CreateOrderItemLineCancelRequest", "/Orders/CancelOrderItemLineList"
JSON = {"Content-Type": "application/json"}


class Faces:
    """Each face's credentials (rows of the test's database, so both apps know them) as headers."""

    def __init__(self, server: Any, db: Any) -> None:
        appkey, appsecret = key_pairs.create_key_pair(UnitOfWork(db), seller_id="acme")
        self.n11 = {"appkey": appkey, "appsecret": appsecret}
        with hg_client(server, db) as hg, akinon(server, db) as ak:
            self.hg = {"Authorization": hg.headers["Authorization"]}
            self.akinon = {"Authorization": ak.headers["Authorization"]}
        self.hebiar = {"Authorization": f"Bearer {ADMIN}"}


def _steady(got: httpx.Response) -> tuple[int, str | None, bytes]:
    """`answer`, but the id Hebiar's face gives each of its errors (`correlationId`, a random UUID)."""
    status, kind, body = answer(got)
    return status, kind, re.sub(rb'"correlationId":"[0-9a-f-]{36}"', b'"correlationId":"-"', body)


def _n11_line(client: httpx.Client, headers: dict[str, str], package: str) -> int:
    shown = client.get("/rest/delivery/v1/shipmentPackages", params={"packageIds": package}, headers=headers)
    assert shown.status_code == 200, shown.text
    return int(shown.json()["content"][0]["lines"][0]["orderLineId"])


def _akinon_order(client: httpx.Client, headers: dict[str, str], number: str) -> tuple[int, int]:
    found = client.get("/api/v1/orders/", params={"number": number}, headers=headers)
    assert found.status_code == 200, found.text
    [o] = found.json()["results"]
    return o["pk"], o["orderitem_set"][-1]["pk"]   # the last unit: the Hebiar writes take the first ones


def test_every_refusal_is_fastapis_own_and_changes_nothing(clients, server, api, db):
    lean, ordinary, seen = clients
    faces = Faces(server, db)
    assert api.post("/v1/orders", json=n11_order("N11-801", "PKG-801", {"L801a": 3, "L801b": 2})).status_code == 201
    assert lean.post("/v1/orders", json=hg_order("123123123801", {"sku1": 2}), headers=faces.hg).status_code == 201
    assert api.post("/v1/orders", json=order("4000000801")).status_code == 201
    line = _n11_line(lean, faces.n11, "PKG-801")
    pk, item = _akinon_order(lean, faces.akinon, "4000000801")
    other_n11 = {**faces.n11, "appsecret": "wrong"}
    hg_item = "/v1/orders/123123123801/order_items/123123123801_sku1"
    akinon_cancel = {"order": pk, "cancel_items": [item], "forced_refund_amount": None, "reasons": {str(item): 136}}
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", SPLIT, {"json": {"splitPackages": [{"packageDetails": [{"orderLineId": line, "quantities": 9}]}]},
                         "headers": faces.n11}),
        ("POST", SPLIT, {"json": {"splitPackages": [{"packageDetails": [{"orderLineId": 999999, "quantities": 1}]}]},
                         "headers": faces.n11}),
        ("POST", SPLIT, {"json": {"cancelledItems": [{"cancelReasonId": 61, "orderLineId": line, "quantity": 1}]},
                         "headers": faces.n11}),
        ("POST", SPLIT, {"json": {"splitPackages": []}, "headers": other_n11}),
        ("POST", SPLIT, {"json": {"splitPackages": []}, "headers": {"appkey": faces.n11["appkey"]}}),
        ("POST", SPLIT, {"content": b"{", "headers": {**faces.n11, **JSON}}),
        ("POST", SPLIT, {"json": {"splitPackages": [{"packageDetails": [{"orderLineId": "1", "quantities": 1}]}]},
                         "headers": faces.n11}),
        ("POST", COMBINE, {"json": {"splitGroups": [{"orderLineIds": [line, 999999]}]}, "headers": faces.n11}),
        ("POST", COMBINE, {"json": {"splitGroups": [{"orderLineIds": [line]}]},
                           "headers": {**faces.n11, "Idempotency-Key": "k" * 256}}),
        ("POST", ASK, {"json": [{"sourceOrderItemLineId": "item000801-9", "quantity": 1, "reasonId": 136}],
                       "headers": faces.hebiar}),
        ("POST", ASK, {"json": [{"sourceOrderItemLineId": "item000801-1", "quantity": 0, "reasonId": 136}],
                       "headers": faces.hebiar}),
        ("POST", ASK, {"json": [{"sourceOrderItemLineId": "item000801-1", "quantity": 1, "reasonId": 999}],
                       "headers": faces.hebiar}),
        ("POST", ASK, {"json": [{"sourceOrderItemLineId": "item000801-1", "quantity": 1, "reasonId": 136}],
                       "headers": {"Authorization": "Bearer nope"}}),
        ("POST", CANCEL_LINES, {"json": [], "headers": faces.hebiar}),
        ("POST", CANCEL_LINES, {"json": {"sourceOrderItemLineId": "x"}, "headers": faces.hebiar}),
        ("POST", CANCEL_LINES, {"json": [{"sourceOrderItemLineId": "item000801-1", "quantity": 1, "reasonId": 136}],
                                "headers": {"Authorization": "Basic x"}}),
        ("PUT", hg_item, {"json": {"reason": "bored"}, "headers": faces.hg}),
        ("PUT", hg_item, {"json": {}, "headers": faces.hg}),
        ("PUT", hg_item.replace("_sku1", "_none"), {"json": {"reason": "out_of_stock"}, "headers": faces.hg}),
        ("PUT", hg_item.replace("/123123123801/", "/none/", 1), {"json": {"reason": "out_of_stock"},
                                                                 "headers": faces.hg}),
        ("PUT", hg_item, {"json": {"reason": "out_of_stock"}, "headers": {"Authorization": "Bearer nope"}}),
        ("PUT", "/v1/orders/4000000801/order_items/item000801", {"json": {"reason": "out_of_stock"},
                                                                  "headers": faces.hg}),   # not HG's order
        ("POST", "/v1/refunds", {"json": {"refund_number": "r-1", "order_number": "123123123801", "items": [
            {"order_item_number": "123123123801_sku1", "quantity": 5, "reason": "defective"}]}, "headers": faces.hg}),
        ("POST", "/v1/refunds", {"json": {"refund_number": "r-1", "order_number": "none", "items": [
            {"order_item_number": "x", "quantity": 1, "reason": "defective"}]}, "headers": faces.hg}),
        ("POST", f"/api/i1/orders/{pk}/cancel/", {"json": {**akinon_cancel, "cancel_items": [999999]},
                                                  "headers": faces.akinon}),
        ("POST", f"/api/i1/orders/{pk}/cancel/", {"json": {**akinon_cancel, "order": pk + 1}, "headers": faces.akinon}),
        ("POST", "/api/i1/orders/999999/cancel/", {"json": akinon_cancel, "headers": faces.akinon}),
        ("POST", "/api/i1/orders/nine/cancel/", {"json": akinon_cancel, "headers": faces.akinon}),
        ("POST", f"/api/v1/orders/{pk}/cancel/", {"json": akinon_cancel, "headers": {"Authorization": "Token nope"}}),
        ("POST", f"/api/v1/orders/{pk}/cancel/", {"json": {**akinon_cancel, "reasons": []}, "headers": faces.akinon}),
        ("POST", f"/api/v1/channel/99/orders/{pk}/cancel", {"json": akinon_cancel, "headers": faces.akinon}),
    ]
    before = snapshot(db)
    for method, path, request in cases:
        got, want = lean.request(method, path, **request), ordinary.request(method, path, **request)
        assert _steady(got) == _steady(want), (method, path, request)
        assert 400 <= got.status_code < 500, (method, path, request, got.text)
    assert snapshot(db) == before
    # every case reached a lean route (and so did the HepsiGlobal order taken in, which its face claims);
    # the well-formed ones reached the endpoint, the eight that are not (malformed JSON, a string for an
    # integer, a key too long, an empty or non-list body, neither reason nor items, a path id not an
    # integer, reasons not an object) FastAPI's route answered
    assert seen.lean == len(cases) + 1 and len(seen.passed_on) == 1 + 8, seen.passed_on


def test_a_well_formed_face_write_is_served_lean_and_answers_as_fastapis_route(clients, server, api, db):
    lean, ordinary, seen = clients
    faces = Faces(server, db)
    manual_refunds(db)
    answers: list[list[tuple[int, str]]] = []
    for client, suffix in ((lean, "811"), (ordinary, "812")):
        number = f"4000000{suffix}"
        n11 = n11_order(f"N11-{suffix}", f"PKG-{suffix}", {f"L{suffix}": 3})
        assert api.post("/v1/orders", json=n11).status_code == 201
        assert api.post("/v1/orders", json=order(number)).status_code == 201
        assert client.post("/v1/orders", json=hg_order(f"123123123{suffix}", {"sku1": 2}),
                           headers=faces.hg).status_code == 201
        line = _n11_line(client, faces.n11, f"PKG-{suffix}")
        pk, item = _akinon_order(client, faces.akinon, number)
        hg_item = f"/v1/orders/123123123{suffix}/order_items/123123123{suffix}_sku1"
        writes = [
            ("POST", SPLIT, {"json": {"splitPackages": [{"packageDetails": [{"orderLineId": line, "quantities": 1}]}],
                                      "cancelledItems": [{"cancelReasonId": 61, "orderLineId": line, "quantity": 1}]},
                             "headers": {**faces.n11, "Idempotency-Key": f"n11-{suffix}"}}),
            ("POST", ASK, {"json": [{"sourceOrderItemLineId": f"item000{suffix}-2", "quantity": 1, "reasonId": 136}],
                           "headers": faces.hebiar}),
            ("POST", CANCEL_LINES, {"json": [{"sourceOrderItemLineId": f"item000{suffix}-1", "quantity": 1,
                                              "reasonId": 136}], "headers": faces.hebiar}),
            ("PUT", hg_item, {"json": {"reason": "out_of_stock"}, "headers": faces.hg}),
            # the cancel made no refund (the policy is manual): HepsiGlobal's refund makes it
            ("POST", "/v1/refunds", {"json": {"refund_number": f"r-{suffix}", "order_number": f"123123123{suffix}",
                                              "items": [{"order_item_number": f"123123123{suffix}_sku1", "quantity": 1,
                                                         "reason": "defective"}]}, "headers": faces.hg}),
            ("POST", f"/api/i1/orders/{pk}/cancel/", {"json": {
                "order": pk, "cancel_items": {str(item): 1}, "forced_refund_amount": None,
                "reasons": {str(item): 136}}, "headers": {**faces.akinon, "Idempotency-Key": f"ak-{suffix}"}}),
        ]
        got = []
        for method, path, request in writes:
            response = client.request(method, path, **request)
            assert response.status_code in (200, 201, 202), (path, response.text)
            text = same_view(response.json(), number).replace(f"123123123{suffix}", "<hg>")
            got.append((response.status_code, re.sub(r"\d+", "0", text)))   # ids and numbers the two orders differ by
        answers.append(got)
    assert answers[0] == answers[1]
    # everything served lean but the HepsiGlobal order taken in (a body its face claims from `/v1/orders`)
    assert seen.passed_on == ["/v1/orders"] and seen.lean >= 7, seen.passed_on


def test_a_face_write_served_lean_is_replayed_by_its_idempotency_key(clients, server, api, db):
    lean, _, seen = clients
    faces = Faces(server, db)
    assert api.post("/v1/orders", json=n11_order("N11-821", "PKG-821", {"L821": 3})).status_code == 201
    line = _n11_line(lean, faces.n11, "PKG-821")
    body = {"splitPackages": [{"packageDetails": [{"orderLineId": line, "quantities": 1}]}]}
    headers = {**faces.n11, "Idempotency-Key": "n11-821"}
    first, again = (lean.post(SPLIT, json=body, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 200, first.text
    assert json.loads(again.content) == json.loads(first.content) and again.headers["Idempotent-Replayed"] == "true"
    held = api.get("/v1/orders/N11-821").json()["packages"]
    # split once: the package unpacked into the unit asked for and the rest
    assert sorted((p["status"], p["parent_id"]) for p in held) == [
        ("Picking", "PKG-821"), ("Picking", "PKG-821"), ("Unpacked", None)]
    assert seen.passed_on == []
