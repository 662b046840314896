"""What the Hebiar face shows beyond the order's state: its integer ids, and why each unit was
cancelled, returned or refused.

Hebiar keys every object by an integer. kalem computes them, so showing an order never writes: each
order has a block of ids from `BASE + serial × BLOCK` (its serial is numbered when the order is taken
in, `order_serials`), and each object its place in the block (`Known`). An order shown before ids were
computed keeps the ids stored for it in `hebiar_ids` (all below `BASE`); a client may keep any id.
The reasons come from the order's history: the last cancel, return or denial that named a unit is
the one shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kalem.domain.errors import UnknownReason
from kalem.domain.orders import Order
from kalem.domain.reasons import Reason, StatusType, reason
from kalem.platforms.hebiar.store import HebiarIdRepository
from kalem.store.serials import OrderSerialRepository
from kalem.store.uow import UnitOfWork

#: Computed ids start above any id `hebiar_ids` holds and stay below 2^53 (exact in JavaScript) for
#: the first 536 million orders. In an order's block: the order (0), its shipment and invoice
#: addresses (1, 2), its lines (from 3; at most 500), its units counted in line order (from `_UNITS`;
#: KALEM_MAX_ORDER_UNITS is at most 1,000,000), its packages (from `_PACKAGES`, in the order they
#: were made) and each package's item of each line (from `_ITEMS`: package × lines + line; room for
#: 12,582,912, e.g. 25,165 packages of a 500-line order).
BASE = 2**32
BLOCK = 2**24
_LINES, _UNITS, _PACKAGES, _ITEMS = 3, 2**10, 2**21, 2**22


@dataclass(frozen=True, slots=True)
class Why:
    """A reason given for a unit, and the words that came with it."""
    reason: Reason
    note: str | None


@dataclass(frozen=True, slots=True)
class UnitWhy:
    cancel: Why | None = None
    ret: Why | None = None
    reject: Why | None = None


@dataclass(frozen=True)
class Known:
    """An order's Hebiar ids and what its history says about each unit."""
    order: Order
    base: int                                            # the order's block
    stored: dict[str, int] = field(default_factory=dict)  # ids stored before they were computed, by key
    why: dict[tuple[str, int], UnitWhy] = field(default_factory=dict)
    _lines: dict[str, int] = field(init=False, default_factory=dict)
    _before: dict[str, int] = field(init=False, default_factory=dict)   # line id → units of the lines before it
    _packages: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        total = 0
        for index, line in enumerate(self.order.lines):
            self._lines[line.line_id], self._before[line.line_id] = index, total
            total += line.quantity
        self._packages.update((p.package_id, index) for index, p in enumerate(self.order.packages))

    def _id(self, key: str, local: int) -> int:
        stored = self.stored.get(key)
        return self.base + local if stored is None else stored

    def order_id(self) -> int:
        return self._id("order", 0)

    def address(self, kind: str) -> int:
        return self._id(f"address:{kind}", 1 if kind == "shipment" else 2)

    def line(self, line_id: str) -> int:
        return self._id(f"line:{line_id}", _LINES + self._lines[line_id])

    def unit(self, line_id: str, n: int) -> int:
        return self._id(f"unit:{line_id}:{n}", _UNITS + self._before[line_id] + n - 1)

    def package(self, package_id: str) -> int:
        return self._id(f"package:{package_id}", _PACKAGES + self._packages[package_id])

    def item(self, package_id: str, line_id: str) -> int:
        local = _ITEMS + self._packages[package_id] * len(self.order.lines) + self._lines[line_id]
        return self._id(f"item:{package_id}:{line_id}", local)


def known(uow: UnitOfWork, orders: Iterable[Order]) -> dict[str, Known]:
    """Ids and unit reasons for each order. Reads only."""
    orders = list(orders)
    stored = uow.repository(HebiarIdRepository).for_orders(o.id for o in orders)
    serials = uow.repository(OrderSerialRepository).of(o.id for o in orders)
    return {o.id: Known(o, BASE + serials[o.id] * BLOCK, stored[o.id],
                        unit_reasons(uow.events.for_order(o.id, limit=100_000))) for o in orders}


# Event type → which reason it gives the units it names, and of which status type.
_GIVES = {"lines.cancelled": ("cancel", StatusType.CANCELLED),
          "cancel_request.approved": ("cancel", StatusType.CANCELLED),
          "return.requested": ("ret", StatusType.RETURNED), "return.approved": ("ret", StatusType.RETURNED),
          "lines.returned": ("ret", StatusType.RETURNED),
          "cancel_request.rejected": ("reject", StatusType.CANCEL_REQUEST_DENIED),
          "return.rejected": ("reject", StatusType.RETURN_REQUEST_DENIED)}


def unit_reasons(events: Iterable[dict[str, Any]]) -> dict[tuple[str, int], UnitWhy]:
    """The last reason of each kind that the order's history gives each unit."""
    found: dict[tuple[str, int], dict[str, Why]] = {}
    for event in events:
        gives = _GIVES.get(event["type"])
        if gives is None:
            continue
        kind, status_type = gives
        data = event["data"]
        for item in data.get("items", ()):
            given = data if kind == "reject" else item  # a denial is the decision's, a cancel the item's
            why = _why(given.get("reason_id"), given.get("note"), status_type)
            if why is None:
                continue
            for n in numbers(item):
                found.setdefault((item["line_id"], n), {})[kind] = why
    return {unit: UnitWhy(**kinds) for unit, kinds in found.items()}


def _why(reason_id: int | None, note: str | None, status_type: StatusType) -> Why | None:
    if reason_id is None:
        return None
    try:
        return Why(reason(reason_id, status_type), note)
    except UnknownReason:  # a catalog entry retired since: the face shows no reason rather than fail
        return None


def numbers(item: dict[str, Any]) -> list[int]:
    """The unit numbers an event item names (its `units` spans; none in an event written before units had
    numbers, which the store reads with empty spans)."""
    return [n for first, last in item["units"] for n in range(first, last + 1)]
