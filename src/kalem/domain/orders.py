"""Orders, their lines with the quantity ledger, and their packages.

An order is one aggregate: everything that must change together (lines, packages) lives inside it
and is changed by pure functions that return a new order plus its events. Every non-cancelled
unit of a line sits in exactly one live package; an order ingested without packages gets one
`Created` package holding everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from kalem.domain.errors import InvalidOrder, LineNotFound, PackageNotFound
from kalem.domain.events import Actor, Event, EventRecorder
from kalem.domain.ledger import Ledger, UnitState


class PackageStatus(StrEnum):
    CREATED = "Created"
    PICKING = "Picking"
    SHIPPED = "Shipped"
    DELIVERED = "Delivered"
    UNPACKED = "Unpacked"
    UNSUPPLIED = "UnSupplied"
    CANCELLED = "Cancelled"


#: Packages that hold units; the others are history (split, cancelled or never supplied).
LIVE_PACKAGE_STATUSES = frozenset(
    {PackageStatus.CREATED, PackageStatus.PICKING, PackageStatus.SHIPPED, PackageStatus.DELIVERED}
)
#: Where units of a package are in the ledger.
UNIT_STATE_OF_PACKAGE = {
    PackageStatus.CREATED: UnitState.OPEN,
    PackageStatus.PICKING: UnitState.OPEN,
    PackageStatus.SHIPPED: UnitState.SHIPPED,
    PackageStatus.DELIVERED: UnitState.DELIVERED,
}


class OrderStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class Line:
    line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    ledger: Ledger
    product_id: str | None = None
    barcode: str | None = None
    hs_code: str | None = None

    @property
    def cancellable(self) -> int:
        """Units that may still be cancelled: open ones; pending requests reserve theirs."""
        return self.ledger.open


@dataclass(frozen=True, slots=True)
class PackageItem:
    line_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: PackageStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class Package:
    package_id: str
    status: PackageStatus
    items: tuple[PackageItem, ...]
    history: tuple[StatusChange, ...]
    cargo_tracking_number: str | None = None
    parent_id: str | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE_PACKAGE_STATUSES

    def quantity_of(self, line_id: str) -> int:
        return sum(i.quantity for i in self.items if i.line_id == line_id)


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    seller_id: str
    order_number: str
    currency: str
    lines: tuple[Line, ...]
    packages: tuple[Package, ...]
    created_at: datetime
    updated_at: datetime
    shipping_amount: Decimal = Decimal("0")
    account_order_number: str | None = None
    channel: str | None = None
    version: int = 1
    last_sequence: int = 0
    attributes: dict[str, str] = field(default_factory=dict)

    def line(self, line_id: str) -> Line:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise LineNotFound(f"order {self.order_number} has no line {line_id}", line_id=line_id)

    def package(self, package_id: str) -> Package:
        for package in self.packages:
            if package.package_id == package_id:
                return package
        raise PackageNotFound(f"order {self.order_number} has no package {package_id}",
                              package_id=package_id)

    @property
    def status(self) -> OrderStatus:
        total = Ledger()
        for line in self.lines:
            total = Ledger(*(a + b for a, b in zip(_counts(total), _counts(line.ledger), strict=True)))
        alive = total.total - total.cancelled
        if alive == 0:
            return OrderStatus.CANCELLED
        if total.returned == alive:
            return OrderStatus.RETURNED
        if total.delivered + total.returned + total.return_pending == alive:
            return OrderStatus.DELIVERED
        if total.shipped + total.delivered + total.returned + total.return_pending == alive:
            return OrderStatus.SHIPPED
        if total.open + total.pending_cancel < alive:
            return OrderStatus.PARTIALLY_SHIPPED
        return OrderStatus.OPEN

    def recorder(self, actor: Actor, now: datetime) -> EventRecorder:
        return EventRecorder(self.id, self.seller_id, self.order_number, self.last_sequence, actor, now)

    def evolve(self, recorder: EventRecorder, **changes: object) -> tuple[Order, list[Event]]:
        """The next version of this order, numbered after the events just recorded."""
        changed = replace(self, version=self.version + 1, last_sequence=recorder.sequence,
                          updated_at=recorder.events[-1].occurred_at if recorder.events else self.updated_at,
                          **changes)
        return changed, recorder.events


def _counts(ledger: Ledger) -> tuple[int, ...]:
    return tuple(ledger.as_dict().values())


# --- intake --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LineSpec:
    line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0")
    tax_rate: Decimal = Decimal("0")
    product_id: str | None = None
    barcode: str | None = None
    hs_code: str | None = None


@dataclass(frozen=True, slots=True)
class PackageSpec:
    package_id: str
    status: PackageStatus
    items: tuple[PackageItem, ...]
    cargo_tracking_number: str | None = None


@dataclass(frozen=True, slots=True)
class OrderSpec:
    seller_id: str
    order_number: str
    currency: str
    lines: tuple[LineSpec, ...]
    packages: tuple[PackageSpec, ...] = ()
    shipping_amount: Decimal = Decimal("0")
    account_order_number: str | None = None
    channel: str | None = None
    destination_country: str | None = None  # ISO alpha-2; kept in `attributes`, enables landed cost


def place_order(spec: OrderSpec, *, order_id: str, actor: Actor, now: datetime) -> tuple[Order, list[Event]]:
    """Take in an order as the channel sold it; packages default to one `Created` package."""
    _check_lines(spec.lines)
    packages = spec.packages or (
        PackageSpec(f"{spec.order_number}-1", PackageStatus.CREATED,
                    tuple(PackageItem(ls.line_id, ls.quantity) for ls in spec.lines)),
    )
    lines = tuple(_ledgered_line(ls, packages) for ls in spec.lines)
    if len({p.package_id for p in packages}) != len(packages):
        raise InvalidOrder("package ids must be unique within the order")
    order = Order(
        id=order_id, seller_id=spec.seller_id, order_number=spec.order_number,
        currency=spec.currency.upper(), lines=lines,
        packages=tuple(Package(p.package_id, p.status, _merge_items(p.items), (StatusChange(p.status, now),),
                               p.cargo_tracking_number) for p in packages),
        created_at=now, updated_at=now, shipping_amount=spec.shipping_amount,
        account_order_number=spec.account_order_number, channel=spec.channel, version=0,
        attributes={"destination_country": spec.destination_country.upper()} if spec.destination_country else {},
    )
    recorder = order.recorder(actor, now)
    recorder.record("order.placed", lines=[{"line_id": ln.line_id, "quantity": ln.quantity} for ln in lines])
    return order.evolve(recorder)


def _check_lines(lines: Sequence[LineSpec]) -> None:
    if not lines:
        raise InvalidOrder("an order needs at least one line")
    seen: set[str] = set()
    for ls in lines:
        if ls.line_id in seen:
            raise InvalidOrder(f"line {ls.line_id} appears twice", line_id=ls.line_id)
        seen.add(ls.line_id)
        if ls.quantity <= 0:
            raise InvalidOrder(f"line {ls.line_id}: quantity must be positive", line_id=ls.line_id)
        if ls.unit_price < 0 or ls.discount < 0 or ls.tax_rate < 0:
            raise InvalidOrder(f"line {ls.line_id}: amounts must not be negative", line_id=ls.line_id)
        if ls.discount > ls.unit_price * ls.quantity:
            raise InvalidOrder(f"line {ls.line_id}: discount exceeds the line amount", line_id=ls.line_id)


def _ledgered_line(ls: LineSpec, packages: Iterable[PackageSpec]) -> Line:
    """A line's ledger follows the status of the packages its units are in."""
    ledger = Ledger()
    placed = 0
    for package in packages:
        if package.status not in UNIT_STATE_OF_PACKAGE:
            raise InvalidOrder(f"package {package.package_id}: an order cannot arrive {package.status}",
                               package_id=package.package_id)
        for item in package.items:
            if item.line_id != ls.line_id:
                continue
            if item.quantity <= 0:
                raise InvalidOrder(f"package {package.package_id}: quantities must be positive")
            state = UNIT_STATE_OF_PACKAGE[package.status]
            ledger = Ledger(**{**ledger.as_dict(), state.value: ledger.count(state) + item.quantity})
            placed += item.quantity
    if placed != ls.quantity:
        raise InvalidOrder(
            f"line {ls.line_id}: packages hold {placed} units, the line has {ls.quantity}",
            line_id=ls.line_id,
        )
    return Line(ls.line_id, ls.sku, ls.name, ls.quantity, ls.unit_price, ls.discount, ls.tax_rate,
                ledger, ls.product_id, ls.barcode, ls.hs_code)


def _merge_items(items: Iterable[PackageItem]) -> tuple[PackageItem, ...]:
    merged: dict[str, int] = {}
    for item in items:
        merged[item.line_id] = merged.get(item.line_id, 0) + item.quantity
    return tuple(PackageItem(k, v) for k, v in merged.items() if v > 0)


def check_invariants(order: Order) -> None:
    """Every non-cancelled unit is in exactly one live package, in the state that package says."""
    for line in order.lines:
        if line.ledger.total != line.quantity:
            raise AssertionError(f"line {line.line_id}: ledger sums to {line.ledger.total}, not {line.quantity}")
        in_packages = sum(p.quantity_of(line.line_id) for p in order.packages if p.live)
        if in_packages != line.quantity - line.ledger.cancelled:
            raise AssertionError(f"line {line.line_id}: {in_packages} units packaged, "
                                 f"{line.quantity - line.ledger.cancelled} alive")
