"""The ledger of one order line: how many of its units are in each state.

The units themselves (each with its number and state) live in `kalem.domain.orders.units`; the ledger is
the counts view of them, for call sites that only ask "how many". The one invariant: the states
always sum to the ordered quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

from kalem.domain.orders.units import UNSHIPPED_STATES, Units, UnitState

__all__ = ["Ledger", "UnitState"]


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
    def of(cls, units: Units) -> Ledger:
        return _counted(units.runs)

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in _NAMES)

    @property
    def alive(self) -> int:
        """Units not cancelled: what the buyer still gets (or got, and may return)."""
        return self.total - self.cancelled

    @property
    def unshipped(self) -> int:
        """Units still in the warehouse: open, or reserved by a cancel request."""
        return sum(self.count(state) for state in UNSHIPPED_STATES)

    @property
    def dispatched(self) -> int:
        """Units that left the warehouse, whatever became of them since."""
        return self.shipped + self.delivered + self.return_pending + self.returned

    def count(self, state: UnitState) -> int:
        n: int = getattr(self, state.value)  # a field per state
        return n

    def __add__(self, other: Ledger) -> Ledger:
        return Ledger(self.open + other.open, self.pending_cancel + other.pending_cancel,
                      self.cancelled + other.cancelled, self.shipped + other.shipped,
                      self.delivered + other.delivered, self.return_pending + other.return_pending,
                      self.returned + other.returned)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in _NAMES}


_NAMES = tuple(f.name for f in fields(Ledger))  # one per UnitState, by its value


@lru_cache(maxsize=4096)
def _counted(runs: tuple[tuple[int, int, UnitState], ...]) -> Ledger:
    """The counts of a layout of units: asked for many times per request, of a few layouts, and a
    ledger is immutable, so each is counted once."""
    counts = dict.fromkeys(_NAMES, 0)
    for first, last, state in runs:
        counts[state.value] += last - first + 1
    return Ledger(**counts)
