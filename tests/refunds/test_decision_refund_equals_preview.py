"""Under the default refund policy, the refund a decision makes is exactly the refund preview shown
before it, on each decision path: the preview's breakdown and total are the refund's, to the cent.

Each case places an order, previews the units its decision will move (`POST /v1/orders/{n}/refund-preview`,
what the hub and the API show the seller), makes the decision through its own face, and compares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.refunds.test_hepsiglobal import SEED_ITEM, hg_client, hg_order
from tests.refunds.test_hepsiglobal import SEED_ORDER as HG_ORDER
from tests.support import order

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
