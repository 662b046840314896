"""The OpenAPI contract: the served document is the checked-in docs/openapi.json, its operation ids are
stable and unique, its component names do not collide, every native body is typed, and the examples
it shows are valid bodies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from kalem.api import examples, schemas, schemas_out, schemas_out_money, schemas_out_webhooks
from kalem.api.routes.packages import SplitIn
from kalem.api.routes.refunds import PreviewIn, RefundIn
from kalem.api.routes.webhooks import SubscriptionIn

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def document(servers) -> dict:
    import httpx
    return httpx.get(f"{servers['sqlite'].url}/openapi.json", timeout=60).json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _native(operation: dict) -> bool:
    return not any(tag.endswith(" face") for tag in operation.get("tags", ()))


def test_the_served_document_is_the_checked_in_one(document):
    assert document == json.loads(CHECKED_IN.read_text()), \
        "the OpenAPI contract changed: run `make openapi` and commit docs/openapi.json deliberately"


def test_operation_ids_are_unique_and_readable(document):
    ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", i) for i in ids), ids
    assert {"orders.cancel", "cancel_requests.approve", "packages.split", "refunds.preview", "refunds.create",
            "webhooks.create_subscription", "events.list", "meta.healthz", "akinon.login", "hebiar.login",
            "n11.split_package_by_quantity", "hepsiglobal.create_refund", "zonos.graphql_schema"} <= set(ids)


def test_every_operation_is_tagged_by_capability_or_face(document):
    for path, method, op in _operations(document):
        assert len(op.get("tags", ())) == 1, (method, path, op.get("tags"))


def test_component_names_do_not_collide(document):
    # pydantic falls back to module-qualified names (`kalem__dialects__…__Login`) when two models share one
    assert not [name for name in document["components"]["schemas"] if "__" in name]


def test_every_path_parameter_is_declared(document):
    for path, method, op in _operations(document):
        declared = {p["name"] for p in op.get("parameters", ()) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)


def test_every_native_operation_types_its_bodies(document):
    for path, method, op in _operations(document):
        if not _native(op):
            continue
        for status, response in op["responses"].items():
            if status == "204" or (path, status) == ("/metrics", "200"):  # no body; Prometheus' text format
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            assert "$ref" in schema, (method, path, status)
            if status.startswith(("4", "5")):
                assert schema["$ref"].endswith("/ErrorOut"), (method, path, status)


@pytest.mark.parametrize(("model", "example"), [
    (schemas.OrderIn, examples.ORDER_IN), (schemas.CancellationIn, examples.CANCELLATION_IN),
    (schemas.CancelRequestIn, examples.CANCEL_REQUEST_IN), (schemas.ApprovalIn, examples.APPROVAL_IN),
    (schemas_out.OrderOut, examples.ORDER), (schemas_out.CancelRequestOut, examples.CANCEL_REQUEST),
    (schemas_out_money.InvoicePage, examples.INVOICES),
    (schemas_out_money.RefundPreviewOut, examples.REFUND_PREVIEW),
    (schemas_out_webhooks.SubscriptionOut, examples.SUBSCRIPTION), (schemas_out_webhooks.FeedPage, examples.FEED),
    (SplitIn, examples.SPLIT_IN), (PreviewIn, examples.PREVIEW_IN), (RefundIn, examples.REFUND_IN),
    (SubscriptionIn, examples.SUBSCRIPTION_IN),
])
def test_examples_are_valid_bodies(model: type[BaseModel], example: dict):
    model.model_validate(example)
    assert model.model_json_schema()["examples"] == [example]


def test_fields_a_user_sets_are_described(document):
    schemas_ = document["components"]["schemas"]
    for name in ("OrderIn", "CustomerIn", "AddressIn", "PaymentIn", "LineIn", "PackageIn", "CancelLineIn",
                 "CancelRequestIn", "ApprovalIn", "RejectionIn",
                 "SplitIn", "SplitCancelIn", "StatusIn", "PreviewIn", "RefundIn", "CancelRefundIn", "ReturnIn",
                 "SubscriptionIn", "SubscriptionPatch", "StrategyIn", "SettleIn"):
        for field, schema in schemas_[name]["properties"].items():
            assert schema.get("description"), f"{name}.{field} has no description"


def test_every_operation_that_needs_a_bearer_token_declares_it(document, servers):
    # Swagger UI's "Authorize" sends the token only to operations that declare the scheme
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearer"][
            "description"]}
    import httpx
    checked = 0
    with httpx.Client(base_url=servers["sqlite"].url, timeout=60) as anonymous:
        for path, method, op in _operations(document):
            if not path.startswith("/v1/"):
                continue
            answer = anonymous.request(method, re.sub(r"{\w+}", "x", path))
            declared = {"bearer": []} in op.get("security", [])
            assert declared == (answer.status_code == 401), (method, path, answer.status_code, op.get("security"))
            checked += declared
    assert checked > 40


SRC = Path(__file__).resolve().parents[2] / "src" / "kalem"


def _error_examples(op: dict) -> dict[str, dict[str, dict]]:
    """status -> code -> example, of a native operation's error responses."""
    return {status: response["content"]["application/json"]["examples"]
            for status, response in op["responses"].items() if status.startswith(("4", "5"))}


