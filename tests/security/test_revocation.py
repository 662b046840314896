"""Revocation revokes: a JWT a face issued for a token stops working with the token, on every face."""

from __future__ import annotations

import httpx

from kalem.app import access
from kalem.store.uow import UnitOfWork
from tests.support import SEED_ORDER, token


def _jwt(server, secret: str) -> str:
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        issued = anon.post("/v1/auth/token", json={"grant_type": "client_credentials", "client_id": "acme",
                                                   "client_secret": secret})
    assert issued.status_code == 200, issued.text
    return issued.json()["access_token"]


def test_revoking_a_token_revokes_the_jwts_issued_for_it(server, db, api):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    issued = access.create_token(UnitOfWork(db), role="seller", seller_id="acme")
    jwt = _jwt(server, issued.secret)
    # the native API reads it from `Authorization: Bearer`, the GraphQL face from `credentialToken`
    headers = {"Authorization": f"Bearer {jwt}", "credentialToken": jwt}
    with httpx.Client(base_url=server.url, timeout=30, headers=headers) as holder:
        assert holder.get("/v1/orders/4000000001").status_code == 200
        graphql = {"query": "{ orders(first: 1) { edges { node { id } } } }"}
        assert holder.post("/graphql", json=graphql).json().get("errors") is None
        assert api.delete(f"/v1/tokens/{issued.token_id}").status_code == 204
        refused = holder.get("/v1/orders/4000000001")
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "credentials_invalid"
        assert holder.post("/v1/orders/4000000001/cancellations", json={
            "lines": [{"line_id": "item1691416223190", "quantity": 1, "reason_id": 136}]}).status_code == 401
        answer = holder.post("/graphql", json=graphql).json()
        assert answer["errors"][0]["extensions"]["code"] == "AUTHENTICATION_FAILED"
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["ledger"]["cancelled"] == 0


def test_a_jwt_of_a_standing_token_keeps_working(server, db, api):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    jwt = _jwt(server, token(db, "seller", "acme"))
    with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {jwt}"}) as holder:
        for _ in range(3):
            assert holder.get("/v1/orders/4000000001").status_code == 200
