"""Payload dialects: how one event becomes the bodies a subscription receives.

`native` is built in. A platform face registers its renderer from the composition root
(`kalem.bootstrap.register_webhook_dialects`), because `kalem.webhooks` may not import
`kalem.dialects` (siblings never import each other):

    from kalem.webhooks import registry
    registry.register("hepsiglobal", hepsiglobal.views.hook_payloads, hepsiglobal.views.HOOK_SCHEMAS)

A renderer takes the event dict (`id, type, order_id, order_number, seller_id, sequence,
occurred_at` (ISO 8601), `actor, data`) and returns a list of JSON bodies — none when the platform
has no hook for that event (the delivery is then `skipped`: no request is sent), several
when the platform sends one hook per package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kalem.domain.event_catalog import EVENT_TYPES

Renderer = Callable[[dict[str, Any]], list[dict[str, Any]]]

_renderers: dict[str, Renderer] = {}
#: dialect → {event type: JSON Schema of one body it renders}
_schemas: dict[str, Mapping[str, dict[str, Any]]] = {}


class DialectNotRegistered(LookupError):
    pass


def register(dialect: str, renderer: Renderer, schemas: Mapping[str, dict[str, Any]]) -> None:
    """`schemas`: the event types the dialect has a body for, each with that body's JSON Schema."""
    _renderers[dialect] = renderer
    _schemas[dialect] = schemas


def registered() -> list[str]:
    return ["native", *sorted(_renderers)]


def native(event: dict[str, Any]) -> list[dict[str, Any]]:
    """kalem's own body; `webhook-id` carries the event id and `sequence` orders an order's events."""
    return [{"id": event["id"], "type": event["type"], "order_number": event["order_number"],
             "seller_id": event["seller_id"], "sequence": event["sequence"],
             "occurred_at": event["occurred_at"], "data": event["data"]}]


def native_schema(event_type: str) -> dict[str, Any]:
    return {"type": "object", "required": ["id", "type", "order_number", "seller_id", "sequence", "occurred_at",
                                           "data"], "properties": {
        "id": {"type": "string", "description": "the event id, also in the webhook-id header"},
        "type": {"const": event_type}, "order_number": {"type": "string"}, "seller_id": {"type": "string"},
        "sequence": {"type": "integer", "description": "orders one order's events, from 1 without gaps"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "data": EVENT_TYPES[event_type].data_schema()}}


def body_schemas(event_type: str) -> dict[str, dict[str, Any]]:
    """dialect → the JSON Schema of the body a subscription of that dialect receives for `event_type`
    (dialects with no body for it are left out)."""
    found = {"native": native_schema(event_type)}
    for dialect in sorted(_schemas):
        if event_type in _schemas[dialect]:
            found[dialect] = _schemas[dialect][event_type]
    return found


def render(dialect: str, event: dict[str, Any]) -> list[dict[str, Any]]:
    if dialect == "native":
        return native(event)
    renderer = _renderers.get(dialect)
    if renderer is None:
        raise DialectNotRegistered(f"no payload renderer registered for dialect {dialect}")
    return renderer(event)
