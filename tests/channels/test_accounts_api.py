"""`/v1/channel-accounts` in process, on both databases: sealed credentials never shown, sellers scoped to
their own accounts, bad input refused with its own code and nothing changed, and the channel outbox
written in the decision's own transaction for the order's channel only."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import snapshot
from tests.support import client_for, order, token

N11 = {"platform": "n11", "base_url": "https://api.n11.example",
       "credentials": {"appkey": "k-1", "appsecret": "s3cr3t"}}


def test_credentials_are_sealed_and_never_shown(api, db):
    made = api.post("/v1/channel-accounts", json={**N11, "seller_id": "acme"})
    assert made.status_code == 201, made.text
    account = made.json()
    assert account["channel"] == "n11" and account["credential_names"] == ["appkey", "appsecret"]
    assert account["health"]["consecutive_failures"] == 0
    assert "s3cr3t" not in made.text and "s3cr3t" not in api.get("/v1/channel-accounts").text
    with db.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT credentials FROM channel_accounts")).scalar_one()
    assert stored.startswith("sealed:v1:") and "s3cr3t" not in stored


def test_sellers_see_and_remove_only_their_own(api, db):
    api.post("/v1/orders", json=order("4300000001", "other"))
    theirs = api.post("/v1/channel-accounts", json={**N11, "seller_id": "other"}).json()
    with client_for(api, token(db, seller="acme")) as acme:
        mine = acme.post("/v1/channel-accounts", json=N11)
        assert mine.status_code == 201 and mine.json()["seller_id"] == "acme"
        assert [a["id"] for a in acme.get("/v1/channel-accounts").json()["data"]] == [mine.json()["id"]]
        assert acme.get(f"/v1/channel-accounts/{theirs['id']}").json()["error"]["code"] == "channel_account_not_found"
        assert acme.delete(f"/v1/channel-accounts/{theirs['id']}").status_code == 404
        assert acme.delete(f"/v1/channel-accounts/{mine.json()['id']}").status_code == 204
    assert len(api.get("/v1/channel-accounts").json()["data"]) == 1


def test_bad_accounts_are_refused_and_change_nothing(api, db):
    assert api.post("/v1/channel-accounts", json={**N11, "seller_id": "acme"}).status_code == 201
    before = snapshot(db)
    cases = {
        "platform_not_connectable": {**N11, "platform": "nowhere"},
        "credentials_incomplete": {**N11, "credentials": {"appkey": "k"}},
        "channel_account_invalid": {**N11, "base_url": "ftp://x"},
        "channel_account_invalid ": {**N11, "channel": "n11-b", "reason_map": {"no_such_reason": 3}},
        "invalid_request": {**N11, "channel": "n11-c", "reason_map": {"out_of_stock": "3"}},
        "channel_account_exists": N11,
    }
    for code, body in cases.items():
        refused = api.post("/v1/channel-accounts", json={**body, "seller_id": "acme"})
        assert refused.json()["error"]["code"] == code.strip(), (code, refused.text)
        assert refused.status_code in (409, 422)
    assert snapshot(db) == before


def test_a_decision_queues_a_push_for_its_own_channel_only(api, db):
    api.post("/v1/channel-accounts", json={**N11, "seller_id": "acme"})
    for number, channel in (("4300000002", "n11"), ("4300000003", "WEB")):
        assert api.post("/v1/orders", json=order(number, channel=channel)).status_code == 201
        line = order(number)["lines"][0]["line_id"]
        done = api.post(f"/v1/orders/{number}/cancellations",
                        json={"lines": [{"line_id": line, "quantity": 1, "reason_id": 135}]})
        assert done.status_code == 200, done.text
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT p.event_type, o.order_number, p.status FROM channel_pushes p "
                                    "JOIN orders o ON o.id = p.order_id")).all()
    assert [tuple(r) for r in rows] == [("lines.cancelled", "4300000002", "pending")]


def test_an_account_keeps_its_reason_map(api):
    akinon = {"platform": "akinon", "base_url": "https://omnitron.example", "seller_id": "acme",
              "credentials": {"username": "u", "password": "p"}}
    made = api.post("/v1/channel-accounts", json={**akinon, "reason_map": {"out_of_stock": 12, "fraud": 9}})
    assert made.status_code == 201, made.text
    assert made.json()["reason_map"] == {"out_of_stock": 12, "fraud": 9}
    assert api.get(f"/v1/channel-accounts/{made.json()['id']}").json()["reason_map"] == {"out_of_stock": 12,
                                                                                          "fraud": 9}
    plain = api.post("/v1/channel-accounts", json={**akinon, "channel": "akinon-b"}).json()
    assert plain["reason_map"] == {}
