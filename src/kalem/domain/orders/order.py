"""Orders, their lines with numbered units, and their packages.

An order is one aggregate: everything that must change together (lines, packages) lives inside it
and is changed by pure functions that return a new order plus its events. It answers every question
the edges ask about it (cancellable units, unshipped packages, which package holds unit n, …).
Every non-cancelled unit of a line sits in exactly one live package, which names it by number; an
order ingested without packages gets one `Created` package holding everything.

Cancelling an order as a whole (Zonos `orderCancel`) is more than cancelling its units: it stops
billing too. That is the order's `standing`, a small table of its own (`STANDING`), kept in its
attributes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from kalem.domain.errors import (
    AmountTooPrecise,
    Conflict,
    DiscountExceedsLineAmount,
    IdNotAddressable,
    KalemError,
    LineAmountNegative,
    LineIdNotUnique,
    LineNotFound,
    LineQuantityNotPositive,
    OrderWithoutLines,
    PackageIdNotUnique,
    PackageNotFound,
    PackageQuantityNotPositive,
    PackageStatusNotPlaceable,
    PackedQuantityMismatch,
    QuantityExceedsCancellable,
    QuantityTooLarge,
    TooManyLines,
    TooManyUnits,
)
from kalem.domain.events.event import Actor, Event, EventRecorder
from kalem.domain.events.orders import OrderPlaced
from kalem.domain.events.parts import LineQuantity
from kalem.domain.money import is_exact, minor_unit
from kalem.domain.orders.channels import DIRECT, channel_name
from kalem.domain.orders.details import NO_DETAILS, OrderDetails
from kalem.domain.orders.ledger import Ledger
from kalem.domain.orders.units import (
    UNSHIPPED_STATES,
    DuplicateUnit,
    UnitAction,
    UnitNotFound,
    Units,
    UnitSet,
    UnitsNotReturnable,
    UnitState,
    refuse,
    source_of,
)
from kalem.domain.states import Machine


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
#: Packages whose units may still be cancelled (open) or reserved by a cancel request.
UNSHIPPED_PACKAGE_STATUSES = frozenset({PackageStatus.CREATED, PackageStatus.PICKING})
#: The state units of a package arrive in at intake.
UNIT_STATE_OF_PACKAGE = {
    PackageStatus.CREATED: UnitState.OPEN,
    PackageStatus.PICKING: UnitState.OPEN,
    PackageStatus.SHIPPED: UnitState.SHIPPED,
    PackageStatus.DELIVERED: UnitState.DELIVERED,
}
#: The states the units of a live package may be in.
HELD_STATES = {
    PackageStatus.CREATED: UNSHIPPED_STATES,
    PackageStatus.PICKING: UNSHIPPED_STATES,
    PackageStatus.SHIPPED: frozenset({UnitState.SHIPPED}),
    PackageStatus.DELIVERED: frozenset({UnitState.DELIVERED, UnitState.RETURN_PENDING, UnitState.RETURNED}),
}


class OrderStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class Standing(StrEnum):
    """The order as a whole, apart from what its units' states say."""
    ACTIVE = "active"
    CANCELED = "canceled"   # cancelled as a whole (Zonos `orderCancel`): nothing more is billed


class StandingStep(StrEnum):
    CANCEL = "cancel"


class OrderAlreadyCanceled(Conflict):
    code = "order_already_canceled"


STANDING: Machine[Standing, StandingStep] = Machine("order", {
    (Standing.ACTIVE, StandingStep.CANCEL): Standing.CANCELED,
}, OrderAlreadyCanceled)
#: The order attribute that keeps when it was cancelled as a whole (its standing is read from it).
CANCELED_ATTRIBUTE = "canceled_at"
_SINCE = {Standing.CANCELED: CANCELED_ATTRIBUTE}


