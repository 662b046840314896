"""Schemathesis against `/openapi.json`: every documented operation, native and faces alike, as an
operator and as a seller, with a bounded number of examples, valid and invalid. No 5xx anywhere; every
response (any status) is one the operation documents, of the documented content type, with the
documented body; generated invalid input to the native API is refused with a 4xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN
from tests.support import SEED_ORDER, order, token

EXAMPLES_PER_OPERATION = 8
BATCH = ("POST", "/v1/orders/batch")
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]


def _native(operation) -> bool:
    """kalem's own operations (a face may accept what its platform accepts: its tests pin that)."""
    return not any(tag.endswith(" face") for tag in operation.definition.raw.get("tags", ()))


def _fuzz(operation, mode: GenerationMode, credentials: tuple[str, ...]) -> None:
    # Derandomized: the same examples on every run, so a failure in CI is a failure on every machine.
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        for credential in credentials:
            # An invalid case made by leaving out the bearer the operation requires is sent without one.
            unauthenticated = mode is GenerationMode.NEGATIVE and "Authorization" not in (case.headers or {}) \
                and bool(operation.definition.raw.get("security"))
            response = case.call(headers=None if unauthenticated else {"Authorization": f"Bearer {credential}"})
            label = f"{mode.value} {case.method} {case.formatted_path}"
            assert response.status_code < 500, f"{label}: {response.text[:300]}"
            case.validate_response(response, checks=CONFORMANCE)
            if _native(operation) and mode is GenerationMode.NEGATIVE:
                if (case.method, operation.path) == BATCH and response.status_code == 200:
                    # A batch judges each order alone: an invalid order is refused in its result.
                    assert response.json()["refused"] >= 1, f"{label}: {response.text[:300]}"
                else:
                    case.validate_response(response, checks=[negative_data_rejection])

    try:
        check()
    except Unsatisfiable:
        # An operation without parameters or body (e.g. GET /healthz) has no invalid input to make.
        if mode is not GenerationMode.NEGATIVE:
            raise


def test_every_operation_survives_generated_input(server, api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    api.post("/v1/orders", json=order("5000000001", seller="globex"))
    credentials = (ADMIN, token(db, seller="acme"))
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    schema.config.base_url = server.url
    # Invalid input is refused with any 4xx: a generated body over the size limit gets 413.
    schema.config.checks.negative_data_rejection.expected_statuses = [
        str(status) for status in (400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 429)]
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, credentials)
        checked.append(operation.label)
    assert "POST /v1/orders/{order_number}/cancellations" in checked and "POST /graphql" in checked
    assert len(checked) >= 80, checked
