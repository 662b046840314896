"""The webhook API's refusals (4xx, nothing changed) and the change feed."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN, empty, snapshot
from tests.support import client_for, order, token
from tests.webhooks.conftest import subscribe
from tests.webhooks.receiver import Receiver

BAD_BODIES = [
    ({"url": "ftp://example.com/x", "event_types": ["*"]}, "invalid_webhook_url"),
    ({"url": "not a url", "event_types": ["*"]}, "invalid_webhook_url"),
    ({"url": "http://user:pw@example.com/", "event_types": ["*"]}, "invalid_webhook_url"),
    ({"url": "http://127.0.0.1:9/x", "event_types": ["Order Placed!"]}, "invalid_event_type"),
    ({"url": "http://127.0.0.1:9/x", "event_types": []}, "invalid_request"),
    ({"url": "http://127.0.0.1:9/x", "event_types": ["*"], "dialect": "shopify"}, "invalid_request"),
    ({"url": "http://127.0.0.1:9/x", "event_types": ["*"], "secret": "not-whsec"}, "invalid_webhook_secret"),
    ({"url": "http://127.0.0.1:9/x", "event_types": ["*"], "secret": "whsec_!!"}, "invalid_webhook_secret"),
    ({"url": "http://127.0.0.1:9/x", "event_types": ["*"], "auth": {"kind": "basic", "username": "u"}},
     "webhook_auth_incomplete"),
    ({"url": "http://127.0.0.1:9/x", "event_types": ["*"], "colour": "red"}, "invalid_request"),
]


@pytest.mark.parametrize(("body", "code"), BAD_BODIES)
def test_bad_subscriptions_are_refused_and_change_nothing(api, db, body, code):
    before = snapshot(db)
    response = api.post("/v1/webhook-subscriptions", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert snapshot(db) == before


def test_private_addresses_are_refused_unless_allowed(api, db, server):
    before = snapshot(db)
    server.settings.webhook_allow_private_urls = False
    try:
        for url in ("http://127.0.0.1:8080/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/",
                    "http://localhost/x", "http://[2002:7f00:1::1]/x", "http://[64:ff9b::a9fe:a9fe]/x"):
            response = api.post("/v1/webhook-subscriptions", json={"url": url, "event_types": ["*"]})
            assert response.status_code == 422, (url, response.text)
            assert response.json()["error"]["code"] == "webhook_url_not_allowed"
    finally:
        server.settings.webhook_allow_private_urls = True
    assert snapshot(db) == before


def test_a_private_address_is_refused_at_send_time_too():
    """DNS rebinding: a name that was public when subscribed is resolved and checked before every send."""
    from kalem.webhooks.sender import Sender
    sender = Sender(allow_private=False, resolver=lambda host, port: ["127.0.0.1"])  # the name now points home
    try:
        attempt = sender.send({"url": "http://hooks.example/x", "auth_kind": "secret_url"}, "msg", {})
    finally:
        sender.close()
    assert attempt.status_code is None and attempt.error.startswith("webhook_url_not_allowed")


def test_sends_to_one_endpoint_reuse_a_connection_pinned_to_the_checked_address():
    """The request goes to the address that was checked, with the URL's host in `Host`; one delivery
    after another to that endpoint travels over the same kept-alive connection."""
    from kalem.webhooks.sender import Sender
    receiver = Receiver()
    receiver.keep_alive = True
    receiver.start()
    sender = Sender(allow_private=True, resolver=lambda host, port: ["127.0.0.1"])
    try:
        url = f"http://hooks.example:{receiver.port}/hooks?to=me"
        attempts = [sender.send({"url": url, "auth_kind": "secret_url"}, f"msg{n}", {"n": n}) for n in range(5)]
    finally:
        sender.close()
        receiver.stop()
    assert [a.status_code for a in attempts] == [200] * 5
    assert [(r.headers["host"], r.path, r.json()) for r in receiver.requests] == [
        (f"hooks.example:{receiver.port}", "/hooks?to=me", {"n": n}) for n in range(5)]
    assert receiver.connections == 1


def test_a_seller_manages_only_subscriptions_of_its_own_orders(api, db):
    """(tests/webhooks/test_self_service.py has the rest.)"""
    seller = client_for(api, token(db, "seller", "acme"))
    before = snapshot(db)
    response = seller.post("/v1/webhook-subscriptions",
                           json={"url": "http://127.0.0.1:9/", "event_types": ["*"], "seller_id": "globex"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "seller_id_mismatch"
    assert seller.get("/v1/webhook-deliveries").json()["data"] == []
    assert snapshot(db) == before


def test_crud(api, db):
    created = api.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1:9/x", "event_types": ["*"]})
    assert created.status_code == 201
    sub = created.json()
    assert sub["secret"].startswith("whsec_") and sub["auth"] == {"kind": "standard"}  # generated, shown once
    assert "secret" not in api.get(f"/v1/webhook-subscriptions/{sub['id']}").json()
    patched = api.patch(f"/v1/webhook-subscriptions/{sub['id']}", json={"event_types": ["order.*"], "enabled": False})
    assert patched.status_code == 200 and patched.json()["event_types"] == ["order.*"]
    before = snapshot(db)
    bad = api.patch(f"/v1/webhook-subscriptions/{sub['id']}", json={"event_types": ["BAD TYPE"]})
    assert bad.status_code == 422 and snapshot(db) == before
    assert api.get("/v1/webhook-subscriptions/nope").status_code == 404
    assert [s["id"] for s in api.get("/v1/webhook-subscriptions").json()["data"]] == [sub["id"]]
    secret_url = subscribe(api, "http://127.0.0.1:9/T0p53cr3t", secret=None, auth={"kind": "secret_url"})
    assert "T0p53cr3t" not in str(api.get(f"/v1/webhook-subscriptions/{secret_url['id']}").json())
    assert api.delete(f"/v1/webhook-subscriptions/{sub['id']}").status_code == 204
    assert api.get(f"/v1/webhook-subscriptions/{sub['id']}").status_code == 404
    assert api.post("/v1/webhook-deliveries/999999/redeliver").status_code == 404
    assert api.get("/v1/webhook-deliveries", params={"status": "lost"}).status_code == 422


def test_the_change_feed_pages_every_event_once_in_order(api):
    for n in range(3):
        api.post("/v1/orders", json=order(f"40000002{n:02d}"))
    seen, cursor = [], None
    while True:
        page = api.get("/v1/events", params={"limit": 2, **({"after": cursor} if cursor else {})}).json()
        if not page["data"]:
            break
        seen.extend(page["data"])
        cursor = page["next_cursor"]
    assert [e["order_number"] for e in seen if e["type"] == "order.placed"] == \
        ["4000000200", "4000000201", "4000000202"]
    assert len({e["id"] for e in seen}) == len(seen)
    assert api.get("/v1/events", params={"after": "garbage"}).status_code == 422


@pytest.fixture
def pg_api(servers):
    """PostgreSQL only: SQLite serializes writers, so there position order is commit order."""
    server = servers["postgresql"]
    empty(server.db)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as client:
        yield server, client


def test_the_feed_never_passes_a_transaction_still_running(pg_api):
    """PostgreSQL: an event of a transaction still open holds back events committed after it, so a
    reader's cursor can never move past an event that commits later."""
    server, api = pg_api
    from kalem.domain.events.event import Event
    from kalem.store.repositories import EventRepository
    api.post("/v1/orders", json=order("4000000300"))
    with server.db.engine.connect() as conn:
        tx = conn.begin()
        conn.execute(sa.text("SELECT pg_current_xact_id()"))  # this transaction now has the older id
        api.post("/v1/orders", json=order("4000000301"))  # commits while the older one is open
        visible = [e["order_number"] for e in api.get("/v1/events").json()["data"]]
        assert "4000000300" in visible and "4000000301" not in visible
        order_id = api.get("/v1/orders/4000000300").json()["id"]
        EventRepository(conn).append([Event("order.noted", order_id, "acme", "4000000300", 99,
                                           server_now(), "test:x", {})])
        tx.commit()
    after = [e for e in api.get("/v1/events").json()["data"]]
    assert [e["sequence"] for e in after if e["order_number"] == "4000000300"][-1] == 99
    # the late commit is ordered before the order committed earlier: a cursor never skips it
    numbers = [e["order_number"] for e in after]
    assert numbers.index("4000000301") > max(i for i, n in enumerate(numbers) if n == "4000000300")


def server_now():
    from datetime import UTC, datetime
    return datetime.now(UTC)