@dataclass(frozen=True, slots=True)
class Line:
    line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    units: Units
    product_id: str | None = None
    barcode: str | None = None
    hs_code: str | None = None

    @property
    def ledger(self) -> Ledger:
        """How many units are in each state."""
        return Ledger.of(self.units)

    @property
    def cancellable(self) -> int:
        """How many units may still be cancelled (see `cancellable_units`)."""
        return len(self.cancellable_units())

    def cancellable_units(self) -> UnitSet:
        """Units that may still be cancelled: open ones; pending requests reserve theirs."""
        return self.units.able(UnitAction.CANCEL)

    @property
    def returnable(self) -> int:
        """How many units may be returned (see `returnable_units`)."""
        return len(self.returnable_units())

    def returnable_units(self) -> UnitSet:
        """Units that may be returned: delivered ones not already asked back by a return request."""
        return self.units.able(UnitAction.RETURN)

    def able(self, action: UnitAction) -> UnitSet:
        """Units that may take `action` now."""
        return self.units.able(action)

    def units_in(self, state: UnitState) -> UnitSet:
        return self.units.in_state(state)

    def state_of(self, n: int) -> UnitState:
        if not 1 <= n <= self.quantity:
            raise UnitNotFound(f"line {self.line_id} has no unit {n}", line_id=self.line_id, unit=n)
        return self.units.state_of(n)

    def pick(self, action: UnitAction, count: int, numbers: tuple[int, ...] = (),
             labels: tuple[str, ...] = ()) -> UnitSet:
        """The `count` units an operation taking `action` takes: the named `numbers`, each checked, and as
        many more as `count` asks for, the lowest-numbered that may take it (the rule for "any N")."""
        assert len(numbers) <= count, "named units are part of the quantity asked for"
        state = source_of(action)
        named: set[int] = set()
        for index, n in enumerate(numbers):
            label = labels[index] if labels else f"{self.line_id}-{n}"
            if n in named:
                raise DuplicateUnit(f"unit {label} is named twice", unit=label)
            named.add(n)
            have = self.state_of(n)
            if have is not state:
                raise refuse(have, label)
        chosen = UnitSet.of(named)
        free = self.units.able(action) - chosen
        more = count - len(chosen)
        if more > len(free):
            available = len(free) + len(chosen)
            if state is source_of(UnitAction.CANCEL):
                raise QuantityExceedsCancellable(
                    f"line {self.line_id}: {count} requested, {available} cancellable",
                    line_id=self.line_id, requested=count, cancellable=available)
            raise UnitsNotReturnable(f"line {self.line_id}: {count} units asked, {available} {state.value}",
                                     line_id=self.line_id, requested=count, available=available, state=state.value)
        return chosen | free.lowest(more) if more > 0 else chosen

    def step(self, units: UnitSet, action: UnitAction) -> Line:
        """The line once these units take `action` (the unit table decides where each goes)."""
        return replace(self, units=self.units.step(units, action)) if units else self


@dataclass(frozen=True, slots=True)
class PackageItem:
    """Units of a line, by count: how intake names what a package holds."""
    line_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class PackedUnits:
    """The numbered units of one line a package holds."""
    line_id: str
    units: UnitSet

    @property
    def quantity(self) -> int:
        return len(self.units)


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: PackageStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class Package:
    package_id: str
    status: PackageStatus
    items: tuple[PackedUnits, ...]
    history: tuple[StatusChange, ...]
    cargo_tracking_number: str | None = None
    parent_id: str | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE_PACKAGE_STATUSES

    @property
    def unshipped(self) -> bool:
        return self.status in UNSHIPPED_PACKAGE_STATUSES

    def quantity_of(self, line_id: str) -> int:
        return len(self.units_of(line_id))

    def units_of(self, line_id: str) -> UnitSet:
        return next((i.units for i in self.items if i.line_id == line_id), UnitSet())

    def without(self, line_id: str, units: UnitSet) -> tuple[PackedUnits, ...]:
        """Its items once these units of a line leave it (an emptied item goes)."""
        items = (PackedUnits(i.line_id, i.units - units) if i.line_id == line_id else i for i in self.items)
        return tuple(i for i in items if i.units)


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
    channel: str = DIRECT
    version: int = 1
    last_sequence: int = 0
    attributes: dict[str, str] = field(default_factory=dict)
    details: OrderDetails = NO_DETAILS

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

    def live_package_of(self, line_id: str, n: int) -> Package | None:
        """The live package unit n of a line sits in (None once it is cancelled)."""
        return next((p for p in self.packages if p.live and n in p.units_of(line_id)), None)

    def units_in(self, state: UnitState) -> dict[str, UnitSet]:
        """Units in one state per line (lines with none left out)."""
        return {ln.line_id: ln.units_in(state) for ln in self.lines if ln.units.count(state)}

    @property
    def standing(self) -> Standing:
        return Standing.CANCELED if self.attributes.get(CANCELED_ATTRIBUTE) else Standing.ACTIVE

    @property
    def ledger(self) -> Ledger:
        """The counts of every line together."""
        total = Ledger()
        for line in self.lines:
            total += line.ledger
        return total

    @property
    def status(self) -> OrderStatus:
        total = self.ledger
        alive = total.alive
        if alive == 0:
            return OrderStatus.CANCELLED
        if total.returned == alive:
            return OrderStatus.RETURNED
        if total.delivered + total.returned + total.return_pending == alive:
            return OrderStatus.DELIVERED
        if total.dispatched == alive:
            return OrderStatus.SHIPPED
        if total.unshipped < alive:
            return OrderStatus.PARTIALLY_SHIPPED
        return OrderStatus.OPEN

    def recorder(self, actor: Actor, now: datetime) -> EventRecorder:
        return EventRecorder(self.id, self.seller_id, self.order_number, self.last_sequence, actor, now,
                             self.channel)

    def evolve(self, recorder: EventRecorder, **changes: Any) -> tuple[Order, list[Event]]:
        """The next version of this order, numbered after the events just recorded."""
        changed = replace(self, version=self.version + 1, last_sequence=recorder.sequence,
                          updated_at=recorder.events[-1].occurred_at if recorder.events else self.updated_at,
                          **changes)
        return changed, recorder.events


