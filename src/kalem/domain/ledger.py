"""The quantity ledger of one order line: how many units are in each state.

A line never tracks units one by one; it counts them per state, and every platform view
(Hebiar unit lines, Akinon per-unit items, n11 package lines, Zonos item quantity) is derived
from these counts. The one invariant: the states always sum to the ordered quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum

from kalem.domain.errors import IllegalTransition


class UnitState(StrEnum):
    OPEN = "open"
    PENDING_CANCEL = "pending_cancel"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURN_PENDING = "return_pending"
    RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class Ledger:
    open: int = 0
    pending_cancel: int = 0
    cancelled: int = 0
    shipped: int = 0
    delivered: int = 0
    return_pending: int = 0
    returned: int = 0

    @classmethod
    def of(cls, quantity: int) -> Ledger:
        return cls(open=quantity)

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def count(self, state: UnitState) -> int:
        return getattr(self, state.value)

    def move(self, source: UnitState, target: UnitState, units: int) -> Ledger:
        """Move `units` from one state to another; the total never changes."""
        have = self.count(source)
        if units < 0 or units > have:
            raise IllegalTransition(
                f"cannot move {units} units from {source} to {target}: {have} in {source}",
                source=source.value, target=target.value, requested=units, available=have,
            )
        return replace(self, **{source.value: have - units, target.value: self.count(target) + units})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
