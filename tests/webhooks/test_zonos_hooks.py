"""Zonos webhooks over real HTTP (the Zonos GraphQL API reference's webhooks): registered with
`webhookCreate`, each delivery is a POST of `{"data": {"order": {…}}}` — the order exactly as the face's
`order` query shows it — signed with the webhook's secret; every change is sent, a seller's own change
through the Zonos face too."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from kalem.platforms.zonos.face.views import WEBHOOK_QUERY
from tests.conftest import snapshot
from tests.dialects.test_zonos import LINE, UPDATE, code, gql, place, seed_order, zid
from tests.golden.shape import assert_same_shape
from tests.support import client_for, token
from tests.webhooks.conftest import deliveries, drain

CREATE = """mutation($input: WebhookCreateInput!) {
  webhookCreate(input: $input) { id url type status secret query createdAt } }"""
UPDATE_HOOK = """mutation($input: WebhookUpdateInput!) { webhookUpdate(input: $input) { id url type status } }"""
LOGS = """query($filter: WebhookLogFilter) { webhookLogs(filter: $filter) { id type url createdAt responseStatus } }"""
#: The Zonos GraphQL API reference: `webhookLogs(filter: {type})` → {id, type, url, createdAt, responseStatus}.
DOCUMENTED_LOG = {"id": "webhook_log_1", "type": "ORDER_UPDATED", "url": "https://example.com/zonos",
                  "createdAt": "2024-06-01T12:00:00Z", "responseStatus": 200}


def register(api, seller: str, url: str, kind: str, **extra) -> dict:
    result = gql(api, CREATE, seller, input={"url": url, "type": kind, **extra})
    assert "errors" not in result, result
    return result["data"]["webhookCreate"]


def settled(api) -> bool:
    return all(d["status"] not in ("pending", "delivering") for d in deliveries(api))


def as_queried(api, order: dict) -> dict:
    """The body a delivery must carry: the answer to the webhook's own query."""
    return gql(api, WEBHOOK_QUERY, orderId=zid(order))["data"]


def test_an_item_removed_elsewhere_posts_the_order_as_zonos_shows_it(api, db, receiver, worker):
    seller = token(db, "seller", "acme")
    hook = register(api, seller, f"http://127.0.0.1:{receiver.port}/zonos", "ORDER_UPDATED")
    assert hook["id"].startswith("webhook_") and hook["secret"].startswith("whsec_")
    assert (hook["type"], hook["status"], hook["query"]) == ("ORDER_UPDATED", "ENABLED", WEBHOOK_QUERY)
    order = place(api, seed_order(quantity=2))  # order.placed: not an ORDER_UPDATED event
    removed = client_for(api, seller).post("/v1/orders/4000000101/cancellations",
                                           json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 135}]})
    assert removed.status_code == 200, removed.text
    drain(worker, lambda: settled(api))
    [got] = receiver.requests
    assert (got.method, got.path) == ("POST", "/zonos")
    body = got.json()
    assert body == {"data": as_queried(api, order)}
    assert list(body) == ["data"] and list(body["data"]) == ["order"]
    sent = body["data"]["order"]
    assert (sent["id"], sent["status"], sent["items"][0]["quantity"]) == (zid(order), "OPEN", 1)
    assert isinstance(sent["items"][0]["amount"], float) and sent["updatedAt"].endswith("Z")
    Webhook(hook["secret"]).verify(got.body, got.headers)  # signed with the secret webhookCreate gave


def test_every_change_is_sent_the_sellers_own_through_the_face_too(api, db, receiver, worker):
    seller = token(db, "seller", "acme")
    register(api, seller, f"http://127.0.0.1:{receiver.port}/updated", "ORDER_UPDATED")
    register(api, seller, f"http://127.0.0.1:{receiver.port}/canceled", "ORDER_CANCELED")
    order = place(api, seed_order(quantity=3))
    own = gql(api, UPDATE, seller, orderId=zid(order), itemId=f"item_{LINE}", quantity=1)
    assert "errors" not in own, own
    by_operator = gql(api, UPDATE, orderId=zid(order), itemId=f"item_{LINE}", quantity=1)
    assert "errors" not in by_operator, by_operator
    canceled = gql(api, 'mutation($id: ID!) { orderCancel(id: $id) { status } }', id=zid(order))
    assert canceled["data"]["orderCancel"]["status"] == "CANCELED"
    drain(worker, lambda: settled(api))
    # Zonos sends ORDER_UPDATED for any update of the order, the merchant's own included: the seller's
    # removal, the operator's, and the cancel (the last unit's lines.cancelled, then order.cancelled),
    # each to the webhook of its type.
    assert sorted(r.path for r in receiver.requests) == ["/canceled", "/updated", "/updated", "/updated"]
    [last] = [r.json() for r in receiver.requests if r.path == "/canceled"]
    assert last == {"data": as_queried(api, order)} and last["data"]["order"]["status"] == "CANCELED"
    statuses = [d["status"] for d in reversed(deliveries(api))]
    assert statuses == ["delivered"] * 4


