"""Bounded orders: a line's quantity, an order's lines and its ids are refused at intake, on every face
that takes orders in (native single and batch, HepsiGlobal's, `kalem import`), with their own codes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import snapshot
from tests.golden.test_hepsiglobal import hg_order
from tests.refunds.test_hepsiglobal import hg_client
from tests.support import two_line_order
from tests.test_import import kalem_import

TOO_MANY = 10_001   # the default KALEM_MAX_LINE_QUANTITY is 10,000


def with_quantity(number: str, quantity: int) -> dict:
    body = two_line_order(number)
    body["lines"][0]["quantity"] = quantity
    body.pop("packages", None)
    return body


CASES = [
    (with_quantity("LIM-1", TOO_MANY), "quantity_too_large"),
    (with_quantity("LIM-2", 2**63 - 1), "quantity_too_large"),
    ({**two_line_order("LIM/3"), "packages": []}, "id_not_addressable"),
    ({**two_line_order(".."), "packages": []}, "id_not_addressable"),
]


@pytest.mark.parametrize(("body", "code"), CASES, ids=["quantity", "huge-quantity", "slash", "dotdot"])
def test_native_intake_refuses_and_changes_nothing(api, db, body, code):
    before = snapshot(db)
    response = api.post("/v1/orders", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    batch = api.post("/v1/orders/batch", json={"orders": [body]})
    assert batch.status_code == 200, batch.text
    assert batch.json()["results"][0]["error"]["code"] == code
    assert snapshot(db) == before


def test_units_in_all_are_bounded(api, db):
    body = two_line_order("LIM-UNITS")
    body["lines"][0]["quantity"] = body["lines"][1]["quantity"] = 5_001   # each line is under its own limit
    before = snapshot(db)
    response = api.post("/v1/orders", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "too_many_units"
    assert response.json()["error"]["details"] == {"limit": 10_000, "units": 10_002}
    assert snapshot(db) == before


def test_the_largest_allowed_quantity_is_taken_in(api):
    body = with_quantity("LIM-MAX", 10_000)
    body["lines"] = body["lines"][:1]   # the whole order's units at the limit too
    response = api.post("/v1/orders", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["lines"][0]["quantity"] == 10_000


def test_hepsiglobal_intake_refuses_a_quantity_over_the_limit(server, db):
    with hg_client(server, db) as hg:
        before = snapshot(db)
        response = hg.post("/v1/orders", json=hg_order("LIM-HG", {"sku1": TOO_MANY}))
        assert response.status_code == 400, response.text   # HepsiGlobal answers every refusal 400, in its envelope
        assert response.json()["data"] == {"code": "quantity_too_large"}
        assert snapshot(db) == before


def test_kalem_import_refuses_a_line_over_the_limit(tmp_path, server, db):
    path = tmp_path / "orders.jsonl"
    path.write_text(json.dumps(with_quantity("LIM-IM", TOO_MANY)) + "\n" + json.dumps(two_line_order("LIM-OK")) + "\n")
    result = kalem_import(path, server, "--no-progress")
    assert result.returncode == 1, result.stderr
    assert "1 taken in, 0 already there, 1 refused" in result.stdout, result.stdout
    assert "line 1: quantity_too_large" in result.stdout
