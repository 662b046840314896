"""Event rows as kalem wrote them before units had numbers (version 1), and as they are read now."""

from __future__ import annotations

LEDGER = {"open": 1, "pending_cancel": 0, "cancelled": 2, "shipped": 0, "delivered": 0, "return_pending": 0,
          "returned": 0}
_CANCELLED_V1 = {"line_id": "L1", "quantity": 2, "reason_id": 136, "note": None, "cancelled_total": 2}
_CANCELLED = {**_CANCELLED_V1, "units": []}
_LEFT_V1 = {"package_id": "P1", "status": "Cancelled", "items": [{"line_id": "L1", "quantity": 2}]}
_LEFT = {**_LEFT_V1, "items": [{"line_id": "L1", "quantity": 2, "units": []}]}
_RELEASED_V1 = {"line_id": "L1", "quantity": 1, "reason_id": 137, "package_id": "P1", "ledger": LEDGER}
_RELEASED = {"line_id": "L1", "quantity": 1, "reason_id": 137, "package_id": "P1", "units": [], "ledger": LEDGER}
_RETURNED_V1 = {"line_id": "L1", "quantity": 1, "reason_id": 152, "note": "too small", "ledger": LEDGER}
_RETURNED = {"line_id": "L1", "quantity": 1, "reason_id": 152, "note": "too small", "units": [], "ledger": LEDGER}
_MOVED_V1 = {"package_id": "P1", "status": "Shipped", "previous": "Picking", "cargo_tracking_number": "734",
             "items": [{"line_id": "L1", "quantity": 3}]}
_MOVED = {**_MOVED_V1, "items": [{"line_id": "L1", "quantity": 3, "units": []}]}
_CHILD_V1 = {"package_id": "P2", "status": "Picking", "cargo_tracking_number": None, "parent_id": "P1",
             "items": [{"line_id": "L1", "quantity": 1}]}

#: (type, the data as kalem wrote it before units had numbers, the data as it is read now)
OLD_ROWS = [
    ("lines.cancelled", {"items": [_CANCELLED_V1], "packages": [_LEFT_V1]},
     {"items": [_CANCELLED], "packages": [_LEFT]}),
    ("lines.cancelled", {"via": "split", "platform": "n11", "items": [_CANCELLED_V1], "packages": [_LEFT_V1],
                         "refund": None},
     {"via": "split", "platform": "n11", "items": [_CANCELLED], "packages": [_LEFT], "refund": None}),
    ("cancel_request.created", {"cancel_request_id": "cr1", "items": [{**_CANCELLED_V1, "package_id": "P1"}]},
     {"cancel_request_id": "cr1", "items": [{**_CANCELLED, "package_id": "P1"}]}),
    ("cancel_request.approved",  # before the seller's note was kept, too
     {"cancel_request_id": "cr1", "packages": [_LEFT_V1], "items": [
         {"line_id": "L1", "requested": 2, "approved": 2, "reason_id": 136, "note": None, "cancelled_total": 2}]},
     {"cancel_request_id": "cr1", "items": [{"line_id": "L1", "requested": 2, "approved": 2, "reason_id": 136,
                                             "note": None, "cancelled_total": 2, "units": []}],
      "packages": [_LEFT], "note": None}),
    ("cancel_request.rejected", {"cancel_request_id": "cr1", "items": [_RELEASED_V1], "reason_id": 168, "note": ""},
     {"cancel_request_id": "cr1", "items": [_RELEASED], "reason_id": 168, "note": ""}),
    ("cancel_request.withdrawn", {"cancel_request_id": "cr1", "items": [_RELEASED_V1]},
     {"cancel_request_id": "cr1", "items": [_RELEASED]}),
    ("package.split", {"package_id": "P1", "children": [_CHILD_V1], "cancelled": []},
     {"package_id": "P1", "children": [{**_CHILD_V1, "items": [{"line_id": "L1", "quantity": 1, "units": []}]}],
      "cancelled": []}),
    ("package.approved", {**_MOVED_V1, "status": "Picking", "previous": "Created"},
     {**_MOVED, "status": "Picking", "previous": "Created"}),
    ("package.shipped", _MOVED_V1, _MOVED),
    ("package.delivered", {**_MOVED_V1, "status": "Delivered", "previous": "Shipped"},
     {**_MOVED, "status": "Delivered", "previous": "Shipped"}),
    ("return.requested", {"return_id": "ret1", "items": [_RETURNED_V1]}, {"return_id": "ret1", "items": [_RETURNED]}),
    ("return.approved", {"return_id": "ret1", "items": [_RETURNED_V1]}, {"return_id": "ret1", "items": [_RETURNED]}),
    ("return.rejected", {"return_id": "ret1", "reason_id": 170, "note": None, "items": [_RETURNED_V1]},
     {"return_id": "ret1", "reason_id": 170, "note": None, "items": [_RETURNED]}),
    ("lines.returned", {"items": [_RETURNED_V1]}, {"items": [_RETURNED]}),
]
