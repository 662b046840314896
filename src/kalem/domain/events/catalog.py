"""Every event type kalem records, what it means and the JSON Schema of its `data`, made from the
event dataclasses (the description is the class's docstring).

Subscriptions are checked against this list, `GET /v1/webhook-event-types` and the OpenAPI
`webhooks` section publish it in this order, and a test holds it equal to the dataclasses.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from kalem.domain.events.billing import (
    CreditNoteApplied,
    CreditNoteIssued,
    CreditNoteReleased,
    InvoiceCharged,
    InvoiceIssued,
    InvoiceRevised,
    LandedCostRecomputed,
)
from kalem.domain.events.cancels import (
    CancelRequestApproved,
    CancelRequestCreated,
    CancelRequestRejected,
    CancelRequestWithdrawn,
    LinesCancelled,
)
from kalem.domain.events.data import EventData
from kalem.domain.events.orders import OrderCancelled, OrderPlaced
from kalem.domain.events.packages import PackageApproved, PackageDelivered, PackageShipped, PackageSplit
from kalem.domain.events.refunds import RefundClaimed, RefundCreated, RefundRecorded, RefundSettled
from kalem.domain.events.returns import LinesReturned, ReturnApproved, ReturnRejected, ReturnRequested
from kalem.domain.events.schema import data_schema


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    description: str
    data_class: type[EventData]
    schema: dict[str, Any]

    @classmethod
    def of(cls, data_class: type[EventData]) -> EventType:
        return cls(data_class.TYPE, inspect.cleandoc(data_class.__doc__ or ""), data_class, data_schema(data_class))

    def data_schema(self) -> dict[str, Any]:
        return dict(self.schema)


_TYPES = (
    OrderPlaced, OrderCancelled, LinesCancelled,
    CancelRequestCreated, CancelRequestApproved, CancelRequestRejected, CancelRequestWithdrawn,
    PackageSplit, PackageApproved, PackageShipped, PackageDelivered,
    ReturnRequested, ReturnApproved, ReturnRejected, LinesReturned,
    RefundCreated, RefundClaimed, RefundSettled, RefundRecorded,
    LandedCostRecomputed, InvoiceIssued, InvoiceRevised, InvoiceCharged,
    CreditNoteIssued, CreditNoteApplied, CreditNoteReleased,
)

EVENT_TYPES: dict[str, EventType] = {t.TYPE: EventType.of(t) for t in _TYPES}
