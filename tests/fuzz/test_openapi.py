"""Schemathesis against `/openapi.json`: every documented operation, as an operator and as a
seller, with a bounded number of examples. No 5xx; successful native responses match the schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import ADMIN
from tests.support import SEED_ORDER, order, token

EXAMPLES_PER_OPERATION = 10


def test_every_operation_survives_generated_input(server, api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    api.post("/v1/orders", json=order("5000000001", seller="globex"))
    credentials = (ADMIN, token(db, seller="acme"))
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    schema.config.base_url = server.url
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            for credential in credentials:
                response = case.call(headers={"Authorization": f"Bearer {credential}"})
                assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
                if case.path.startswith("/v1/") and response.status_code < 300:
                    case.validate_response(response, checks=[response_schema_conformance])

        check()
        checked.append(operation.label)
    assert "POST /v1/orders/{order_number}/cancellations" in checked
