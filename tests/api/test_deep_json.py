"""JSON nested deeper than the parser's recursion allows is a client's mistake on every route: a 4xx
in that route's own error shape, never a 500, and nothing changes."""

from __future__ import annotations

import pytest

from tests.conftest import snapshot
from tests.support import SEED_ORDER

DEEP_ARRAY = b"[" * 30_000  # under the test servers' 64 KiB body limit, far over the parser's depth
DEEP_OBJECT = b'{"a":' * 10_000
LINE = "item1691416223190"

NATIVE = [
    "/v1/orders",
    "/v1/orders/4000000001/cancellations",
    "/v1/orders/4000000001/packages/1/split",
    "/v1/orders/4000000001/cancellations-with-refund",
    "/v1/cancel-requests",
    "/v1/orders/4000000001/refund-preview",
    "/v1/webhook-subscriptions",
]


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_deep_json_on_native_writes_is_malformed_json(api, db, body):
    api.post("/v1/orders", json=SEED_ORDER)
    before = snapshot(db)
    for path in NATIVE:
        response = api.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (path, response.status_code, response.text[:300])
        assert response.json()["error"]["code"] == "malformed_json", path
    assert snapshot(db) == before


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_deep_json_on_graphql_is_malformed_json(api, body):
    response = api.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text[:300]
    assert response.json()["errors"][0]["extensions"]["code"] == "MALFORMED_JSON"


def test_deep_graphql_variables_in_a_get_are_refused(api):
    response = api.get("/graphql", params={"query": "{ __typename }", "variables": '{"a":' * 5000})
    assert response.status_code == 400, response.text[:300]
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_REQUEST"
