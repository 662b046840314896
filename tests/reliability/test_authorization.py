"""The authorization matrix: every endpoint of every face (native, Hebiar, n11,
HepsiGlobal, Akinon, GraphQL, hub) × every credential that must not reach seller acme's resources —
none, malformed, expired, forged, another seller's — answers a refusal in the face's envelope
(never 2xx on acme's resources, never 5xx) and changes nothing. Bodies that try to set a status, an
amount or an owner are refused. Rows: tests/reliability/authz_matrix.py; the victim's world and the
credentials: tests/reliability/authz_world.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from kalem.bootstrap.api import build_app
from kalem.platforms.zonos.face.schema import build_schema
from tests.conftest import snapshot
from tests.reliability.authz_matrix import (
    AUTH_STATUS,
    FOREIGN_STATUS,
    PUBLIC,
    TRANSPORTS,
    Entry,
    app_routes,
    code_of,
    entries,
    is_foreign_refusal,
)
from tests.reliability.authz_world import PASSWORD, VICTIM, Call, Cred, World, apply, send


@pytest.fixture
def world(server: Any) -> Iterator[World]:
    built = World(server)
    yield built
    built.close()


@pytest.fixture
def client(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


# --- 1. completeness --------------------------------------------------------------------------------
def test_every_route_and_graphql_root_field_has_a_row_or_is_public(server):
    routes = app_routes(build_app(server.settings, server.db))
    rows = entries()
    covered = {row.key for row in rows}
    assert covered <= routes, f"rows for routes that do not exist: {sorted(covered - routes)}"
    assert PUBLIC <= routes, f"allowlisted routes that do not exist: {sorted(PUBLIC - routes)}"
    assert not covered & PUBLIC, sorted(covered & PUBLIC)
    missing = routes - covered - PUBLIC
    assert not missing, f"routes with neither a matrix row nor a reasoned allowlist entry: {sorted(missing)}"

    schema = build_schema().introspect()["__schema"]
    assert schema["subscriptionType"] is None  # the WebSocket row relies on it: nothing to subscribe to
    types = {t["name"]: t for t in schema["types"]}
    fields = {f"{root}.{f['name']}" for root in ("Query", "Mutation") for f in types[root]["fields"]}
    graphql_rows = {row.route for row in rows if row.route.startswith(("Query.", "Mutation."))}
    assert graphql_rows == fields, f"GraphQL root fields without a row: {sorted(fields - graphql_rows)}"


# --- 2. the matrix ---------------------------------------------------------------------------------
def _markers(w: World, call: Call) -> list[str]:
    """The victim's names that must not show, except a value the request itself sent (echoed filters)."""
    sent = {str(v) for v in (call.params or {}).values()}
    return [m for m in w.markers if m not in sent]


def _websocket(w: World, cred: Cred) -> str:
    """What a GraphQL-over-WebSocket handshake gets: it must never become a working session."""
    url = w.url.replace("http://", "ws://") + "/graphql"
    try:
        with connect(url, subprotocols=["graphql-transport-ws"], additional_headers=cred.headers,
                     open_timeout=10, close_timeout=5) as ws:
            ws.send(json.dumps({"type": "connection_init"}))
            ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {
                "query": f'query {{ order(orderId: "{w.zonos_order}") {{ id }} }}'}}))
            return f"open: {ws.recv(timeout=10)}"
    except InvalidStatus as exc:
        return f"handshake refused {exc.response.status_code}"
    except ConnectionClosed as exc:
        return f"closed {exc.rcvd.code if exc.rcvd else None}"


def _check_closed(w: World, client: httpx.Client, call: Call, cred: Cred, where: str) -> None:
    if call.websocket:
        outcome = _websocket(w, cred)
        assert outcome == "closed 4406" or re.fullmatch(r"handshake refused 4\d\d", outcome), (where, outcome)
        return
    response = send(client, apply(call, cred))
    graphql_refusal = response.status_code == 200 and code_of("zonos", response) and response.json()["data"] is None
    assert 400 <= response.status_code < 500 or graphql_refusal, (where, response.status_code, response.text[:300])
    assert not any(m in response.text for m in w.markers), (where, response.text[:300])