def test_order_created_and_status_changed(api, db, receiver, worker):
    seller = token(db, "seller", "acme")
    register(api, seller, f"http://127.0.0.1:{receiver.port}/created", "ORDER_CREATED")
    register(api, seller, f"http://127.0.0.1:{receiver.port}/status", "ORDER_STATUS_CHANGED")
    register(api, seller, f"http://127.0.0.1:{receiver.port}/shipment", "SHIPMENT_CREATED")
    order = place(api, seed_order(quantity=2, packages=[
        {"package_id": "P1", "status": "Created", "items": [{"line_id": LINE, "quantity": 2}]}]))
    for step in ("Picking", "Shipped"):  # package.approved sends nothing; package.shipped two webhooks
        moved = api.post("/v1/orders/4000000101/packages/P1/status", json={"status": step})
        assert moved.status_code == 200, moved.text
    drain(worker, lambda: settled(api))
    assert sorted(r.path for r in receiver.requests) == ["/created", "/shipment", "/status"]
    by_path = {r.path: r.json()["data"]["order"] for r in receiver.requests}
    assert by_path["/status"]["status"] == by_path["/shipment"]["status"] == "COMPLETED"
    assert by_path["/created"]["id"] == zid(order)


def test_webhook_logs_and_update(api, db, receiver, worker):
    seller = token(db, "seller", "acme")
    receiver.plan = [500]
    hook = register(api, seller, f"http://127.0.0.1:{receiver.port}/zonos", "ORDER_CREATED")
    place(api, seed_order())
    drain(worker, lambda: len(receiver.requests) >= 2 and settled(api))
    logs = gql(api, LOGS, seller, filter={"type": "ORDER_CREATED"})["data"]["webhookLogs"]
    assert len(logs) == 1
    assert_same_shape(logs[0], DOCUMENTED_LOG)
    assert logs[0]["type"] == "ORDER_CREATED" and logs[0]["id"].startswith("webhook_log_")
    assert logs[0]["responseStatus"] == 200 and logs[0]["url"] == f"http://127.0.0.1:{receiver.port}/zonos"
    assert gql(api, LOGS, seller, filter={"type": "ORDER_UPDATED"})["data"]["webhookLogs"] == []
    changed = gql(api, UPDATE_HOOK, seller, input={"id": hook["id"], "status": "DISABLED", "type": "ORDER_UPDATED",
                                                   "url": f"http://127.0.0.1:{receiver.port}/other"})
    assert changed["data"]["webhookUpdate"] == {"id": hook["id"], "url": f"http://127.0.0.1:{receiver.port}/other",
                                                "type": "ORDER_UPDATED", "status": "DISABLED"}
    place(api, seed_order("4000000102", aon="AO-2", line="l2"))
    assert not [d for d in deliveries(api) if d["status"] == "pending"]  # disabled: nothing queued
    # Another seller sees none of it, and cannot change it.
    other = token(db, "seller", "other")
    assert gql(api, LOGS, other)["data"]["webhookLogs"] == []
    before = snapshot(db)
    refused = gql(api, UPDATE_HOOK, other, input={"id": hook["id"], "status": "ENABLED"})
    assert code(refused) == "WEBHOOK_SUBSCRIPTION_NOT_FOUND"
    assert snapshot(db) == before


@pytest.mark.parametrize("case, hook, expected", [
    ("a type kalem never sends", {"url": "http://127.0.0.1:9/x", "type": "SHIPMENT_CANCELED"},
     "WEBHOOK_TYPE_NOT_SUPPORTED"),
    ("not http", {"url": "ftp://127.0.0.1/x", "type": "ORDER_UPDATED"}, "INVALID_WEBHOOK_URL"),
    ("no such type", {"url": "http://127.0.0.1:9/x", "type": "ORDER_SHIPPED"}, "GRAPHQL_VALIDATION_FAILED"),
    ("no url", {"type": "ORDER_UPDATED"}, "GRAPHQL_VALIDATION_FAILED"),
    ("no such status", {"url": "http://127.0.0.1:9/x", "type": "ORDER_UPDATED", "status": "PAUSED"},
     "GRAPHQL_VALIDATION_FAILED"),
])
def test_refused_registrations_change_nothing(api, db, case, hook, expected):
    seller = token(db, "seller", "acme")
    before = snapshot(db)
    assert code(gql(api, CREATE, seller, input=hook)) == expected, case
    assert code(gql(api, UPDATE_HOOK, seller, input={"id": "webhook_nope", "status": "DISABLED"})) == \
        "WEBHOOK_SUBSCRIPTION_NOT_FOUND"
    assert code(gql(api, CREATE, None, input={"url": "http://127.0.0.1:9/x", "type": "ORDER_UPDATED"})) == \
        "AUTHENTICATION_FAILED"
    assert snapshot(db) == before


def test_registering_the_same_url_and_type_again_is_the_same_webhook(api, db):
    seller = token(db, "seller", "acme")
    first = register(api, seller, "http://127.0.0.1:9/zonos", "ORDER_UPDATED")
    before = snapshot(db)
    assert register(api, seller, "http://127.0.0.1:9/zonos", "ORDER_UPDATED") == {**first, "secret": None}
    assert snapshot(db) == before  # the secret was shown once, by the webhookCreate that made it
    disabled = register(api, seller, "http://127.0.0.1:9/zonos", "ORDER_UPDATED", status="DISABLED")
    assert (disabled["id"], disabled["status"]) == (first["id"], "DISABLED")
    # Another type, or another seller: another webhook.
    assert register(api, seller, "http://127.0.0.1:9/zonos", "ORDER_CREATED")["id"] != first["id"]
    assert register(api, token(db, "seller", "other"), "http://127.0.0.1:9/zonos", "ORDER_UPDATED")["id"] != first["id"]
