"""Events of refunds: opened, claimed by a platform's own refund, settled by the payment provider, or
recorded as billed amounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, NamedTuple

from kalem.domain.events.data import ABSENT_WHILE_NONE, EventData
from kalem.domain.events.orders import Via
from kalem.domain.events.parts import LineQuantity


@dataclass(frozen=True, slots=True)
class RefundChange(EventData):
    """A refund as its events carry it (never the whole IBAN); the event types below."""

    refund_id: str
    status: str
    cause: str
    amount: Decimal
    currency: str
    lines: tuple[LineQuantity, ...]
    method: str
    iban_masked: str | None
    holder_name: str | None
    forced_amount: Decimal | None
    forced_by: str | None
    reference: str | None
    return_id: str | None


@dataclass(frozen=True, slots=True)
class RefundCreated(RefundChange):
    """A refund was opened; it awaits settlement by the payment provider."""

    TYPE: ClassVar[str] = "refund.created"


@dataclass(frozen=True, slots=True)
class RefundSettled(RefundChange):
    """A refund succeeded or failed at the payment provider."""

    TYPE: ClassVar[str] = "refund.settled"


@dataclass(frozen=True, slots=True)
class RefundClaimed(RefundChange):
    """An explicit refund of the same units took over a pending decision refund: nothing is paid twice."""

    TYPE: ClassVar[str] = "refund.claimed"


class Subtotal(NamedTuple):
    type: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RefundRecorded(EventData):
    """A refund of billed amounts was recorded (Zonos `orderRefundCreate`)."""

    TYPE: ClassVar[str] = "refund.recorded"
    refund_id: str
    amount: Decimal
    note: str | None
    subtotals: tuple[Subtotal, ...]
    via: Via = field(default=None, metadata=ABSENT_WHILE_NONE)