#: Natively, which credential problem: none, not valid, expired. The faces say `authentication_failed`.
NATIVE_AUTHENTICATION = {"credentials_missing", "credentials_invalid", "token_expired"}


def _check_refused(w: World, row: Entry, cred: Cred, call: Call, response: httpx.Response, where: str) -> None:
    face = row.face
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    code = code_of(face, response)
    if face == "zonos" and (not cred.foreign or row.kind == "owned"):
        assert response.json()["data"] is None, (where, response.text[:300])  # nothing of the order leaks
    if not cred.foreign:
        # natively the precise code (none, or a credential that is not valid); the faces keep theirs
        expected = {"hub": {"login_required"}, "native": NATIVE_AUTHENTICATION}.get(face, {"authentication_failed"})
        assert response.status_code in AUTH_STATUS[face] and code in expected, \
            (where, response.status_code, code, response.text[:300])
        return
    if row.kind == "catalog":
        assert response.status_code == 200 and code is None, (where, response.text[:300])
    elif row.kind == "listing":
        assert response.status_code == 200 and code is None, (where, response.status_code, response.text[:300])
        leaked = [m for m in _markers(w, call) if m in response.text]
        assert not leaked, (where, leaked)
    elif not (row.foreign_ok and row.foreign_ok(w, response)):
        assert response.status_code in FOREIGN_STATUS[face] and is_foreign_refusal(code), \
            (where, response.status_code, code, response.text[:300])


#: Codes that would mean the owner's own request was wrong, not merely late (a conflict is fine: the
#: owner's run of the writes changes the state each next one meets).
NOT_A_VALID_REQUEST = {"authentication_failed", "login_required", "permission_denied", "does_not_exist", "invalid",
                       "invalid_request", "malformed_json", "method_not_allowed", "csrf_failed", "too_many_items",
                       "credentials_missing", "credentials_invalid", "token_expired", "operator_required",
                       "seller_id_mismatch"}


@pytest.mark.parametrize("face", sorted(TRANSPORTS))
def test_foreign_credentials_get_no_access_and_change_nothing(server, world, client, face):
    w, rows = world, [row for row in entries() if row.face == face]
    transport, own = TRANSPORTS[face]

    # The owner reads every read row: the ids are right, and listings show the victim's data to the
    # victim (so their absence below means something).
    for row in rows:
        if row.reads and row.kind != "closed":
            response = send(client, apply(row.calls(w)[0], w.owner(own, row.operator)))
            where = f"owner: {row.method} {row.route}"
            assert response.status_code == 200 and code_of(face, response) is None, (where, response.text[:300])
            if row.kind == "listing":
                assert any(m in response.text for m in w.markers), (where, response.text[:300])

    # An operator keeps every power: it reads what the seller manages for itself too.
    for row in rows:
        if row.operator_too and row.reads:
            response = send(client, apply(row.calls(w)[0], w.owner(own, operator=True)))
            where = f"operator: {row.method} {row.route}"
            assert response.status_code == 200 and code_of(face, response) is None, (where, response.text[:300])
            assert any(m in response.text for m in w.markers), (where, response.text[:300])

    # A face may mint its ids for the caller's own orders on first sight (Akinon pks, n11 orderLineIds):
    # the intruder's listings do that once, before the snapshot, so what follows must change nothing.
    for row in rows:
        if row.kind == "listing":
            for cred in w.credentials(transport):
                if cred.foreign:
                    for call in row.calls(w):
                        assert send(client, apply(call, cred)).status_code == 200

    before = snapshot(server.db)
    cells = attempts = 0
    for row in rows:
        creds = w.credentials(transport)
        if row.operator:  # operators only: the victim seller's own credential is refused too
            creds = [*creds, replace(w.owner(own), label="acme, a seller", foreign=True)]
        if row.kind == "closed":  # and so is the owner, for a closed door
            creds = [*creds, w.owner(own)]
        for cred in creds:
            cells += 1
            for call in row.calls(w):
                attempts += 1
                where = f"{face} {row.method} {row.route} with {cred.label}: {call.path} {call.params or ''}"
                if row.kind == "closed":
                    _check_closed(w, client, call, cred, where)
                else:
                    _check_refused(w, row, cred, call, send(client, apply(call, cred)), where)
    assert snapshot(server.db) == before
    assert cells >= len(rows) * 6 and attempts >= cells

    # The owner's own writes get past authorization: the refusals above were about the credential.
    for row in rows:
        if row.reads or row.kind == "closed":
            continue
        response = send(client, apply(row.calls(w)[0], w.owner(own, row.operator)))
        code = code_of(face, response)
        assert response.status_code < 500 and code not in NOT_A_VALID_REQUEST and not is_foreign_refusal(code), \
            (f"owner: {row.method} {row.route}", response.status_code, code, response.text[:300])


