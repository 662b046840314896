"""A seller manages its own API tokens (`POST/GET /v1/tokens`, `DELETE /v1/tokens/{id}`): the new
secret is shown once; another seller's tokens are invisible; a token can neither out-scope nor outlive
the credential that made it. An operator does all of it for any seller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kalem.app import access
from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot
from tests.support import client_for, order, token


def _sellers(api, db):
    """acme and globex, each with an order (so both are known sellers) and a token."""
    for seller, number in (("acme", "4000000001"), ("globex", "4000000002")):
        assert api.post("/v1/orders", json=order(number, seller=seller)).status_code == 201
    return client_for(api, token(db, "seller", "acme")), client_for(api, token(db, "seller", "globex"))


def test_a_seller_makes_lists_and_revokes_its_own_tokens(api, db):
    acme, globex = _sellers(api, db)
    made = acme.post("/v1/tokens", json={"name": "ERP connector"})
    assert made.status_code == 201, made.text
    new = made.json()
    assert new["secret"].startswith("kalem_") and new["id"].startswith("tok_")
    assert (new["role"], new["seller_id"], new["name"], new["kind"], new["revoked_at"]) == \
        ("seller", "acme", "ERP connector", "bearer", None)

    listed = acme.get("/v1/tokens").json()["data"]
    mine = next(t for t in listed if t["id"] == new["id"])
    assert "secret" not in mine and mine["created_by"] == new["created_by"]   # shown once, never again
    assert {t["seller_id"] for t in listed} == {"acme"} and len(listed) == 2   # the caller's own token too
    assert new["id"] not in globex.get("/v1/tokens", params={"seller_id": "acme"}).text   # no filter for a seller

    with client_for(api, new["secret"]) as made_client:
        assert made_client.get("/v1/orders").json()["data"][0]["seller_id"] == "acme"
        assert acme.delete(f"/v1/tokens/{new['id']}").status_code == 204
        refused = made_client.get("/v1/orders")   # at once: the revoking process forgot it
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "credentials_invalid"
    assert acme.get("/v1/tokens").json()["data"][0]["revoked_at"] is not None


def test_a_seller_may_not_reach_another_sellers_tokens_nor_mint_beyond_its_own(api, db):
    acme, globex = _sellers(api, db)
    victim = acme.post("/v1/tokens", json={"name": "victim"}).json()
    before = snapshot(db)
    for body, status, code in (({"role": "operator"}, 403, "operator_required"),
                               ({"seller_id": "acme"}, 403, "seller_id_mismatch"),
                               ({"expires_at": "2020-01-01T00:00:00Z"}, 422, "token_expiry_passed"),
                               ({"expires_at": "2030-01-01T00:00:00"}, 422, "invalid_request"),  # no zone
                               ({"name": ""}, 422, "invalid_request"),
                               ({"created_by": "admin"}, 422, "invalid_request")):
        refused = globex.post("/v1/tokens", json=body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), (body, refused.text)
    gone = globex.delete(f"/v1/tokens/{victim['id']}")   # another seller's token looks like no token
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "token_not_found"
    assert globex.delete("/v1/tokens/tok_nope").json()["error"]["code"] == "token_not_found"
    assert victim["id"] not in globex.get("/v1/tokens").text
    assert snapshot(db) == before
    with client_for(api, victim["secret"]) as still:
        assert still.get("/v1/orders").status_code == 200


def test_a_token_cannot_outlive_the_token_that_made_it(api, db):
    _sellers(api, db)
    ends = datetime.now(UTC) + timedelta(days=2)
    short = access.create_token(UnitOfWork(db), role="seller", seller_id="acme", expires_at=ends)
    with client_for(api, short.secret) as maker:
        before = snapshot(db)
        later = (ends + timedelta(days=1)).isoformat()
        refused = maker.post("/v1/tokens", json={"expires_at": later})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "token_outlives_creator"
        assert snapshot(db) == before
        inherited = maker.post("/v1/tokens", json={"name": "child"}).json()
        assert datetime.fromisoformat(inherited["expires_at"]) == ends   # the maker's end, by default
        assert inherited["created_by"] == short.token_id
        sooner = (ends - timedelta(days=1)).replace(microsecond=0)
        kept = maker.post("/v1/tokens", json={"expires_at": sooner.isoformat()}).json()
        assert datetime.fromisoformat(kept["expires_at"]) == sooner

        with client_for(api, inherited["secret"]) as child:
            grandchild = child.post("/v1/tokens", json={"name": "grandchild"}).json()
            assert api.delete(f"/v1/tokens/{short.token_id}").status_code == 204   # revokes what it made too
            for secret in (inherited["secret"], kept["secret"], grandchild["secret"]):
                with client_for(api, secret) as gone:
                    assert gone.get("/v1/orders").json()["error"]["code"] == "credentials_invalid"
    revoked = {t["id"]: t["revoked_at"] for t in api.get("/v1/tokens", params={"seller_id": "acme"}).json()["data"]}
    assert all(revoked[i] for i in (short.token_id, inherited["id"], kept["id"], grandchild["id"]))


def test_disabling_a_user_revokes_the_tokens_it_made(api, db, anon):
    _sellers(api, db)
    access.create_user(UnitOfWork(db), username="ada", password="ada-pass-1", role="seller", seller_id="acme")
    jwt = anon.post("/Auth/login", json={"UserName": "ada", "Password": "ada-pass-1"}).json()["token"]
    with client_for(api, jwt) as ada:
        made = ada.post("/v1/tokens", json={"name": "ada's"}).json()
    assert made["created_by"] == "user:ada" and made["expires_at"] is None
    access.disable_user(UnitOfWork(db), "ada")
    with client_for(api, made["secret"]) as gone:
        assert gone.get("/v1/orders").json()["error"]["code"] == "credentials_invalid"


def test_an_operator_makes_lists_and_revokes_any_sellers_tokens(api, db):
    acme, _ = _sellers(api, db)
    made = api.post("/v1/tokens", json={"seller_id": "acme", "name": "for acme"})
    assert made.status_code == 201 and made.json()["seller_id"] == "acme" and made.json()["created_by"] == "admin"
    operator = api.post("/v1/tokens", json={"role": "operator", "name": "ops"}).json()
    assert (operator["role"], operator["seller_id"]) == ("operator", None)
    before = snapshot(db)
    for body, status, code in (({}, 422, "seller_id_required"),
                               ({"seller_id": "nobody"}, 404, "unknown_seller"),
                               ({"role": "operator", "seller_id": "acme"}, 422, "seller_id_not_allowed")):
        refused = api.post("/v1/tokens", json=body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), (body, refused.text)
    assert snapshot(db) == before
    everyone = {t["id"] for t in api.get("/v1/tokens").json()["data"]}
    assert {made.json()["id"], operator["id"]} <= everyone
    assert operator["id"] not in acme.get("/v1/tokens").text   # an operator token is no seller's
    assert [t["seller_id"] for t in api.get("/v1/tokens", params={"seller_id": "globex"}).json()["data"]] == ["globex"]
    assert api.delete(f"/v1/tokens/{made.json()['id']}").status_code == 204
    gone = acme.delete(f"/v1/tokens/{operator['id']}")   # a seller cannot revoke an operator's token
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "token_not_found"
