"""Payload dialects: how one event becomes the bodies a subscription receives.

`native` is built in. The faces' renderers (each platform's `PLATFORM.webhooks`) are handed to each
worker by the composition root (`kalem.bootstrap.worker.build_worker`), because `kalem.webhooks` may
not import `kalem.platforms` (siblings never import each other):

    Worker(uow, config, dialects={"hepsiglobal": hepsiglobal.hook_payloads, ...})

A renderer takes the event dict (`id, type, order_id, order_number, seller_id, sequence,
occurred_at` (ISO 8601), `actor, data`) and returns a list of JSON bodies (POSTed) or `Hook`s (a body
with the method its platform documents) — none when the platform has no hook for that event (the
delivery is then `skipped`: no request is sent), several when the platform sends one hook per package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kalem.domain.events import EVENT_TYPES
from kalem.domain.webhooks import Hook

Renderer = Callable[[dict[str, Any]], Sequence[dict[str, Any] | Hook]]


class DialectNotRegistered(LookupError):
    pass


def native(event: dict[str, Any]) -> list[dict[str, Any]]:
    """kalem's own body; `webhook-id` carries the event id and `sequence` orders an order's events."""
    return [{"id": event["id"], "type": event["type"], "order_number": event["order_number"],
             "seller_id": event["seller_id"], "channel": event["channel"], "sequence": event["sequence"],
             "occurred_at": event["occurred_at"], "data": event["data"]}]


def native_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of the native body for `event_type` (the event catalog publishes it)."""
    return {"type": "object", "required": ["id", "type", "order_number", "seller_id", "channel", "sequence",
                                           "occurred_at", "data"], "properties": {
        "id": {"type": "string", "description": "the event id, also in the webhook-id header"},
        "type": {"const": event_type}, "order_number": {"type": "string"}, "seller_id": {"type": "string"},
        "channel": {"type": "string", "description": "the channel the order was sold on"},
        "sequence": {"type": "integer", "description": "orders one order's events, from 1 without gaps"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "data": EVENT_TYPES[event_type].data_schema()}}


def render(dialects: Mapping[str, Renderer], dialect: str, event: dict[str, Any]) -> list[Hook]:
    """The requests `event` becomes in `dialect`, by the renderers a worker was given."""
    if dialect == "native":
        rendered: Sequence[dict[str, Any] | Hook] = native(event)
    elif (renderer := dialects.get(dialect)) is not None:
        rendered = renderer(event)
    else:
        raise DialectNotRegistered(f"no payload renderer registered for dialect {dialect}")
    return [r if isinstance(r, Hook) else Hook(r) for r in rendered]
