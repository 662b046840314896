"""Hebiar unit lines (`<sourceOrderItemId>-<n>`), derived from the ledger, and its status ids.

kalem counts units per state and does not track them one by one, so unit numbers are positional:
a line's units are numbered in a fixed state order — cancelled first, then returned, return
pending, delivered, shipped, pending cancel, open. Cancelling `-1` of an untouched line therefore
shows `-1` cancelled, as the caller expects when it cancels in ascending order.
"""

from __future__ import annotations

from kalem.domain.errors import LineNotFound
from kalem.domain.ledger import UnitState
from kalem.domain.orders import Line, PackageStatus

UNIT_ORDER = (UnitState.CANCELLED, UnitState.RETURNED, UnitState.RETURN_PENDING, UnitState.DELIVERED,
              UnitState.SHIPPED, UnitState.PENDING_CANCEL, UnitState.OPEN)

#: Documented ids: 1302 Cancelled, 1305 ReturnedRequestDenied, 1308 Shipped, 1318 Returned,
#: 1324 CancelRequestDenied. The others are not documented; kalem numbers them in the same range.
STATUS_IDS = {"Created": 1300, "Picked": 1304, "Invoiced": 1306, "Shipped": 1308, "Delivered": 1310,
              "Cancelled": 1302, "ReturnedRequestDenied": 1305, "Returned": 1318, "CancelRequestDenied": 1324,
              "UnSupplied": 1302, "Unpacked": 1312}

PACKAGE_STATUS_NAMES = {PackageStatus.CREATED: "Created", PackageStatus.PICKING: "Picked",
                        PackageStatus.SHIPPED: "Shipped", PackageStatus.DELIVERED: "Delivered",
                        PackageStatus.CANCELLED: "Cancelled", PackageStatus.UNSUPPLIED: "Cancelled",
                        PackageStatus.UNPACKED: "Unpacked"}


def unit_states(line: Line) -> list[UnitState]:
    """The state of unit 1, 2, … of the line."""
    states: list[UnitState] = []
    for state in UNIT_ORDER:
        states.extend([state] * line.ledger.count(state))
    return states


def unit_line_id(line_id: str, n: int) -> str:
    return f"{line_id}-{n}"


def parse_unit_line(value: str) -> tuple[str, int]:
    """`item1691416223190-1` → (`item1691416223190`, 1)."""
    line_id, sep, n = value.rpartition("-")
    if not sep or not n.isdigit() or int(n) < 1 or not line_id:
        raise LineNotFound(f"{value} is not a unit line id (<sourceOrderItemId>-<n>)", line_id=value)
    return line_id, int(n)
