"""An Idempotency-Key names one operation of a seller, whichever of its credentials sends it."""

from __future__ import annotations

from tests.conftest import snapshot
from tests.support import SEED_ORDER, client_for, token

LINE = "item1691416223190"
BODY = {"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}


def test_the_same_key_from_two_tokens_of_one_seller_cancels_once(api, db):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    first, second = token(db, seller="acme"), token(db, seller="acme")
    with client_for(api, first) as one, client_for(api, second) as other:
        applied = one.post("/v1/orders/4000000001/cancellations", json=BODY, headers={"Idempotency-Key": "k-1"})
        assert applied.status_code == 200, applied.text
        before = snapshot(db)
        again = other.post("/v1/orders/4000000001/cancellations", json=BODY, headers={"Idempotency-Key": "k-1"})
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == applied.json()
        assert snapshot(db) == before
    line = api.get("/v1/orders/4000000001").json()["lines"][0]
    assert line["ledger"]["cancelled"] == 1


def test_another_sellers_key_is_its_own(api, db):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    other = {**SEED_ORDER, "seller_id": "globex"}
    assert api.post("/v1/orders", json=other).status_code == 201
    with client_for(api, token(db, seller="acme")) as acme, client_for(api, token(db, seller="globex")) as globex:
        for client in (acme, globex):
            response = client.post("/v1/orders/4000000001/cancellations", json=BODY, headers={"Idempotency-Key": "k"})
            assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers, response.text
