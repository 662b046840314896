"""Credit notes as the refund account counts them: money returned for units, like a refund.

A credit note (Zonos `orderItemUpdate` or `orderCancel` after the invoice was charged) gives back the
value of units that are no longer billed. For the order's refund account it is money returned, as a
refund is: the units it credits are not refundable again, and what it gave back of each type (ITEM,
SHIPPING, DUTY_TAX_FEE) counts against what refunds may still return. The billing makes credit notes
(`domain/billing`); the account reads them as `Credit` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from kalem.domain.errors import Conflict
from kalem.domain.orders.units import UnitSet
from kalem.domain.refunds.records import REFUND_TYPES

ZERO = Decimal(0)


class UnitsCredited(Conflict):
    """A refund of units a credit note already gave back: credit them or refund them, not both."""
    code = "units_credited"


@dataclass(frozen=True, slots=True)
class Credit:
    """One credit note: its number, the units it credits (line id, first, last) and what it gave back
    per type (ITEM, SHIPPING, DUTY_TAX_FEE); the types add up to its amount."""

    number: str
    units: tuple[tuple[str, int, int], ...] = ()
    parts: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def amount(self) -> Decimal:
        return sum((Decimal(self.parts.get(t, ZERO)) for t in REFUND_TYPES), ZERO)

    def part(self, refund_type: str) -> Decimal:
        return Decimal(self.parts.get(refund_type, ZERO))

    def units_by_line(self) -> dict[str, UnitSet]:
        out: dict[str, UnitSet] = {}
        for line_id, first, last in self.units:
            out[line_id] = out.get(line_id, UnitSet()) | UnitSet.span(first, last)
        return out