def take_standing(order: Order, step: StandingStep, now: datetime, *, error: type[KalemError] | None = None,
                  message: str | None = None, **details: object) -> dict[str, str]:
    """The order's attributes once it takes `step`: only what STANDING allows, refused otherwise with
    `error` (else the machine's, OrderAlreadyCanceled)."""
    target = STANDING.next(order.standing, step, error=error, message=message, **details)
    return {**order.attributes, _SINCE[target]: now.isoformat()}


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
    channel: str | None = None  # None: `direct`
    destination_country: str | None = None  # ISO alpha-2; kept in `attributes`, enables landed cost
    details: OrderDetails = NO_DETAILS


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """How large an order kalem takes in: bounded, so that no order makes any read or write costly. A
    quantity stays below 2^31 whatever the setting (GraphQL's `Int` must hold it)."""

    max_line_quantity: int = 10_000
    max_lines: int = 500
    max_units: int = 10_000  # the faces that show one object per unit (Akinon, Hebiar) show at most this many


#: What an id may not contain: a `/` (no route could name it in its path), control characters.
_UNADDRESSABLE = re.compile(r"[/\x00-\x1f\x7f]")


def check_addressable(what: str, value: str) -> None:
    if _UNADDRESSABLE.search(value) or value in (".", "..") or value != value.strip():
        raise IdNotAddressable(f"{what} {value!r} cannot be used: it may not contain '/' or control characters, "
                               "be '.' or '..', or begin or end with white space", field=what.replace(" ", "_"))


def place_order(spec: OrderSpec, *, order_id: str, actor: Actor, now: datetime,
                limits: IntakeLimits = IntakeLimits()) -> tuple[Order, list[Event]]:
    """Take in an order as the channel sold it; packages default to one `Created` package.

    Units are numbered in package order: the first package's units of a line are 1.., the next
    package's follow; each unit starts in the state its package says."""
    check_addressable("order number", spec.order_number)
    channel = channel_name(spec.channel)
    _check_lines(spec.lines, limits)
    _check_amounts(spec)
    packages = spec.packages or (
        PackageSpec(f"{spec.order_number}-1", PackageStatus.CREATED,
                    tuple(PackageItem(ls.line_id, ls.quantity) for ls in spec.lines)),
    )
    if len({p.package_id for p in packages}) != len(packages):
        raise PackageIdNotUnique("package ids must be unique within the order")
    for package in packages:
        check_addressable("package id", package.package_id)
    lines, packed = _numbered(spec.lines, packages)
    order = Order(
        id=order_id, seller_id=spec.seller_id, order_number=spec.order_number,
        currency=spec.currency.upper(), lines=lines,
        packages=tuple(Package(p.package_id, p.status, items, (StatusChange(p.status, now),),
                               p.cargo_tracking_number) for p, items in zip(packages, packed, strict=True)),
        created_at=now, updated_at=now, shipping_amount=spec.shipping_amount,
        account_order_number=spec.account_order_number, channel=channel, version=0,
        attributes={"destination_country": spec.destination_country.upper()} if spec.destination_country else {},
        details=spec.details,
    )
    recorder = order.recorder(actor, now)
    recorder.record(OrderPlaced(lines=tuple(LineQuantity(ln.line_id, ln.quantity) for ln in lines)))
    return order.evolve(recorder)


