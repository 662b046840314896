"""Schemathesis against the Zonos face's `/graphql`: every query and mutation field, valid and invalid
documents, as an operator and as a seller who owns some of the orders, with a bounded number of
examples. No 5xx; every answer is a GraphQL response (`data` and/or `errors`, nothing else) that
keeps the published schema's promises; every error carries a typed kalem code and no internals;
invalid documents are refused before anything runs, and a refused mutation changes nothing.

Then hand-written hostile documents and requests — too deep, too many aliases, tokens or fields, a
huge page, deep introspection, fragment cycles and fan-outs, batches, bodies that are not JSON, GET
with a mutation — each refused with its code, nothing changed; and the status each media type gets.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from typing import Any

import graphql
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, response_schema_conformance

# The API's and the worker's roots import every module, so every KalemError subclass is known.
import kalem.bootstrap.api
import kalem.bootstrap.worker  # noqa: F401
from kalem.domain.errors import KalemError
from kalem.platforms.zonos.face.limits import MAX_ALIASES, MAX_COMPLEXITY, MAX_DEPTH, MAX_PAGE
from tests.conftest import ADMIN, snapshot
from tests.support import token

EXAMPLES_PER_OPERATION = 15
FIELDS = ["Mutation.orderCancel", "Mutation.orderItemUpdate", "Mutation.orderRefundCreate",
          "Mutation.webhookCreate", "Mutation.webhookUpdate",
          "Query.order", "Query.orderFulfillmentProgress", "Query.orders", "Query.webhookLogs"]


def _kalem_codes() -> set[str]:
    codes, todo = set(), [KalemError]
    while todo:
        cls = todo.pop()
        codes.add(cls.code.upper())
        todo += cls.__subclasses__()
    return codes


#: Codes an answer may carry: kalem's typed errors, GraphQL's own refusals, and the request's (routes.py).
KNOWN_CODES = _kalem_codes() | {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "QUERY_TOO_DEEP",
                                "QUERY_TOO_COMPLEX", "INVALID_CHARACTERS", "MALFORMED_JSON", "INVALID_REQUEST",
                                "BATCHING_NOT_SUPPORTED", "UNSUPPORTED_MEDIA_TYPE", "METHOD_NOT_ALLOWED",
                                "NOT_ACCEPTABLE"}
#: What an invalid document may be refused with: it never reaches a resolver.
REFUSED_BEFORE_RUNNING = {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "QUERY_TOO_DEEP",
                          "QUERY_TOO_COMPLEX", "INVALID_INPUT", "INVALID_CHARACTERS"}
LEAKS = re.compile(r"Traceback|File \"|Error\(|sqlalchemy|psycopg|sqlite3|object has no attribute|"
                   r"NoneType|KeyError|TypeError|AttributeError", re.IGNORECASE)


# --- the world the fuzzer runs in ----------------------------------------------------------------

def _order(number: str, seller: str, line: str, aon: str, quantity: int = 3, packages: tuple = ()) -> dict:
    return {"order_number": number, "seller_id": seller, "currency": "USD", "account_order_number": aon,
            "channel": "zonos",
            "destination_country": "US", "shipping_amount": "5.00",
            "lines": [{"line_id": line, "sku": f"SKU-{line}", "product_id": f"prod-{line}", "name": "T-Shirt",
                       "quantity": quantity, "unit_price": "19.99", "hs_code": "610910"},
                      {"line_id": f"{line}-b", "sku": "MUG", "product_id": "prod-mug", "name": "Mug", "quantity": 2,
                       "unit_price": "7.50"}],
            "packages": list(packages)}


class World:
    """Orders for the seller `acme` (one charged, so refunds can succeed; one partly shipped) and one
    for `globex`; the real values the fuzzer may put into arguments instead of random ones."""

    def __init__(self, api: httpx.Client, db: Any) -> None:
        shipped = ({"package_id": "P1", "status": "Shipped", "items": [{"line_id": "l2", "quantity": 1}]},
                   {"package_id": "P2", "status": "Created", "items": [{"line_id": "l2", "quantity": 2},
                                                                       {"line_id": "l2-b", "quantity": 2}]})
        placed = [_place(api, _order("4100000001", "acme", "l1", "AO-1")),
                  _place(api, _order("4100000002", "acme", "l2", "AO-2", packages=shipped)),
                  _place(api, _order("4100000003", "globex", "l3", "AO-3"))]
        charged = api.post("/v1/orders/4100000001/invoices/INV-4100000001-1/charge")
        assert charged.status_code == 200, charged.text
        self.credentials = {"operator": ADMIN, "seller acme": token(db, seller="acme")}
        cursor = _gql(api, "{ orders(first: 1) { pageInfo { endCursor } } }")["data"]["orders"]["pageInfo"]
        hook = _gql(api, 'mutation { webhookCreate(input: {url: "http://127.0.0.1:9/zonos", type: ORDER_UPDATED}) '
                         '{ id } }')["data"]["webhookCreate"]
        self.webhook = hook["id"]  # what `id` names in webhookUpdate (elsewhere an order)
        #: Per order, the values that name it and its items consistently.
        self.orders = [{"orderId": _zonos_id(o), "id": _zonos_id(o), "accountOrderNumber": o["account_order_number"],
                        "items": [(f"item_{ln['line_id']}", ln["sku"], ln["product_id"]) for ln in o["lines"]]}
                       for o in placed]
        self.scalars: dict[str, list[graphql.ValueNode]] = {
            "currencyCode": [graphql.StringValueNode(value="USD")],
            "after": [graphql.StringValueNode(value=cursor["endCursor"])],
            "quantity": [graphql.IntValueNode(value=str(n)) for n in (1, 2, 3)],
            "first": [graphql.IntValueNode(value=str(n)) for n in (1, 2, MAX_PAGE)],
            "amount": [graphql.FloatValueNode(value=v) for v in ("0.5", "1.25", "19.99")],
            "url": [graphql.StringValueNode(value="http://127.0.0.1:9/zonos")],
        }

    def with_real_values(self, document: str, data: st.DataObject) -> str:
        """The document with some arguments swapped for values that name a real order and item."""
        order = data.draw(st.sampled_from(self.orders))
        item_id, sku, product_id = data.draw(st.sampled_from(order["items"]))
        named = {"orderId": order["orderId"], "id": self.webhook if "webhookUpdate" in document else order["id"],
                 "accountOrderNumber": order["accountOrderNumber"],
                 "itemId": item_id, "itemSku": sku, "productId": product_id}
        scalars = self.scalars

        class Swap(graphql.Visitor):
            def _swap(self, node: Any) -> Any:
                name = node.name.value
                if (name in named or name in scalars) and data.draw(st.integers(0, 3)):  # mostly real
                    value = graphql.StringValueNode(value=named[name]) if name in named \
                        else data.draw(st.sampled_from(scalars[name]))
                    return node.__class__(name=node.name, value=value)
                return None

            def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
                return self._swap(node)

            def enter_object_field(self, node: graphql.ObjectFieldNode, *_: Any) -> Any:
                return self._swap(node)

        return graphql.print_ast(graphql.visit(graphql.parse(document), Swap()))


def _place(api: httpx.Client, body: dict) -> dict:
    response = api.post("/v1/orders", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _zonos_id(order: dict) -> str:
    return "order_" + order["id"].removeprefix("ord_")


def _gql(client: httpx.Client, query: str, credential: str = ADMIN, **variables: Any) -> dict:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"credentialToken": credential})
    assert response.status_code == 200, response.text
    return response.json()


# --- what every answer must be ---------------------------------------------------------------------

def assert_graphql_answer(body: Any, label: str) -> list[str]:
    """A GraphQL response per the spec, whose errors carry known codes and no internals; its codes."""
    assert isinstance(body, dict), f"{label}: not a JSON object: {body!r:.300}"
    assert set(body) <= {"data", "errors", "extensions"} and ("data" in body or "errors" in body), \
        f"{label}: {body!r:.300}"
    assert body.get("data") is None or isinstance(body["data"], dict), f"{label}: {body!r:.300}"
    errors = body.get("errors")
    if errors is None:
        assert body.get("data") is not None, f"{label}: neither data nor errors"
        return []
    assert isinstance(errors, list) and errors, f"{label}: {body!r:.300}"
    codes = []
    for error in errors:
        assert isinstance(error.get("message"), str) and error["message"], f"{label}: {error}"
        code = error.get("extensions", {}).get("code")
        assert code != "INTERNAL_ERROR", f"{label}: a bug surfaced: {body!r:.500}"
        assert code in KNOWN_CODES, f"{label}: untyped error {error!r:.300}"
        assert not LEAKS.search(error["message"]), f"{label}: internals in {error['message']!r}"
        if "path" in error:  # raised by a resolver: a kalem error, with its HTTP status
            assert code.lower() in {c.lower() for c in _kalem_codes()} and "status" in error["extensions"], error
        codes.append(code)
    return codes


# --- generated documents ---------------------------------------------------------------------------

def _fuzz(operation: Any, mode: GenerationMode, world: World, db: Any, seen: Counter) -> None:
    is_mutation = operation.label.startswith("Mutation.")

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def check(case: Any, data: st.DataObject) -> None:
        if mode is GenerationMode.POSITIVE:
            case.body = world.with_real_values(case.body, data)
        for who, credential in world.credentials.items():
            before = snapshot(db) if is_mutation else None
            response = case.call(headers={"credentialToken": credential}, timeout=30)
            label = f"{mode.value} {operation.label} as {who}: {case.body}"
            assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:300]}"
            codes = assert_graphql_answer(response.json(), label)
            checks = [response_schema_conformance]
            if mode is GenerationMode.NEGATIVE:
                checks.append(negative_data_rejection)
                assert codes and set(codes) <= REFUSED_BEFORE_RUNNING, f"{label}: {codes}"
                assert not any("path" in e for e in response.json()["errors"]), f"{label}: it ran"
            case.validate_response(response, checks=checks)
            if codes and response.json().get("data") is None and is_mutation:
                assert snapshot(db) == before, f"{label}: refused with {codes}, yet something changed"
            seen[(operation.label, mode.value, codes[0] if codes else "ok")] += 1

    check()


def test_every_field_survives_generated_documents(server, api, db):
    world = World(api, db)
    schema = schemathesis.graphql.from_url(f"{server.url}/graphql")
    # NUL never gets past the body middleware (INVALID_CHARACTERS, tested in test_zonos.py); without
    # it, the examples go further in.
    schema.config.generation.update(allow_x00=False)
    seen: Counter = Counter()
    labels = []
    # Cancelling last: refunds and removals need orders that are not cancelled yet.
    operations = sorted((r.ok() for r in schema.get_all_operations()), key=lambda o: o.label == "Mutation.orderCancel")
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, world, db, seen)
        labels.append(operation.label)
    assert sorted(labels) == FIELDS
    calls = sum(seen.values())
    print(f"\n{server.url}: {calls} calls over {len(labels)} fields: "
          + ", ".join(f"{k[0]} {k[1]} {k[2]}×{n}" for k, n in sorted(seen.items())))
    for label in FIELDS:  # each field, both ways; valid documents naming real orders succeed
        outcomes = Counter({(m, o): n for (f, m, o), n in seen.items() if f == label})
        assert outcomes[("positive", "ok")] >= 1, (label, outcomes)
        assert sum(n for (m, _), n in outcomes.items() if m == "negative") >= 2, (label, outcomes)


# --- hostile documents -----------------------------------------------------------------------------

CANCEL = 'mutation { orderCancel(id: "%s") { id status } }'
#: {id} is a real, cancellable order; every document would change it if it ran.
HOSTILE_DOCUMENTS = {
    "nested past MAX_DEPTH": (
        'mutation { orderCancel(id: "{id}") { refunds { order { refunds { order { refunds { order { id } } } } } } } }',
        "QUERY_TOO_DEEP"),
    "nested past MAX_DEPTH through fragments": (
        'mutation { orderCancel(id: "{id}") { ...R } } fragment R on Order { refunds { order { ...S } } } '
        'fragment S on Order { refunds { order { refunds { order { id } } } } }', "QUERY_TOO_DEEP"),
    "one alias too many": (
        "mutation { " + " ".join(f'a{i}: orderCancel(id: "{{id}}") {{ id }}' for i in range(MAX_ALIASES + 1)) + " }",
        "QUERY_TOO_COMPLEX"),
    "aliases multiplied by spreading a fragment": (
        'mutation { orderCancel(id: "{id}") { ' + "...A " * 8 + "} } fragment A on Order { a: id b: status c: id }",
        "QUERY_TOO_COMPLEX"),
    "too many tokens": ('mutation { orderCancel(id: "{id}") { ' + "id " * 2100 + "} }", "QUERY_TOO_COMPLEX"),
    "a page past MAX_PAGE": ("{ orders(first: 100000) { edges { cursor } } }", "INVALID_INPUT"),
    "a page of nothing": ("{ orders(first: 0) { edges { cursor } } }", "INVALID_INPUT"),
    "a page past 32 bits": ("{ orders(first: 99999999999) { edges { cursor } } }", "INVALID_INPUT"),
    "connections multiplied past MAX_COMPLEXITY": (
        "{ " + " ".join(f"o{i}: orders(first: {MAX_PAGE}) {{ edges {{ node {{ id status createdAt updatedAt "
                        f"items {{ id sku name amount quantity }} refunds {{ id amount }} }} }} }}"
                        for i in range(4)) + " }", "QUERY_TOO_COMPLEX"),
    "introspection in a deep form": (
        "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }",
        "QUERY_TOO_DEEP"),
    "deep introspection through fragments": (
        "{ __schema { types { ...T } } } fragment T on __Type { fields { type { ...U } } } "
        "fragment U on __Type { fields { type { fields { name } } } }", "QUERY_TOO_DEEP"),
    "a fragment cycle": (
        'mutation { orderCancel(id: "{id}") { ...A } } fragment A on Order { id ...B } fragment B on Order { ...A }',
        "GRAPHQL_VALIDATION_FAILED"),
    # Strawberry's depth and alias limiters walked each spread again: minutes on the event loop.
    "fragments fanning out 5^12 times": (
        'mutation { orderCancel(id: "{id}") { ...F0 } } '
        + " ".join(f"fragment F{i} on Order {{ " + f"...F{i + 1} " * 5 + "}" for i in range(12))
        + " fragment F12 on Order { id }", "QUERY_TOO_COMPLEX"),
    "fragments chained past graphql-core's nesting limit": (
        'mutation { orderCancel(id: "{id}") { ...F0 } } '
        + " ".join(f"fragment F{i} on Order {{ ...F{i + 1} }}" for i in range(240)) + " fragment F240 on Order { id }",
        "QUERY_TOO_DEEP"),
    # The depth limiter raised KeyError on it, and its message ('Nope') went out as the error.
    "an unknown fragment": ('mutation { orderCancel(id: "{id}") { ...Nope } }', "GRAPHQL_VALIDATION_FAILED"),
    "a subscription": ("subscription { orders { edges { cursor } } }", "GRAPHQL_VALIDATION_FAILED"),
    "not GraphQL": ("cancel everything", "GRAPHQL_PARSE_FAILED"),
}


@pytest.mark.parametrize("case", HOSTILE_DOCUMENTS)
def test_hostile_documents_are_refused_before_running(api, db, case):
    world = World(api, db)
    document, expected = HOSTILE_DOCUMENTS[case]
    before = snapshot(db)
    response = api.post("/graphql", json={"query": document.replace("{id}", world.orders[0]["id"])},
                        headers={"credentialToken": ADMIN})
    assert response.status_code == 200, response.text
    body = response.json()
    codes = assert_graphql_answer(body, case)
    assert body["data"] is None and codes[0] == expected, (case, body)
    assert set(codes) <= REFUSED_BEFORE_RUNNING and not any("path" in e for e in body["errors"]), body
    assert snapshot(db) == before


def test_unknown_fragment_is_named_not_leaked(api, db):
    world = World(api, db)
    body = _gql(api, f'mutation {{ orderCancel(id: "{world.orders[0]["id"]}") {{ ...Nope }} }}')
    assert [e["message"] for e in body["errors"]] == ["Unknown fragment 'Nope'."]


def _orders_page(first: str) -> str:
    """One `orders` field whose selections cost 11: a page of `first` costs 1 + first × 11."""
    return (f"orders{first} {{ edges {{ cursor node {{ id status items {{ id sku quantity }} }} }} "
            "pageInfo { hasNextPage } }")


@pytest.mark.parametrize("first, aliases, cost", [
    (f"(first: {MAX_PAGE})", 4, 4 * (1 + MAX_PAGE * 11)),       # 4404: allowed
    (f"(first: {MAX_PAGE})", 5, 5 * (1 + MAX_PAGE * 11)),       # 5505: refused
    ("(first: $n)", 5, 5 * (1 + MAX_PAGE * 11)),                # a variable counts as the largest page
    ("", 5, 5 * (1 + 20 * 11)),                                 # absent: the default page, 20
])
def test_cost_is_each_field_once_times_the_page_of_its_connection(api, db, first, aliases, cost):
    World(api, db)
    head = "query($n: Int!)" if "$n" in first else "query"
    document = head + " { " + " ".join(f"o{i}: {_orders_page(first)}" for i in range(aliases)) + " }"
    body = _gql(api, document, n=1) if "$n" in first else _gql(api, document)
    if cost <= MAX_COMPLEXITY:
        assert "errors" not in body and len(body["data"]["o0"]["edges"]) == 3, body
    else:
        assert_graphql_answer(body, first)
        [error] = body["errors"]
        assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": MAX_COMPLEXITY}
        assert f"costs {cost}; the limit is {MAX_COMPLEXITY}" in error["message"]


def test_depth_limit_allows_the_deepest_legitimate_selection(api, db):
    World(api, db)
    deepest = "{ orders { edges { node { refunds { order { items { id } } } } } } }"  # depth MAX_DEPTH
    assert MAX_DEPTH == 6 and "errors" not in _gql(api, deepest)


JSON = {"content-type": "application/json"}
#: (method, the request's keyword arguments given the document `q` that would cancel a real order,
#: the status, the code). Not well-formed GraphQL over HTTP: a 4xx whatever the client accepts.
HOSTILE_REQUESTS = {
    "a batch": ("POST", lambda q: dict(json=[{"query": q}]), 400, "BATCHING_NOT_SUPPORTED"),
    "not JSON": ("POST", lambda q: dict(content=b"{query: " + q.encode(), headers=JSON), 400, "MALFORMED_JSON"),
    "an empty body": ("POST", lambda q: dict(content=b"", headers=JSON), 400, "MALFORMED_JSON"),
    # These three were a 500: Strawberry assumed a JSON object, and UTF-8.
    "JSON, but a string": ("POST", lambda q: dict(json=q), 400, "INVALID_REQUEST"),
    "JSON, but a number": ("POST", lambda q: dict(json=5), 400, "INVALID_REQUEST"),
    "not UTF-8": ("POST", lambda q: dict(content=b'{"query": "\xff\xfe"}', headers=JSON), 400, "MALFORMED_JSON"),
    "text/plain": ("POST", lambda q: dict(content=q.encode(), headers={"content-type": "text/plain"}), 415,
                   "UNSUPPORTED_MEDIA_TYPE"),
    "no content type": ("POST", lambda q: dict(content=json.dumps({"query": q}).encode()), 415,
                        "UNSUPPORTED_MEDIA_TYPE"),
    "a form": ("POST", lambda q: dict(data={"query": q}), 415, "UNSUPPORTED_MEDIA_TYPE"),
    "no query": ("POST", lambda q: dict(json={"variables": {}}), 400, "INVALID_REQUEST"),
    "query not a string": ("POST", lambda q: dict(json={"query": [q]}), 400, "INVALID_REQUEST"),
    "variables not an object": ("POST", lambda q: dict(json={"query": q, "variables": [1]}), 400, "INVALID_REQUEST"),
    "extensions not an object": ("POST", lambda q: dict(json={"query": q, "extensions": "x"}), 400,
                                 "INVALID_REQUEST"),
    "operationName not a string": ("POST", lambda q: dict(json={"query": q, "operationName": 5}), 400,
                                   "INVALID_REQUEST"),
    "GET with a mutation": ("GET", lambda q: dict(params={"query": q}), 405, "METHOD_NOT_ALLOWED"),
    "GET with variables not JSON": ("GET", lambda q: dict(params={"query": "{ __typename }", "variables": "{"}),
                                    400, "INVALID_REQUEST"),
    "PUT": ("PUT", lambda q: dict(json={"query": q}), 405, "METHOD_NOT_ALLOWED"),
    "accepting no JSON": ("POST", lambda q: dict(json={"query": q}, headers={"accept": "text/html"}), 406,
                          "NOT_ACCEPTABLE"),
}


@pytest.mark.parametrize("case", HOSTILE_REQUESTS)
def test_hostile_requests_are_refused_with_a_4xx(api, db, case):
    world = World(api, db)
    order_id = world.orders[0]["id"]
    method, request, status, expected = HOSTILE_REQUESTS[case]
    kwargs = request(CANCEL % order_id)
    before = snapshot(db)
    response = api.request(method, "/graphql", headers={"credentialToken": ADMIN, **kwargs.pop("headers", {})},
                           **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert assert_graphql_answer(body, case) == [expected] and "data" not in body, body  # it never ran
    if status == 405:
        assert response.headers["allow"] == ("POST" if method == "GET" else "GET, POST")
    assert snapshot(db) == before
    status = _gql(api, 'query($id: ID!) { order(orderId: $id) { status } }', id=order_id)["data"]
    assert status == {"order": {"status": "OPEN"}}


GRAPHQL_RESPONSE = "application/graphql-response+json"
#: Well-formed requests whose document or variables fail: (document, variables, operation name, code).
REQUEST_ERRORS = {
    "does not parse": ("{ orders { edges ", None, None, "GRAPHQL_PARSE_FAILED"),
    "does not validate": ("{ nope }", None, None, "GRAPHQL_VALIDATION_FAILED"),
    "over a limit": ("{ orders(first: 0) { edges { cursor } } }", None, None, "INVALID_INPUT"),
    "variables that do not fit": ('mutation($id: ID!) { orderCancel(id: $id) { id } }', {"id": None}, None,
                                  "GRAPHQL_VALIDATION_FAILED"),
    "an unknown operation name": (CANCEL, None, "Other", "INVALID_REQUEST"),
}


@pytest.mark.parametrize("case", REQUEST_ERRORS)
@pytest.mark.parametrize("accept, status", [(GRAPHQL_RESPONSE, 400), ("application/json", 200), (None, 200),
                                            ("*/*", 200)])
def test_request_errors_by_media_type(api, db, case, accept, status):
    """The specification's media type gets 400 without `data`; Zonos's JSON gets 200 with `data: null`."""
    world = World(api, db)
    document, variables, operation, expected = REQUEST_ERRORS[case]
    before = snapshot(db)
    headers = {"credentialToken": ADMIN, **({"accept": accept} if accept else {})}
    response = api.post("/graphql", headers=headers, json={
        "query": document.replace("%s", world.orders[0]["id"]), "variables": variables, "operationName": operation})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(accept if accept == GRAPHQL_RESPONSE else "application/json")
    body = response.json()
    assert assert_graphql_answer(body, case)[0] == expected, body
    assert ("data" in body) is (status == 200) and body.get("data") is None, body
    assert snapshot(db) == before


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
def test_errors_of_a_running_operation_are_200_for_both_media_types(api, db, accept):
    world = World(api, db)
    response = api.post("/graphql", headers={"credentialToken": "kalem_wrong", "accept": accept},
                        json={"query": CANCEL % world.orders[0]["id"]})
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept), response.text
    assert response.json()["data"] is None and code_of_first(response.json()) == "AUTHENTICATION_FAILED"


@pytest.mark.parametrize("accept, media", [
    (f"{GRAPHQL_RESPONSE}, application/json", GRAPHQL_RESPONSE),
    (f"application/json, {GRAPHQL_RESPONSE};q=0.9", "application/json"),
    (f"{GRAPHQL_RESPONSE};q=0.5, */*;q=0.8", "application/json"),
    ("application/*", "application/json"),
    (f"text/html, {GRAPHQL_RESPONSE}; charset=utf-8", GRAPHQL_RESPONSE),
])
def test_the_most_preferred_media_type_wins(api, accept, media):
    response = api.post("/graphql", headers={"accept": accept}, json={"query": "{ __typename }"})
    assert response.status_code == 200 and response.headers["content-type"].startswith(media), response.text
    assert response.json() == {"data": {"__typename": "Query"}}


def test_queries_over_get_with_url_encoded_variables(api, db):
    world = World(api, db)
    order_id = world.orders[0]["id"]
    response = api.get("/graphql", headers={"credentialToken": ADMIN, "accept": GRAPHQL_RESPONSE}, params={
        "query": "query Q($id: ID!) { order(orderId: $id) { id status } }", "operationName": "Q",
        "variables": json.dumps({"id": order_id}), "extensions": json.dumps({"trace": True})})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"order": {"id": order_id, "status": "OPEN"}}}


def code_of_first(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


# --- regressions the fuzzer found ----------------------------------------------------------------

def test_refund_amounts_past_decimal_precision_are_refused(api, db):
    """1e+26 made quantize raise InvalidOperation (28-digit context): a 500."""
    world = World(api, db)
    refund = 'mutation($input: OrderRefundCreateInput!) { orderRefundCreate(input: $input) { id } }'
    before = snapshot(db)
    for amount, expected in ((1e26, "REFUND_EXCEEDS_PAID"), (1e300, "REFUND_EXCEEDS_PAID"),
                             (0.1234567890123456789, "INVALID_REFUND"), (5e-324, "INVALID_REFUND")):
        body = _gql(api, refund, input={"id": world.orders[0]["id"], "currencyCode": "USD",
                                        "subtotals": [{"amount": amount, "type": "ITEM"}]})
        assert assert_graphql_answer(body, str(amount)) == [expected], (amount, body)
    assert snapshot(db) == before


def test_filtering_by_a_status_kalem_never_produces_finds_nothing(api, db):
    """On PostgreSQL the empty `status IN ()` was typed as integer and failed: a 500."""
    World(api, db)
    for status in ("FRAUD_HOLD", "PAYMENT_PENDING", "PAYMENT_FAILED", "IN_TRANSIT_TO_CONSOLIDATION_CENTER"):
        body = _gql(api, "query($s: OrderStatus) { orders(filter: {status: $s}) { edges { cursor } } }", s=status)
        assert body == {"data": {"orders": {"edges": []}}}, (status, body)


@pytest.mark.parametrize("created", ["0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59.999999+23:59",
                                     "2024-01-01", "2024-01-01T00:00:00"])
def test_cursors_at_the_edges_of_time(api, db, created):
    World(api, db)
    cursor = base64.urlsafe_b64encode(f"{created}|ord_zzz".encode()).decode()
    body = _gql(api, "query($after: String) { orders(after: $after) { edges { cursor } } }", after=cursor)
    codes = assert_graphql_answer(body, created)
    assert codes == [] or codes == ["INVALID_INPUT"], body
