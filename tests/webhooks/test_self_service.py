"""A seller manages its own webhook subscriptions and their deliveries through the native API, end
to end against a real receiver: only its own orders' events reach it; another seller's (and an
operator's) subscriptions and deliveries do not exist for it; an operator manages them all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import snapshot
from tests.support import client_for, order, token
from tests.webhooks.conftest import SECRET, deliveries, drain, subscribe


def _seller(api, db, seller):
    return client_for(api, token(db, "seller", seller))


def test_a_sellers_subscription_receives_only_its_own_orders(api, db, receiver, worker):
    acme, globex = _seller(api, db, "acme"), _seller(api, db, "globex")
    sub = subscribe(acme, receiver.url)   # no seller_id: the caller's own, always
    assert sub["seller_id"] == "acme" and "secret" not in sub   # the secret was given, so not echoed
    operator_sub = subscribe(api, "http://127.0.0.1:9/every-seller")   # every seller's: the operator's own
    for number, seller in (("4000000301", "acme"), ("4000000302", "globex"), ("4000000303", "acme")):
        assert api.post("/v1/orders", json=order(number, seller=seller)).status_code == 201
    drain(worker, lambda: len(receiver.requests) == 2
          and {d["status"] for d in deliveries(acme)} == {"delivered"})
    got = [r.json()["order_number"] for r in receiver.requests]
    assert sorted(got) == ["4000000301", "4000000303"]
    assert {r.json()["seller_id"] for r in receiver.requests} == {"acme"}

    # The seller sees its subscription's deliveries, and only those (not the operator's of its orders).
    seen = deliveries(acme)
    assert {d["subscription_id"] for d in seen} == {sub["id"]} and len(seen) == 2
    assert all(d["attempt_count"] == 1 and d["last_status"] == 200 and d["last_error"] is None for d in seen)
    assert len(deliveries(api, subscription_id=operator_sub["id"])) == 3
    assert deliveries(globex) == [] and globex.get("/v1/webhook-subscriptions").json() == {"data": []}
    assert [s["id"] for s in acme.get("/v1/webhook-subscriptions").json()["data"]] == [sub["id"]]


def test_a_seller_updates_disables_replays_and_deletes_its_own(api, db, receiver, worker):
    acme = _seller(api, db, "acme")
    created = acme.post("/v1/webhook-subscriptions", json={"url": receiver.url, "event_types": ["order.*"]})
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")   # generated: shown once
    sub = created.json()
    assert "secret" not in acme.get(f"/v1/webhook-subscriptions/{sub['id']}").json()
    paused = acme.patch(f"/v1/webhook-subscriptions/{sub['id']}", json={"enabled": False})
    assert paused.status_code == 200 and paused.json()["enabled"] is False
    api.post("/v1/orders", json=order("4000000311"))
    assert deliveries(acme) == []   # a disabled subscription queues nothing
    assert acme.patch(f"/v1/webhook-subscriptions/{sub['id']}", json={"enabled": True}).json()["enabled"] is True
    replayed = acme.post(f"/v1/webhook-subscriptions/{sub['id']}/replay",
                         json={"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()})
    assert replayed.status_code == 202 and replayed.json()["queued"] >= 1
    drain(worker, lambda: receiver.requests and deliveries(acme)[0]["status"] == "delivered")
    [d] = [d for d in deliveries(acme) if d["status"] == "delivered"][:1]
    again = acme.post(f"/v1/webhook-deliveries/{d['id']}/redeliver")
    assert again.status_code == 202 and again.json()["status"] == "pending"
    assert acme.delete(f"/v1/webhook-subscriptions/{sub['id']}").status_code == 204
    assert acme.get("/v1/webhook-subscriptions").json() == {"data": []}


def test_a_seller_redelivers_its_dead_letters(api, db, receiver, worker):
    acme = _seller(api, db, "acme")
    receiver.plan = [500] * worker.config.retry.max_attempts
    sub = subscribe(acme, receiver.url)
    api.post("/v1/orders", json=order("4000000321"))
    drain(worker, lambda: deliveries(acme)[0]["status"] == "dead")
    [dead] = deliveries(acme)
    assert dead["last_status"] == 500 and dead["attempt_count"] == worker.config.retry.max_attempts
    assert len(dead["attempts"]) == worker.config.retry.max_attempts
    queued = acme.post(f"/v1/webhook-subscriptions/{sub['id']}/redeliver-dead")
    assert queued.status_code == 202 and queued.json() == {"queued": 1}
    drain(worker, lambda: deliveries(acme)[0]["status"] == "delivered")
    assert acme.post(f"/v1/webhook-subscriptions/{sub['id']}/redeliver-dead").json() == {"queued": 0}


def test_another_sellers_subscriptions_and_deliveries_do_not_exist_and_nothing_changes(api, db):
    acme, globex = _seller(api, db, "acme"), _seller(api, db, "globex")
    sub = subscribe(acme, "http://127.0.0.1:9/acme")
    everyone = subscribe(api, "http://127.0.0.1:9/everyone")
    api.post("/v1/orders", json=order("4000000331"))
    [delivery] = deliveries(acme)
    before = snapshot(db)
    for target in (sub, everyone):   # another seller's, and the operator's every-seller subscription
        sid = target["id"]
        for method, path, body in (("GET", f"/v1/webhook-subscriptions/{sid}", None),
                                   ("PATCH", f"/v1/webhook-subscriptions/{sid}", {"enabled": False}),
                                   ("DELETE", f"/v1/webhook-subscriptions/{sid}", None),
                                   ("POST", f"/v1/webhook-subscriptions/{sid}/replay",
                                    {"since": "2020-01-01T00:00:00Z"}),
                                   ("POST", f"/v1/webhook-subscriptions/{sid}/redeliver-dead", None),
                                   ("GET", f"/v1/webhook-deliveries?subscription_id={sid}", None)):
            response = globex.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "webhook_subscription_not_found"
    everyone_delivery = deliveries(api, subscription_id=everyone["id"])[0]["id"]
    for delivery_id, caller in ((delivery["id"], globex), (everyone_delivery, acme)):
        for method, path in (("GET", f"/v1/webhook-deliveries/{delivery_id}"),
                             ("POST", f"/v1/webhook-deliveries/{delivery_id}/redeliver")):
            response = caller.request(method, path)
            assert response.status_code == 404 and response.json()["error"]["code"] == "webhook_delivery_not_found"
    # A seller's subscription is its own orders': naming another seller, or none (every seller's), is refused.
    for body in ({"url": "http://127.0.0.1:9/x", "event_types": ["*"], "seller_id": "acme"},
                 {"url": "http://127.0.0.1:9/x", "event_types": ["*"], "seller_id": None}):
        response = globex.post("/v1/webhook-subscriptions", json=body)
        assert response.status_code == 403 and response.json()["error"]["code"] == "seller_id_mismatch"
    for change in ({"seller_id": "globex"}, {"seller_id": None}):
        response = acme.patch(f"/v1/webhook-subscriptions/{sub['id']}", json=change)
        assert response.status_code == 403 and response.json()["error"]["code"] == "seller_id_mismatch"
    assert snapshot(db) == before


def test_a_sellers_subscription_keeps_the_address_filter_and_seals_its_secret(api, db, server):
    acme = _seller(api, db, "acme")
    before = snapshot(db)
    server.settings.webhook_allow_private_urls = False
    try:
        refused = acme.post("/v1/webhook-subscriptions", json={"url": "http://169.254.169.254/", "event_types": ["*"]})
    finally:
        server.settings.webhook_allow_private_urls = True
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "webhook_url_not_allowed"
    assert snapshot(db) == before
    subscribe(acme, "http://127.0.0.1:9/sealed")
    assert SECRET not in str(snapshot(db)["webhook_subscriptions"])   # sealed at rest, as an operator's


def test_an_operator_manages_a_sellers_subscription(api, db):
    acme = _seller(api, db, "acme")
    sub = subscribe(acme, "http://127.0.0.1:9/acme")
    assert api.get(f"/v1/webhook-subscriptions/{sub['id']}").json()["seller_id"] == "acme"
    assert api.patch(f"/v1/webhook-subscriptions/{sub['id']}", json={"enabled": False}).json()["enabled"] is False
    assert acme.get(f"/v1/webhook-subscriptions/{sub['id']}").json()["enabled"] is False
    assert api.delete(f"/v1/webhook-subscriptions/{sub['id']}").status_code == 204
    assert acme.get(f"/v1/webhook-subscriptions/{sub['id']}").status_code == 404