def _check_lines(lines: Sequence[LineSpec], limits: IntakeLimits) -> None:
    if not lines:
        raise OrderWithoutLines("an order needs at least one line")
    if len(lines) > limits.max_lines:
        raise TooManyLines(f"an order may have at most {limits.max_lines} lines, this one has {len(lines)}",
                           limit=limits.max_lines, lines=len(lines))
    seen: set[str] = set()
    for ls in lines:
        check_addressable("line id", ls.line_id)
        if ls.quantity > limits.max_line_quantity:
            raise QuantityTooLarge(f"line {ls.line_id}: quantity {ls.quantity} is over the limit of "
                                   f"{limits.max_line_quantity} per line", line_id=ls.line_id,
                                   limit=limits.max_line_quantity)
        if ls.line_id in seen:
            raise LineIdNotUnique(f"line {ls.line_id} appears twice", line_id=ls.line_id)
        seen.add(ls.line_id)
        if ls.quantity <= 0:
            raise LineQuantityNotPositive(f"line {ls.line_id}: quantity must be positive", line_id=ls.line_id)
        if ls.unit_price < 0 or ls.discount < 0 or ls.tax_rate < 0:
            raise LineAmountNegative(f"line {ls.line_id}: amounts must not be negative", line_id=ls.line_id)
        if ls.discount > ls.unit_price * ls.quantity:
            raise DiscountExceedsLineAmount(f"line {ls.line_id}: discount exceeds the line amount", line_id=ls.line_id)
    units = sum(ls.quantity for ls in lines)
    if units > limits.max_units:
        raise TooManyUnits(f"an order may have at most {limits.max_units} units in all, this one has {units}",
                           limit=limits.max_units, units=units)


def _check_amounts(spec: OrderSpec) -> None:
    """Every amount a whole number of the currency's minor units (no 10.005 TRY, no 100.50 JPY): an
    amount the currency cannot hold could never be refunded to the cent."""
    amounts = [("shipping_amount", spec.shipping_amount)] + [
        (f"lines[{i}].{name}", value) for i, ls in enumerate(spec.lines)
        for name, value in (("unit_price", ls.unit_price), ("discount", ls.discount))]
    for field_name, amount in amounts:
        if amount.is_finite() and not is_exact(amount, spec.currency):
            raise AmountTooPrecise(f"{field_name}: {amount} has more decimals than {spec.currency.upper()} has "
                                   f"({minor_unit(spec.currency)})", field=field_name, amount=str(amount),
                                   currency=spec.currency.upper(), decimals=minor_unit(spec.currency))


def _numbered(specs: Sequence[LineSpec], packages: Sequence[PackageSpec]
              ) -> tuple[tuple[Line, ...], list[tuple[PackedUnits, ...]]]:
    """Number every line's units across the packages, in package order."""
    placed = dict.fromkeys((ls.line_id for ls in specs), 0)
    runs: dict[str, list[tuple[UnitState, int]]] = {ls.line_id: [] for ls in specs}
    packed = []
    for package in packages:
        state = UNIT_STATE_OF_PACKAGE.get(package.status)
        if state is None:
            raise PackageStatusNotPlaceable(f"package {package.package_id}: an order cannot arrive {package.status}",
                                            package_id=package.package_id)
        items: dict[str, UnitSet] = {}
        for item in package.items:
            if item.line_id not in placed:
                continue
            if item.quantity <= 0:
                raise PackageQuantityNotPositive(f"package {package.package_id}: quantities must be positive")
            first = placed[item.line_id] + 1
            placed[item.line_id] += item.quantity
            runs[item.line_id].append((state, item.quantity))
            items[item.line_id] = items.get(item.line_id, UnitSet()) | UnitSet.span(first, placed[item.line_id])
        packed.append(tuple(PackedUnits(k, v) for k, v in items.items()))
    for ls in specs:
        if placed[ls.line_id] != ls.quantity:
            raise PackedQuantityMismatch(f"line {ls.line_id}: packages hold {placed[ls.line_id]} units, "
                                         f"the line has {ls.quantity}", line_id=ls.line_id)
    lines = tuple(Line(ls.line_id, ls.sku, ls.name, ls.quantity, ls.unit_price, ls.discount, ls.tax_rate,
                       Units.laid_out(runs[ls.line_id]), ls.product_id, ls.barcode, ls.hs_code) for ls in specs)
    return lines, packed


def check_invariants(order: Order) -> None:
    """Every non-cancelled unit is in exactly one live package, in a state that package allows."""
    for line in order.lines:
        if line.units.quantity != line.quantity or line.units.runs[0][0] != 1:
            raise AssertionError(f"line {line.line_id}: units cover 1..{line.units.quantity}, not 1..{line.quantity}")
        held = UnitSet()
        for package in order.packages:
            if not package.live:
                continue
            units = package.units_of(line.line_id)
            if units & held:
                raise AssertionError(f"line {line.line_id}: units {(units & held).spans} in two live packages")
            held |= units
            for n in units:
                if line.units.state_of(n) not in HELD_STATES[package.status]:
                    raise AssertionError(f"line {line.line_id}: unit {n} is {line.units.state_of(n)} "
                                         f"in {package.status} package {package.package_id}")
        alive = UnitSet.span(1, line.quantity) - line.units_in(UnitState.CANCELLED)
        if held != alive:
            raise AssertionError(f"line {line.line_id}: packages hold {held.spans}, alive are {alive.spans}")
