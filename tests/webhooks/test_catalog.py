"""The webhook event catalog: one list, made from the event dataclasses, published in the API and the
OpenAPI document, checked at subscription; every event type is recorded by the domain; a delivery says
what it got."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
import sys
from pathlib import Path

import kalem.domain.events
from kalem.domain.events import EventData
from kalem.domain.events.catalog import EVENT_TYPES
from tests.support import order
from tests.webhooks.conftest import deliveries, drain, subscribe

DOMAIN = Path(__file__).parents[2] / "src" / "kalem" / "domain"


def _event_classes() -> set[type[EventData]]:
    """Every event type's dataclass in `kalem.domain.events` (a base class that names no type is none)."""
    for module in pkgutil.iter_modules(kalem.domain.events.__path__):
        importlib.import_module(f"kalem.domain.events.{module.name}")
    found, todo = set(), [EventData]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            # `@dataclass(slots=True)` leaves the class it replaced behind: the one its module names counts.
            if "TYPE" in vars(sub) and getattr(sys.modules[sub.__module__], sub.__name__, None) is sub:
                found.add(sub)
    return found


def test_the_catalog_lists_exactly_the_event_dataclasses():
    classes = _event_classes()
    assert {t.data_class for t in EVENT_TYPES.values()} == classes
    assert len({c.TYPE for c in classes}) == len(classes) == len(EVENT_TYPES)
    assert all(dataclasses.is_dataclass(c) and c.__dataclass_params__.frozen for c in classes)  # type: ignore[attr-defined]
    assert all(EVENT_TYPES[c.TYPE].data_class is c and EVENT_TYPES[c.TYPE].description for c in classes)


def _used_names(tree: ast.AST) -> set[str]:
    """Names a module's code uses (a call, a table of event types, an argument), not those it only
    imports or writes in annotations."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        notes = [getattr(node, "returns", None), getattr(node, "annotation", None)]
        if isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
        for note in filter(None, notes):
            skipped |= {id(n) for n in ast.walk(note)}
    return {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(tree)
            if isinstance(n, ast.Name | ast.Attribute) and id(n) not in skipped}


def test_every_event_type_is_recorded_by_the_domain():
    """The recorder takes an event dataclass and nothing else: every one of them is built by the domain
    outside the events package, called directly or through a table (package steps, billing effects)."""
    used: set[str] = set()
    for source in DOMAIN.rglob("*.py"):
        if (DOMAIN / "events") not in source.parents:
            used |= _used_names(ast.parse(source.read_text()))
    assert sorted(c.__name__ for c in _event_classes() if c.__name__ not in used) == []


def test_event_types_are_listed_with_their_bodies_per_dialect(api):
    listed = api.get("/v1/webhook-event-types")
    assert listed.status_code == 200, listed.text
    by_type = {e["type"]: e for e in listed.json()["data"]}
    assert set(by_type) == set(EVENT_TYPES)
    approved = by_type["cancel_request.approved"]
    assert set(approved["bodies"]) == {"native", "hebiar", "hepsiglobal", "zonos"}
    assert "note" in approved["bodies"]["native"]["properties"]["data"]["properties"]
    assert approved["bodies"]["hebiar"]["properties"]["hookName"] == {  # a partial approval rejects the rest
        "enum": ["CancelOrderItemLineConfirmedEvent", "CancelOrderItemLineRejectedEvent"]}
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
