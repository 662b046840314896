"""Under the default refund policy, the refund a decision makes is exactly the refund preview shown
before it, on each decision path: the preview's breakdown and total are the refund's, to the cent.

Each case places an order, previews the units its decision will move (`POST /v1/orders/{n}/refund-preview`,
what the hub and the API show the seller), makes the decision through its own face, and compares. Orders
driven through a marketplace's face are sold in that marketplace's channel.

Zonos is the exception, pinned at the end: its orders are billed, so a removal of units (`orderItemUpdate`)
makes no refund at all — an uncharged invoice is revised (the removed units are never collected) and a
charged one is credited by a credit note, which returns the units' duties as well as their price."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kalem.app import access
from kalem.platforms.n11 import key_pairs
from kalem.store.uow import UnitOfWork
from tests.dialects.test_n11 import n11_order
from tests.dialects.test_zonos import UPDATE, gql, place, seed_order, zid
from tests.refunds.test_akinon import akinon
from tests.refunds.test_akinon import read as akinon_order
from tests.refunds.test_hepsiglobal import SEED_ITEM, hg_client, hg_order
from tests.refunds.test_hepsiglobal import SEED_ORDER as HG_ORDER
from tests.support import client_for, order

LINE = "item1691416223190"
NUMBER = "4000000001"


@dataclass(frozen=True)
class Path:
    """One decision path: place the order (returns its number), the units previewed, the decision."""

    place: Callable[[Any, httpx.Client], str]
    units: Callable[[httpx.Client, str], list[dict[str, Any]]]
    decide: Callable[[Any, httpx.Client, str], None]
    cause: str = "cancellation"


def _ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json()


def _native(api: httpx.Client, **changes: Any) -> str:
    _ok(api.post("/v1/orders", json=order(**changes)), 201)
    return NUMBER


def _line_id(api: httpx.Client, number: str, n: int = 0) -> str:
    return _ok(api.get(f"/v1/orders/{number}"))["lines"][n]["line_id"]


def _approve_return(server: Any, api: httpx.Client, number: str) -> None:
    made = _ok(api.post(f"/v1/orders/{number}/returns", json={
        "lines": [{"line_id": LINE, "quantity": 2, "reason_id": 152}]}), 201)
    _ok(api.post(f"/v1/returns/{made['id']}/approve"))


def _approve_request(server: Any, api: httpx.Client, number: str) -> None:
    made = _ok(api.post("/v1/cancel-requests", json={"order_number": number, "lines": [
        {"line_id": LINE, "quantity": 2, "reason_id": 136}]}), 201)
    _ok(api.post(f"/v1/cancel-requests/{made['id']}/approve", json={}))


def _split_with_cancel(server: Any, api: httpx.Client, number: str) -> None:
    package = _ok(api.get(f"/v1/orders/{number}"))["packages"][0]["package_id"]
    _ok(api.post(f"/v1/orders/{number}/packages/{package}/split", json={
        "packages": [{"items": [{"line_id": LINE, "quantity": 1}]}],
        "cancelled": [{"line_id": LINE, "quantity": 2, "reason_id": 136}]}))


def _hg_place(server: Any, api: httpx.Client) -> str:
    _ok(hg_client(server, server.db).post("/v1/orders", json=hg_order()), 201)
    return HG_ORDER


def _hg_cancel(server: Any, api: httpx.Client, number: str) -> None:
    hg = hg_client(server, server.db)
    _ok(hg.put(f"/v1/orders/{number}/order_items/{SEED_ITEM}", json={"reason": "customer_demand"}))


def _hebiar(server: Any) -> httpx.Client:
    """Hebiar OMS's caller, signed in as its documentation shows (`/Auth/login`, then a Bearer JWT)."""
    access.create_user(UnitOfWork(server.db), username="oms", password="secret-pass", role="operator",
                       seller_id=None)
    anon = httpx.Client(base_url=server.url, timeout=30)
    login = _ok(anon.post("/Auth/login", json={"UserName": "oms", "Password": "secret-pass"}))
    return client_for(anon, login["token"])


def _hebiar_unit_lines(server: Any, api: httpx.Client, number: str) -> None:
    body = [{"sourceOrderItemLineId": f"{LINE}-{n}", "quantity": 1, "reasonId": 136, "reasonDesc": "Vazgeçti"}
            for n in (1, 2)]
    assert _ok(_hebiar(server).post("/Orders/CancelOrderItemLineList", json=body))["isSuccess"] is True


