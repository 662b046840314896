"""What the Hebiar face shows beyond the order's state: its integer ids, and why each unit was
cancelled, returned or refused.

Hebiar keys every object by an integer; kalem mints one per object on first sight (`hebiar_ids`,
idempotent inserts) and never changes it, so a client may keep it. The reasons come from the
order's history: the last cancel, return or denial that named a unit is the one shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kalem.domain.errors import UnknownReason
from kalem.domain.orders import Order
from kalem.domain.reasons import Reason, StatusType, reason
from kalem.platforms.hebiar.store import HebiarIdRepository
from kalem.store.uow import UnitOfWork


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
    """An order's Hebiar ids (by key) and what its history says about each unit."""
    ids: dict[str, int]
    why: dict[tuple[str, int], UnitWhy] = field(default_factory=dict)

    def id(self, key: str) -> int:
        return self.ids[key]


def order_key() -> str:
    return "order"


def package_key(package_id: str) -> str:
    return f"package:{package_id}"


def item_key(package_id: str, line_id: str) -> str:
    return f"item:{package_id}:{line_id}"


def line_key(line_id: str) -> str:
    return f"line:{line_id}"


def unit_key(line_id: str, n: int) -> str:
    return f"unit:{line_id}:{n}"


def address_key(kind: str) -> str:
    return f"address:{kind}"


def _keys(order: Order) -> Iterator[str]:
    """Every key the face may show for the order, in the order their numbers are minted."""
    yield order_key()
    for package in order.packages:
        yield package_key(package.package_id)
        yield from (item_key(package.package_id, line.line_id) for line in order.lines)
    for line in order.lines:
        yield line_key(line.line_id)
        yield from (unit_key(line.line_id, n) for n in range(1, line.quantity + 1))
    yield from (address_key(kind) for kind in ("shipment", "invoice"))


def known(uow: UnitOfWork, orders: Iterable[Order]) -> dict[str, Known] | None:
    """Ids and unit reasons for each order; None while some id is still to be minted (`mint`)."""
    orders = list(orders)
    ids = uow.repository(HebiarIdRepository).for_orders(o.id for o in orders)
    if any(k not in ids[o.id] for o in orders for k in _keys(o)):
        return None
    return {o.id: Known(ids[o.id], unit_reasons(uow.events.for_order(o.id, limit=100_000))) for o in orders}


def mint(uow: UnitOfWork, orders: Iterable[Order]) -> None:
    """Number what the orders do not have numbers for yet (inside the caller's transaction)."""
    orders = list(orders)
    ids = uow.repository(HebiarIdRepository).for_orders(o.id for o in orders)
    for order in orders:
        uow.repository(HebiarIdRepository).mint(order.seller_id, order.id,
                                                [k for k in _keys(order) if k not in ids[order.id]])


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