# --- 3. mass assignment ----------------------------------------------------------------------------
#: Fields a client might send to set what kalem decides: a status, amounts, an owner, a version.
DANGEROUS = {"status": "Delivered", "seller_id": "globex", "seller": "globex", "owner": "globex",
             "amount": "0.01", "total": "0.01", "unit_price": "0.01", "refund_amount": "999.00",
             "forced_amount": "999.00", "version": 1}


def _deref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s and optional (`anyOf` with null) wrappers to the object schema."""
    for _ in range(10):
        if "$ref" in schema:
            target: Any = root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            schema = target
        elif "anyOf" in schema or "oneOf" in schema:
            schema = next(s for s in schema.get("anyOf") or schema["oneOf"] if s.get("type") != "null")
        else:
            return schema
    raise AssertionError(f"unresolvable schema {schema}")


def _request_schema(openapi: dict[str, Any], row: Entry) -> tuple[dict[str, Any], dict[str, Any]]:
    if row.body_schema is not None:
        return row.body_schema, row.body_schema
    operation = openapi["paths"][row.route][row.method.lower()]
    return operation["requestBody"]["content"]["application/json"]["schema"], openapi


def _places(body: Any, schema: dict[str, Any], root: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], set[str]]]:
    """Where an extra field can go — the body object, and the first element of each list of objects —
    with the fields the endpoint documents there."""
    schema = _deref(schema, root)
    if isinstance(body, list):
        yield from (((0, *path), fields) for path, fields in _places(body[0], schema["items"], root))
        return
    props = schema.get("properties", {})
    yield (), set(props)
    for name, value in body.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = _deref(props[name], root)["items"]
            yield from (((name, 0, *path), fields) for path, fields in _places(value[0], items, root))


def _with(body: Any, path: tuple[Any, ...], name: str, value: Any) -> Any:
    copy = json.loads(json.dumps(body))
    target = copy
    for step in path:
        target = target[step]
    target[name] = value
    return copy


def _message(face: str, response: httpx.Response) -> str:
    body = response.json()
    return {"native": lambda: body["error"]["message"], "hebiar": lambda: body["errorMessage"],
            "n11": lambda: body["errorMessage"], "hepsiglobal": lambda: body["message"],
            "akinon": lambda: " ".join(str(v) for k, v in body.items() if k != "code")}[face]()


def _refusal(row: Entry, response: httpx.Response) -> tuple[int, str | None, str]:
    """(status, code, message) of a refusal; a batch refuses each order on its own, inside a 200."""
    if row.route == "/v1/orders/batch" and response.status_code == 200:
        (result,) = response.json()["results"]
        error = result["error"] or {}
        return result["status"], error.get("code"), error.get("message", "")
    return response.status_code, code_of(row.face, response), _message(row.face, response)


LOGINS = [  # public, but they take a JSON body too: an extra may not ride along into a token
    Entry("hebiar", "POST", "/Auth/login",
          lambda w: [Call("POST", "/Auth/login", json={"UserName": f"{VICTIM}-user", "Password": PASSWORD})]),
    Entry("akinon", "POST", "/api/v1/auth/login/",
          lambda w: [Call("POST", "/api/v1/auth/login/", json={"username": f"{VICTIM}-user", "password": PASSWORD})]),
    Entry("hepsiglobal", "POST", "/v1/auth/token", lambda w: [Call("POST", "/v1/auth/token", json={
        "grant_type": "client_credentials", "client_id": VICTIM, "client_secret": w.token[VICTIM]})]),
]


def test_fields_that_set_status_amounts_or_owners_are_refused(server, world, client):
    w = world
    openapi = client.get("/openapi.json").json()
    before = snapshot(server.db)
    refused: dict[tuple[str, str], int] = {}
    with_body = [row for row in [*entries(), *LOGINS] if row.face not in ("zonos", "hub") and not row.reads
                 and isinstance(row.calls(w)[0].json, (dict, list))]
    for row in with_body:
        call = row.calls(w)[0]
        owner = Cred("anonymous", False) if row in LOGINS else w.owner(TRANSPORTS[row.face][1], row.operator)
        schema, root = _request_schema(openapi, row)
        for path, documented in _places(call.json, schema, root):
            for name, value in DANGEROUS.items():
                if name in documented:
                    continue
                response = send(client, apply(replace(call, json=_with(call.json, path, name, value)), owner))
                where = (row.face, row.method, row.route, path, name, response.status_code, response.text[:300])
                status, code, message = _refusal(row, response)
                assert 400 <= status < 500, where
                assert code == "invalid_request", where
                assert re.search(rf"\b{name}\b", message), where
                refused[row.face, row.route] = refused.get((row.face, row.route), 0) + 1
    # HepsiGlobal's open-ended payloads ignore undocumented fields but refuse the reserved ones.
    hg = next(r for r in entries() if r.face == "hepsiglobal" and r.route == "/v1/orders")
    body = hg.calls(w)[0].json
    for extra in ({"seller_id": "globex"}, {"status": "Delivered"}, {"total": 0.01}):
        for target in (body, body["items"][0]):
            target.update(extra)
            response = send(client, apply(replace(hg.calls(w)[0], json=body), w.owner("hg")))
            assert response.status_code == 400 and response.json()["data"]["code"] == "invalid_request", response.text
            for key in extra:
                target.pop(key)
    assert set(refused) == {(row.face, row.route) for row in with_body}, refused  # every body, at least once

    # GraphQL: arguments and input fields outside the schema fail validation, before any resolver runs.
    zonos = w.owner("zonos")
    for query, variables in [
        ('mutation($id: ID!) { orderCancel(id: $id, status: "CANCELED") { id } }', {"id": w.zonos_order}),
        ('mutation($id: ID!, $item: ID!) { orderItemUpdate(orderId: $id, itemId: $item, quantity: 1, '
         'sellerId: "globex") { order { id } } }', {"id": w.zonos_order, "item": w.zonos_item}),
        ('mutation($id: ID!, $item: ID!) { orderItemUpdate(orderId: $id, itemId: $item, quantity: 1, '
         'unitPrice: 0.01) { order { id } } }', {"id": w.zonos_order, "item": w.zonos_item}),
        *[("mutation($input: OrderRefundCreateInput!) { orderRefundCreate(input: $input) { id } }",
           {"input": {"id": w.zonos_order, "currencyCode": "USD", "subtotals": [{"amount": 1.0, "type": "ITEM"}],
                      extra: value}}) for extra, value in (("status", "SETTLED"), ("sellerId", "globex"),
                                                           ("refundAmount", 999.0))],
        ("mutation($input: OrderRefundCreateInput!) { orderRefundCreate(input: $input) { id } }",
         {"input": {"id": w.zonos_order, "currencyCode": "USD",
                    "subtotals": [{"amount": 1.0, "type": "ITEM", "seller": "globex"}]}}),
    ]:
        response = send(client, apply(Call("POST", "/graphql", json={"query": query, "variables": variables}), zonos))
        assert response.status_code == 200 and response.json()["data"] is None, response.text
        assert code_of("zonos", response) == "graphql_validation_failed", response.text

    assert snapshot(server.db) == before

    # The hub's forms: a `seller_id` (or `seller`) field acts for no one but the session's seller (the
    # matrix sends them with another seller's session); with the victim's own session it is ignored,
    # and so is a `status`: the decision is the one the form's action names, made as the victim.
    response = send(client, apply(Call("POST", f"/hub/cancel-requests/{w.cr_id}/reject",
                                       form={"reason_id": "168", "seller_id": "globex", "status": "approved"}),
                                  w.owner("hub")))
    assert response.status_code == 303, response.text[:300]
    decided = w.api.get(f"/v1/cancel-requests/{w.cr_id}").json()
    assert decided["status"] == "rejected" and decided["seller_id"] == VICTIM, decided
