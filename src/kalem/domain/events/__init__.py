"""Events: what happened to an order, one typed dataclass per event type, the catalog of event
types, and the reading of rows older versions of kalem wrote."""

from __future__ import annotations

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
from kalem.domain.events.catalog import (
    EVENT_TYPES,
    EventType,
)
from kalem.domain.events.data import (
    EventData,
)
from kalem.domain.events.event import (
    Actor,
    Event,
)
from kalem.domain.events.orders import (
    OrderCancelled,
    OrderPlaced,
)
from kalem.domain.events.packages import (
    PackageApproved,
    PackageDelivered,
    PackageShipped,
    PackageSplit,
)
from kalem.domain.events.refunds import (
    RefundClaimed,
    RefundCreated,
    RefundRecorded,
    RefundSettled,
)
from kalem.domain.events.returns import (
    LinesReturned,
    ReturnApproved,
    ReturnRejected,
    ReturnRequested,
)
from kalem.domain.events.upcasters import (
    current_data,
    upcast,
)

__all__ = [
    "EVENT_TYPES",
    "Actor",
    "CancelRequestApproved",
    "CancelRequestCreated",
    "CancelRequestRejected",
    "CancelRequestWithdrawn",
    "CreditNoteApplied",
    "CreditNoteIssued",
    "CreditNoteReleased",
    "Event",
    "EventData",
    "EventType",
    "InvoiceCharged",
    "InvoiceIssued",
    "InvoiceRevised",
    "LandedCostRecomputed",
    "LinesCancelled",
    "LinesReturned",
    "OrderCancelled",
    "OrderPlaced",
    "PackageApproved",
    "PackageDelivered",
    "PackageShipped",
    "PackageSplit",
    "RefundClaimed",
    "RefundCreated",
    "RefundRecorded",
    "RefundSettled",
    "ReturnApproved",
    "ReturnRejected",
    "ReturnRequested",
    "current_data",
    "upcast",
]
