"""Events of returning delivered units: by a request the seller decides, or directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from kalem.domain.events.data import Counts, EventData, Spans


class ReturnedUnits(NamedTuple):
    line_id: str
    quantity: int
    reason_id: int
    note: str | None
    units: Spans
    ledger: Counts


@dataclass(frozen=True, slots=True)
class ReturnRequested(EventData):
    """The customer asked to return delivered units."""

    TYPE: ClassVar[str] = "return.requested"
    VERSION: ClassVar[int] = 2
    return_id: str
    items: tuple[ReturnedUnits, ...]


@dataclass(frozen=True, slots=True)
class ReturnApproved(EventData):
    """A return was approved; the units count as returned."""

    TYPE: ClassVar[str] = "return.approved"
    VERSION: ClassVar[int] = 2
    return_id: str
    items: tuple[ReturnedUnits, ...]


@dataclass(frozen=True, slots=True)
class ReturnRejected(EventData):
    """A return was rejected with a denial reason."""

    TYPE: ClassVar[str] = "return.rejected"
    VERSION: ClassVar[int] = 2
    return_id: str
    reason_id: int
    note: str | None
    items: tuple[ReturnedUnits, ...]


@dataclass(frozen=True, slots=True)
class LinesReturned(EventData):
    """An operator returned delivered units directly, without a return request."""

    TYPE: ClassVar[str] = "lines.returned"
    VERSION: ClassVar[int] = 2
    items: tuple[ReturnedUnits, ...]