def _hebiar_request_approved(server: Any, api: httpx.Client, number: str) -> None:
    body = [{"sourceOrderItemLineId": f"{LINE}-{n}", "quantity": 1, "reasonId": 136, "reasonDesc": "Vazgeçti"}
            for n in (1, 2)]
    assert _ok(_hebiar(server).post("/Orders/CreateOrderItemLineCancelRequest", json=body))["isSuccess"] is True
    (request,) = _ok(api.get("/v1/cancel-requests", params={"status": "pending"}))["data"]
    _ok(api.post(f"/v1/cancel-requests/{request['id']}/approve", json={}))  # the seller's decision


def _n11_place(server: Any, api: httpx.Client) -> str:
    _ok(api.post("/v1/orders", json=n11_order("N11-1", "PKG-1", {LINE: 3})), 201)
    return "N11-1"


def _n11_split_with_cancel(server: Any, api: httpx.Client, number: str) -> None:
    appkey, appsecret = key_pairs.create_key_pair(UnitOfWork(server.db), seller_id="acme")
    n11 = httpx.Client(base_url=server.url, headers={"appkey": appkey, "appsecret": appsecret}, timeout=30)
    listed = _ok(n11.get("/rest/delivery/v1/shipmentPackages", params={"packageIds": "PKG-1", "size": 100}))
    (line_id,) = [ln["orderLineId"] for p in listed["content"] for ln in p["lines"]]
    _ok(n11.post("/rest/delivery/v1/splitPackageByQuantity", json={
        "splitPackages": [{"packageDetails": [{"orderLineId": line_id, "quantities": 1}]}],
        "cancelledItems": [{"cancelReasonId": 61, "orderLineId": line_id, "quantity": 2}]}))


def _akinon_request_approved(server: Any, api: httpx.Client, number: str) -> None:
    seller = akinon(server, server.db, "seller", "acme")
    first = akinon_order(seller, number)["orderitem_set"][0]["pk"]
    made = _ok(seller.post("/api/v1/channel/1/cancellation_requests/", json={
        "order_item": first, "reason": 136, "quantity": 2}), 201)
    assert _ok(seller.post(f"/api/v1/channel/1/cancellation_requests/{made['id']}/approve/"))["status"] == "approved"


TWO_UNITS = lambda api, n: [{"line_id": LINE, "quantity": 2}]  # noqa: E731 - a table entry

PATHS = {
    "native direct cancel": Path(
        lambda s, api: _native(api), lambda api, n: [{"line_id": LINE, "quantity": 2}],
        lambda s, api, n: _ok(api.post(f"/v1/orders/{n}/cancellations", json={
            "lines": [{"line_id": LINE, "quantity": 2, "reason_id": 136}]})) and None),
    "native approved cancel request": Path(
        lambda s, api: _native(api), lambda api, n: [{"line_id": LINE, "quantity": 2}], _approve_request),
    "native split with cancelled units": Path(
        lambda s, api: _native(api), lambda api, n: [{"line_id": LINE, "quantity": 2}], _split_with_cancel),
    "native approved return": Path(
        lambda s, api: _native(api, packages=[{**order()["packages"][0], "status": "Delivered"}]),
        lambda api, n: [{"line_id": LINE, "quantity": 2}], _approve_return, cause="return"),
    "HepsiGlobal item cancel": Path(
        _hg_place, lambda api, n: [{"line_id": _line_id(api, n), "quantity": 2}], _hg_cancel),
    "Hebiar unit-line cancel": Path(lambda s, api: _native(api), TWO_UNITS, _hebiar_unit_lines),
    "Hebiar cancel request, seller's approval": Path(lambda s, api: _native(api), TWO_UNITS,
                                                     _hebiar_request_approved),
    "n11 split with cancelled items": Path(_n11_place, TWO_UNITS, _n11_split_with_cancel),
    "Akinon cancellation request approval": Path(lambda s, api: _native(api), TWO_UNITS, _akinon_request_approved),
}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_the_refund_a_decision_makes_is_the_preview_shown(server, api, name):
    path = PATHS[name]
    number = path.place(server, api)
    units = path.units(api, number)
    preview = _ok(api.post(f"/v1/orders/{number}/refund-preview", json={"lines": units}))["breakdown"]
    assert _ok(api.get(f"/v1/orders/{number}/refunds"))["data"] == []
    path.decide(server, api, number)
    (refund,) = _ok(api.get(f"/v1/orders/{number}/refunds"))["data"]
    assert (refund["on_decision"], refund["status"], refund["cause"]) == (True, "pending", path.cause)
    assert refund["breakdown"] == preview and refund["amount"] == preview["total"]
    assert [(ln["line_id"], ln["quantity"]) for ln in refund["lines"]] == [
        (u["line_id"], u["quantity"]) for u in units]


