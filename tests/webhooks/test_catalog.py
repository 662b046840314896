"""The webhook event catalog: one list, published in the API and the OpenAPI document, checked at
subscription, equal to what the domain records; a delivery says what it got."""

from __future__ import annotations

import re
from pathlib import Path

from kalem.domain.billing import order_billing
from kalem.domain.events.catalog import EVENT_TYPES
from kalem.domain.orders import packages
from tests.support import order
from tests.webhooks.conftest import deliveries, drain, subscribe

DOMAIN = Path(__file__).parents[2] / "src" / "kalem" / "domain"


def test_the_catalog_lists_exactly_the_events_the_domain_records():
    recorded = set(packages._EVENT_OF.values()) | set(order_billing._EFFECT_EVENTS.values())
    for source in DOMAIN.rglob("*.py"):
        recorded |= set(re.findall(r'record\(\s*"([a-z_.]+)"', source.read_text()))
        recorded |= set(re.findall(r'"(cancel_request\.[a-z]+)"[,)]', source.read_text()))  # via _release
    assert recorded == set(EVENT_TYPES)


def test_event_types_are_listed_with_their_bodies_per_dialect(api):
    listed = api.get("/v1/webhook-event-types")
    assert listed.status_code == 200, listed.text
    by_type = {e["type"]: e for e in listed.json()["data"]}
    assert set(by_type) == set(EVENT_TYPES)
    approved = by_type["cancel_request.approved"]
    assert set(approved["bodies"]) == {"native", "hebiar", "hepsiglobal", "zonos"}
    assert "note" in approved["bodies"]["native"]["properties"]["data"]["properties"]
    assert approved["bodies"]["hebiar"]["properties"]["hookName"] == {"const": "CancelOrderItemLineConfirmedEvent"}
    assert set(by_type["refund.settled"]["bodies"]) == {"native", "hepsiglobal"}


def test_the_openapi_document_publishes_them_as_webhooks(api):
    spec = api.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["webhooks"]) == set(EVENT_TYPES)
    body = spec["webhooks"]["order.placed"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert [b["title"] for b in body["oneOf"]] == ["native", "zonos"]
    cancelled = spec["webhooks"]["lines.cancelled"]  # HepsiGlobal's order-cancel goes out as PUT
    assert set(cancelled) == {"post", "put"}
    [hg] = cancelled["put"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert hg["title"] == "hepsiglobal" and "cancel_quantity" in hg["properties"]
    posted = cancelled["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [b["title"] for b in posted] == ["native", "hebiar", "zonos"]  # Hebiar: OrderPackageStatusChangedEvent


def test_an_unknown_event_type_is_refused_with_the_known_ones(api, db):
    refused = api.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1:9/x",
                                                          "event_types": ["order.canceled"]})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "unknown_event_type"
    assert "order.cancelled" in error["details"]["known"] and "lines.cancelled" in error["details"]["known"]
    assert api.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1:9/x",
                                                       "event_types": ["nothing.*"]}).status_code == 422
    assert api.get("/v1/webhook-subscriptions").json()["data"] == []


def test_an_event_the_dialect_has_no_body_for_is_skipped_not_delivered(api, receiver, worker):
    subscribe(api, receiver.url, dialect="hebiar", event_types=["order.placed", "cancel_request.*"])
    assert api.post("/v1/orders", json=order("4000000301")).status_code == 201
    request = api.post("/v1/cancel-requests", json={"order_number": "4000000301", "lines": [
        {"line_id": "item000301", "quantity": 1, "reason_id": 136}]}).json()
    api.post(f"/v1/cancel-requests/{request['id']}/approve")
    drain(worker, lambda: all(d["status"] not in ("pending", "delivering") for d in deliveries(api)))
    by_sequence = {d["sequence"]: d for d in deliveries(api)}
    assert (by_sequence[1]["status"], by_sequence[1]["last_status"]) == ("skipped", None)
    assert "hebiar" in by_sequence[1]["last_error"] and by_sequence[1]["delivered_at"] is None
    assert (by_sequence[3]["status"], by_sequence[3]["last_status"]) == ("delivered", 200)
    assert [r.json()["hookName"] for r in receiver.requests] == ["CancelOrderItemLineConfirmedEvent"]
    assert all(d["last_status"] is not None for d in deliveries(api, status="delivered"))
