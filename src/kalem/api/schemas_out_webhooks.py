"""Native response schemas of webhooks (subscriptions, deliveries, the event catalog) and of the change
feed `/v1/events`. Design: docs/webhooks.md. The examples are the demo's (`kalem demo`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from kalem.api import examples
from kalem.api.schemas_out import Out


class SubscriptionAuthOut(Out):
    kind: str = Field(description="standard (Standard Webhooks signature), basic, bearer or secret_url")
    username: str | None = Field(None, description="basic auth only")


class SubscriptionOut(Out):
    model_config = {"json_schema_extra": {"examples": [examples.SUBSCRIPTION]}}
    id: str
    url: str = Field(description="a secret_url subscription shows only where it goes")
    event_types: list[str]
    dialect: str
    auth: SubscriptionAuthOut
    seller_id: str | None
    channels: list[str] | None = Field(None, description="only these channels' orders; null: every channel")
    enabled: bool
    disabled_reason: str | None
    previous_secret_valid_until: datetime | None = Field(description="after a rotation, the old secret's end")
    created_at: datetime
    secret: str | None = Field(None, description="the signing secret: shown once, when kalem generated it")


class SubscriptionList(Out):
    data: list[SubscriptionOut]


class ReplayOut(Out):
    queued: int = Field(description="deliveries queued")


class AttemptOut(Out):
    attempted_at: datetime
    status_code: int | None
    duration_ms: int | None
    response_excerpt: str | None
    error: str | None


class DeliveryOut(Out):
    id: int
    subscription_id: str
    event_id: str
    event_position: int
    order_id: str
    sequence: int
    status: str = Field(description="pending, delivering, delivered, skipped, failed or dead")
    attempt_count: int
    next_attempt_at: datetime | None
    lease_until: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempts: list[AttemptOut]


class DeliveryPage(Out):
    data: list[DeliveryOut]
    next_cursor: int | None = Field(description="pass as `cursor` for the next (older) page")


class FeedEventOut(Out):
    id: str
    type: str
    order_id: str
    order_number: str
    seller_id: str
    channel: str = Field(description="the order's channel")
    sequence: int
    occurred_at: datetime
    actor: str
    data: dict[str, Any]
    cursor: str


class FeedPage(Out):
    model_config = {"json_schema_extra": {"examples": [examples.FEED]}}
    data: list[FeedEventOut]
    next_cursor: str | None = Field(description="pass as `after`; page until `data` is empty, then poll")


class EventTypeOut(Out):
    type: str
    description: str
    bodies: dict[str, dict[str, Any]] = Field(description="dialect → the JSON Schema of one body it sends")


class EventTypeList(Out):
    data: list[EventTypeOut]