ZONOS_LINE = "8659ec0e-3467-11ed-b878-0242ac120002"
ZONOS_ORDER = "4000000101"
#: Two of three units at 19.99 removed: their price (the refund preview's total) and their duties, which
#: Zonos' landed cost recomputes (9.90 for three units, 3.30 for the one left): 39.98 + 6.60.
ZONOS_PRICE, ZONOS_RETURNED = Decimal("39.98"), Decimal("46.58")


def _zonos_remove_two(api: httpx.Client, *, charged: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Zonos order (billed, in the zonos channel), its invoice charged or not, then two units removed
    through `orderItemUpdate`: (the refund preview shown before, the invoices before)."""
    made = place(api, seed_order(ZONOS_ORDER, quantity=3, shipping="5.00"))
    assert made["channel"] == "zonos"
    if charged:
        _ok(api.post(f"/v1/orders/{ZONOS_ORDER}/invoices/INV-{ZONOS_ORDER}-1/charge"))
    preview = _ok(api.post(f"/v1/orders/{ZONOS_ORDER}/refund-preview", json={
        "lines": [{"line_id": ZONOS_LINE, "quantity": 2}]}))["breakdown"]
    before = _ok(api.get(f"/v1/orders/{ZONOS_ORDER}/invoices"))
    result = gql(api, UPDATE, orderId=zid(made), itemId=f"item_{ZONOS_LINE}", quantity=2)
    assert "errors" not in result, result
    assert result["data"]["orderItemUpdate"]["order"]["items"][0]["quantity"] == 1
    return preview, before


def test_zonos_removal_on_an_uncharged_invoice_revises_it_and_refunds_nothing(api):
    preview, before = _zonos_remove_two(api, charged=False)
    assert Decimal(preview["total"]) == ZONOS_PRICE
    # Nothing was collected, so nothing goes back: no refund, no credit note; the invoice is revised and
    # the buyer is billed the removed units' price and duties less.
    assert _ok(api.get(f"/v1/orders/{ZONOS_ORDER}/refunds"))["data"] == []
    assert _ok(api.get(f"/v1/orders/{ZONOS_ORDER}/credit-notes"))["data"] == []
    after = _ok(api.get(f"/v1/orders/{ZONOS_ORDER}/invoices"))
    latest = [i for i in after["data"] if i["latest"]]
    assert [(i["revision"], i["charged"]) for i in latest] == [(2, False)]
    assert Decimal(before["billable"]) - Decimal(after["billable"]) == ZONOS_RETURNED
    items = {i["revision"]: next(ln for ln in i["lines"] if ln["description"] == "Items")["amount"]
             for i in after["data"]}
    assert Decimal(items[1]) - Decimal(items[2]) == Decimal(preview["total"])


def test_zonos_removal_on_a_charged_invoice_credits_it_and_refunds_nothing(api):
    preview, before = _zonos_remove_two(api, charged=True)
    # A charged invoice is final: the removal is paid back by a credit note, never by a refund as well.
    assert _ok(api.get(f"/v1/orders/{ZONOS_ORDER}/refunds"))["data"] == []
    (credit,) = _ok(api.get(f"/v1/orders/{ZONOS_ORDER}/credit-notes"))["data"]
    assert credit["invoice_number"] == f"INV-{ZONOS_ORDER}-1"
    # The credit returns the units' duties too, so it is more than the refund preview of the same units.
    assert (Decimal(preview["total"]), Decimal(credit["amount"])) == (ZONOS_PRICE, ZONOS_RETURNED)
    after = _ok(api.get(f"/v1/orders/{ZONOS_ORDER}/invoices"))
    assert [i["revision"] for i in after["data"]] == [1] and after["data"][0]["charged"] is True
    assert Decimal(after["pending_credit"]) == ZONOS_RETURNED
    # The credited units are money returned: a refund of them is refused, whichever face asks.
    refused = api.post(f"/v1/orders/{ZONOS_ORDER}/refunds", json={
        "lines": [{"line_id": ZONOS_LINE, "quantity": 2}], "cause": "cancellation"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "units_credited"), refused.text
    assert _ok(api.get(f"/v1/orders/{ZONOS_ORDER}/refunds"))["data"] == []
