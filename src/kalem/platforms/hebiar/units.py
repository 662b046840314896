"""Hebiar unit lines: `<sourceOrderItemId>-<n>` is unit n of the line, kalem's own unit number.

A unit keeps its number for life, so a unit line always names the same unit: cancelling `-1`
twice is refused the second time (the unit is already cancelled, or pending), never shifted to a
neighbour. Also Hebiar's status ids and package status names.
"""

from __future__ import annotations

from kalem.domain.errors import LineNotFound, NotFound
from kalem.domain.orders import PackageStatus


class UnitLineNotFound(NotFound):
    """A unit line id that is not `<sourceOrderItemId>-<n>`, or names no unit the caller can see."""
    code = "unit_line_not_found"
    face_code = LineNotFound.code


#: Documented ids: 1302 Cancelled, 1305 ReturnedRequestDenied, 1308 Shipped, 1318 Returned,
#: 1324 CancelRequestDenied. Created, Picked, Invoiced and Delivered have none in the platform's
#: documents; kalem numbers them in the same range (docs/fidelity.md says so).
STATUS_IDS = {"Created": 1300, "Picked": 1304, "Invoiced": 1306, "Shipped": 1308, "Delivered": 1310,
              "Cancelled": 1302, "ReturnedRequestDenied": 1305, "Returned": 1318, "CancelRequestDenied": 1324}

PACKAGE_STATUS_NAMES = {PackageStatus.CREATED: "Created", PackageStatus.PICKING: "Picked",
                        PackageStatus.SHIPPED: "Shipped", PackageStatus.DELIVERED: "Delivered",
                        PackageStatus.CANCELLED: "Cancelled", PackageStatus.UNSUPPLIED: "Cancelled",
                        PackageStatus.UNPACKED: "Unpacked"}


def unit_line_id(line_id: str, n: int) -> str:
    return f"{line_id}-{n}"


def parse_unit_line(value: str) -> tuple[str, int]:
    """`item1691416223190-1` → (`item1691416223190`, 1)."""
    line_id, sep, n = value.rpartition("-")
    if not sep or not n.isdigit() or int(n) < 1 or not line_id:
        raise UnitLineNotFound(f"{value} is not a unit line id (<sourceOrderItemId>-<n>)", line_id=value)
    return line_id, int(n)
