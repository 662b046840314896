"""Revoking tokens: `DELETE /v1/tokens/{id}` (an operator any, a seller its own) and `kalem token revoke`."""

from __future__ import annotations

import httpx

from kalem.app import access
from kalem.platforms.n11 import key_pairs
from kalem.store.uow import UnitOfWork
from tests.conftest import snapshot
from tests.support import client_for, token


def test_a_token_revoked_through_the_api_is_refused_at_once(api, db):
    issued = access.create_token(UnitOfWork(db), role="seller", seller_id="acme")
    with client_for(api, issued.secret) as seller:
        assert seller.get("/v1/orders").status_code == 200   # authenticated, so now in this process's cache
        assert seller.get("/v1/orders").status_code == 200

        with client_for(api, token(db, "seller", "globex")) as other:   # another seller's: not found
            refused = other.delete(f"/v1/tokens/{issued.token_id}")
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "token_not_found"
        assert seller.get("/v1/orders").status_code == 200

        assert api.delete(f"/v1/tokens/{issued.token_id}").status_code == 204
        after = seller.get("/v1/orders")   # no wait: the revoking process forgot its cached answer
        assert after.status_code == 401 and after.json()["error"]["code"] == "credentials_invalid"
    assert api.delete(f"/v1/tokens/{issued.token_id}").status_code == 204   # again: nothing changes


def test_an_unknown_token_id_is_404_and_changes_nothing(api, db):
    before = snapshot(db)
    missing = api.delete("/v1/tokens/tok_nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "token_not_found"
    assert snapshot(db) == before


def test_an_n11_key_pair_is_revoked_by_its_appkey(api, db):
    appkey, appsecret = key_pairs.create_key_pair(UnitOfWork(db), seller_id="acme")
    with httpx.Client(base_url=api.base_url, headers={"appkey": appkey, "appsecret": appsecret}, timeout=30) as n11:
        path = "/rest/delivery/v1/shipmentPackages"
        assert n11.get(path).status_code == 200
        assert api.delete(f"/v1/tokens/{appkey}").status_code == 204
        refused = n11.get(path)
        assert refused.status_code == 400 and refused.json()["errorCode"] == "SELLER_API.authenticationFailed"