def _raised_natively() -> set[str]:
    """The names of the error classes raised (or built to be raised) outside the faces and the hub."""
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        if {"platforms", "hub"} & set(path.relative_to(SRC).parts):
            continue
        text = path.read_text()
        names.update(re.findall(r"(?:raise|return) ([A-Z][A-Za-z]+)\(", text))
        names.update(re.findall(r"Machine\((?:[^()]|\([^()]*\))*?, ([A-Z][A-Za-z]+)\)", text))  # a state table's
        names.update(re.findall(r"\) -> ([A-Z][A-Za-z]+):\n", text))            # a function that builds one
        names.update(re.findall(r"error=([A-Z][A-Za-z]+)\b", text))               # one handed to a step
        names.update(re.findall(r"\(([A-Z][A-Za-z]+), f?\"", text))                # a table of refusals
    return names


def test_every_error_example_is_a_code_the_operation_answers_with_its_status(document):
    from kalem.api.error_examples import EDGE_STATUS, native_errors, raised_codes
    classes = {cls.code: cls for cls in native_errors().values()}
    raised = _raised_natively()
    seen: set[frozenset[str]] = set()
    for path, method, op in _operations(document):
        if not _native(op):
            continue
        params = {p["name"] for p in op.get("parameters", ())}
        for status, by_code in _error_examples(op).items():
            assert by_code, (method, path, status)
            for code, example in by_code.items():
                schemas_out.ErrorOut.model_validate(example["value"])
                assert example["value"]["error"]["code"] == code
                if code in EDGE_STATUS:
                    assert EDGE_STATUS[code] == int(status), (method, path, code)
                    continue
                cls = classes[code]   # a typed error with this stable code…
                assert cls.status == int(status), (method, path, code, cls.status)
                # …that the native API raises, and that this operation's shape or use case can meet
                assert cls.__name__ in raised, (code, cls.__name__)
                if status == "401":
                    assert {"bearer": []} in op["security"], (method, path)
                elif code in ("idempotency_key_in_use", "idempotency_key_reused"):
                    assert "Idempotency-Key" in params, (method, path, code)
                elif code in ("version_mismatch", "if_match_malformed"):
                    assert "If-Match" in params, (method, path, code)
                elif code == "cursor_invalid":
                    assert "cursor" in params, (method, path, code)
                else:
                    assert code in raised_codes(op["operationId"], native_errors()), (method, path, code)
            seen.add(frozenset(by_code))
    assert len(seen) > 20   # not one sample for all
    settle = document["paths"]["/v1/refunds/{refund_id}/settle"]["post"]
    assert set(_error_examples(settle)["404"]) == {"refund_not_found"}
    read = _error_examples(document["paths"]["/v1/orders/{order_number}"]["get"])
    assert set(read["409"]) == {"ambiguous_order_number"} and "412" not in read and "400" not in read


@pytest.mark.parametrize("path", ["/v1/orders/{order_number}", "/v1/orders/{order_number}/events",
                                  "/v1/orders/{order_number}/invoices", "/v1/orders/{order_number}/credit-notes",
                                  "/v1/orders/{order_number}/packages", "/v1/orders/{order_number}/refunds",
                                  "/v1/cancel-requests/{request_id}", "/v1/refunds/{refund_id}",
                                  "/v1/returns/{return_id}", "/v1/webhook-subscriptions/{sub_id}",
                                  "/v1/webhook-deliveries/{delivery_id}"])
def test_an_unknown_id_answers_a_code_the_operation_documents(document, servers, path):
    import httpx

    from tests.conftest import ADMIN
    answer = httpx.get(servers["sqlite"].url + re.sub(r"{\w+}", "9999999999", path), timeout=60,
                       headers={"Authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] in _error_examples(document["paths"][path]["get"])["404"]
