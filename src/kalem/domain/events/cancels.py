"""Events of cancelling units: directly, or by a request the seller decides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, NamedTuple

from kalem.domain.events.data import ABSENT_OR_NULL, ABSENT_WHILE_NONE, Counts, Doc, EventData, Spans
from kalem.domain.events.parts import LeftPackage

CancelledTotal = Annotated[int, Doc("the line's cancelled units, this event included")]
HoldingPackage = Annotated[str | None, Doc("the package the units sit in")]
CancelledVia = Annotated[str | None, Doc("the face the cancel came through (its own subscribers do not hear it "
                                         "back), or `split` for a package split's cancel")]
SplitPlatform = Annotated[str | None, Doc("a split's cancel: the platform whose cancel reasons it took")]
SplitRefund = Annotated[Mapping[str, Any] | None, Doc(
    "a split's cancel: what refunding the cancelled units would pay, explained as a refund is; null when it "
    "cannot be estimated")]


class CancelledLine(NamedTuple):
    line_id: str
    quantity: int
    reason_id: int
    note: str | None
    cancelled_total: CancelledTotal
    units: Spans


@dataclass(frozen=True, slots=True)
class LinesCancelled(EventData):
    """Units of one or more lines were cancelled directly (or by a package split)."""

    TYPE: ClassVar[str] = "lines.cancelled"
    VERSION: ClassVar[int] = 2
    items: tuple[CancelledLine, ...]
    packages: tuple[LeftPackage, ...]
    via: CancelledVia = field(default=None, metadata=ABSENT_WHILE_NONE)
    platform: SplitPlatform = field(default=None, metadata=ABSENT_WHILE_NONE)
    refund: SplitRefund = field(default=None, metadata=ABSENT_OR_NULL)

    def to_data(self) -> dict[str, Any]:
        data = EventData.to_data(self)
        if self.platform is None:
            return data
        # A split's cancel has always been written in this order, its refund estimate (or null) last.
        return {"via": self.via, "platform": self.platform, "items": data["items"], "packages": data["packages"],
                "refund": self.refund}


class RequestedCancel(NamedTuple):
    line_id: str
    quantity: int
    reason_id: int
    note: str | None
    cancelled_total: CancelledTotal
    units: Spans
    package_id: HoldingPackage


@dataclass(frozen=True, slots=True)
class CancelRequestCreated(EventData):
    """A cancel request reserves units until the seller decides."""

    TYPE: ClassVar[str] = "cancel_request.created"
    VERSION: ClassVar[int] = 2
    cancel_request_id: str
    items: tuple[RequestedCancel, ...]


class ApprovedCancel(NamedTuple):
    line_id: str
    requested: int
    approved: int
    reason_id: int
    note: str | None
    cancelled_total: CancelledTotal
    units: Spans


@dataclass(frozen=True, slots=True)
class CancelRequestApproved(EventData):
    """The seller approved a cancel request, in full or in part."""

    TYPE: ClassVar[str] = "cancel_request.approved"
    VERSION: ClassVar[int] = 2
    cancel_request_id: str
    items: tuple[ApprovedCancel, ...]
    packages: tuple[LeftPackage, ...]
    note: Annotated[str | None, Doc("the seller's word on the decision")]


class ReleasedUnits(NamedTuple):
    """Units a request had reserved, open again."""

    line_id: str
    quantity: int
    reason_id: int
    package_id: HoldingPackage
    units: Spans
    ledger: Counts


@dataclass(frozen=True, slots=True)
class CancelRequestRejected(EventData):
    """The seller rejected a cancel request; the units are open again."""

    TYPE: ClassVar[str] = "cancel_request.rejected"
    VERSION: ClassVar[int] = 2
    cancel_request_id: str
    items: tuple[ReleasedUnits, ...]
    reason_id: int
    note: str | None


@dataclass(frozen=True, slots=True)
class CancelRequestWithdrawn(EventData):
    """The requester withdrew a pending cancel request."""

    TYPE: ClassVar[str] = "cancel_request.withdrawn"
    VERSION: ClassVar[int] = 2
    cancel_request_id: str
    items: tuple[ReleasedUnits, ...]
