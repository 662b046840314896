"""NUL characters and out-of-range values are a client's mistake everywhere: a 4xx, never a 500, nothing
stored — in hub forms, cursors (native and GraphQL) and the hub's date filters."""

from __future__ import annotations

import base64

from kalem.app import access
from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot
from tests.security.test_hub_sessions import signed_in
from tests.support import SEED_ORDER, csrf_token

LINE = "item1691416223190"


def test_a_nul_in_a_hub_form_is_refused_and_stores_nothing(server, db, api):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    request = api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": LINE, "quantity": 1, "reason_id": 136}]})
    assert request.status_code == 201, request.text
    issued = access.create_token(UnitOfWork(db), role="seller", seller_id="acme")
    with signed_in(server.url, issued.secret) as browser:
        page = browser.get(f"/hub/cancel-requests/{request.json()['id']}")
        before = snapshot(db)
        refused = browser.post(f"/hub/cancel-requests/{request.json()['id']}/reject",
                               content=f"csrf={csrf_token(page.text)}&reason=168&note=bad%00note".encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert refused.status_code == 422, refused.text
        assert snapshot(db) == before


def test_hub_date_filters_out_of_range_are_refused_not_a_500(server, db):
    issued = access.create_token(UnitOfWork(db), role="seller", seller_id="acme")
    with signed_in(server.url, issued.secret) as browser:
        assert browser.get("/hub/cancel-requests", params={"to": "9999-12-31"}).status_code == 422
        assert browser.get("/hub/cancel-requests", params={"from": "0001-01-01"}).status_code == 422
        assert browser.get("/hub/cancel-requests", params={"to": "9998-12-31"}).status_code == 200


def _nul_cursor() -> str:
    return base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|ord\x00x").decode()


def test_a_nul_in_a_native_cursor_is_an_invalid_cursor(api):
    response = api.get("/v1/orders", params={"cursor": _nul_cursor()})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"]["errors"] == [{"field": "cursor", "problem": "the cursor is not valid"}], error


def test_a_nul_in_a_graphql_cursor_is_a_bad_input_not_an_internal_error(api):
    query = "query($a: String) { orders(first: 1, after: $a) { edges { cursor } } }"
    response = api.post("/graphql", json={"query": query, "variables": {"a": _nul_cursor()}})
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] != "INTERNAL_ERROR", errors


def test_a_tab_in_a_native_path_gets_the_native_envelope(api):
    """urllib drops tabs and newlines when a URL is rebuilt, which made `/v1/refunds/%09` look like
    HepsiGlobal's `/v1/refunds`; the answer's face is chosen from the path as received."""
    for path in ("/v1/refunds/%09", "/v1/refunds/%0a"):
        response = api.get(path)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "refund_not_found", response.text
