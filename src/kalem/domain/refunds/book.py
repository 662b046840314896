"""Refunds: the order as billed, the seller's cancellation strategy, and the per-unit shares of what was paid.

Pure arithmetic on `Decimal`: no I/O, no clock. `breakdown` computes a refund's explained breakdown
from these for the order's refund account (`account.RefundAccount`), the one way in.

Every amount that belongs to a line (gross, paid, tax) is cut into fixed per-unit shares (largest
remainder), kept as cumulative tables (`Book`): C(k), the sum of the first k shares, in closed form,
so the shares of any run of units cost two look-ups however many units the line has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from kalem.domain.errors import KalemError
from kalem.domain.money import is_exact, quantize, quantum

ZERO = Decimal(0)


# --- errors -----------------------------------------------------------------------------------
class RefundError(KalemError):
    """Root of the refund errors: `code` is stable snake_case, `message` is for humans."""

    code, status = "refund_error", 422


class InvalidBillableOrder(RefundError):
    code = "invalid_billable_order"


class InvalidCancellationStrategy(RefundError):
    code = "invalid_cancellation_strategy"


class InvalidRefundInput(RefundError):
    code = "invalid_refund_input"


class RefundQuantityNotPositive(InvalidRefundInput):
    code = "refund_quantity_not_positive"


class RefundLinesRequired(InvalidRefundInput):
    """A refund that names no line."""
    code = "refund_lines_required"
    face_code = InvalidRefundInput.code


class RefundCountNotInteger(InvalidRefundInput):
    code = "refund_count_not_integer"
    face_code = InvalidRefundInput.code


class RefundUnitsOutOfRange(InvalidRefundInput):
    """Unit numbers outside 1..the line's quantity (or none), named for a refund."""
    code = "refund_units_out_of_range"
    face_code = InvalidRefundInput.code


class RefundCauseUnsupported(InvalidRefundInput):
    """A refund of units for a cause other than a cancellation or a return."""
    code = "refund_cause_unsupported"
    face_code = InvalidRefundInput.code


class RefundedAmountInvalid(InvalidRefundInput):
    """The amount already refunded, as given to a breakdown, is not a valid amount."""
    code = "refunded_amount_invalid"
    face_code = InvalidRefundInput.code


class RefundLineNotFound(RefundError):
    code, status = "refund_line_not_found", 404


class RefundExceedsRefundable(RefundError):
    code, status = "refund_exceeds_refundable", 409


class PartialRefundNotAllowed(RefundError):
    code, status = "partial_refund_not_allowed", 409


class CargoNotRefundable(RefundError):
    code, status = "cargo_not_refundable", 409


class ForcedAmountExceedsPaid(RefundError):
    code = "forced_amount_exceeds_paid"


# --- strategy ---------------------------------------------------------------------------------
class CargoRule(StrEnum):
    never = "never"          # shipping is never refunded
    per_unit = "per_unit"    # shipping is split over all units of the order; each unit brings its share
    last_unit = "last_unit"  # the whole shipping comes back with the refund that takes the last unit


@dataclass(frozen=True)
class CancellationStrategy:
    """How a seller refunds: data, loaded from per-seller JSON with `strategy_from_dict`.

    `cargo_rule`: see `CargoRule`.
    `discounts_refundable`: the cash refund is ALWAYS the net amount the buyer actually paid for the
        refunded units (gross minus their share of the line discount): a refund never pays
        out money that was never paid. The flag says what happens to the discount itself:
        False — it is kept out: the discount on the refunded units is consumed, nothing more is owed.
        True — it is reversed too: the refunded units' discount share goes back to the buyer as
        discount credit (e.g. the coupon or loyalty money re-issued), reported in
        `RefundBreakdown.discount_returned`, never added to the cash `total`.
    `allow_partial`: False means a refund must take every unit still unrefunded on the order.
    """

    cargo_rule: CargoRule
    discounts_refundable: bool
    allow_partial: bool

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "cargo_rule", CargoRule(self.cargo_rule))
        except (ValueError, TypeError):
            raise InvalidCancellationStrategy(
                f"cargo_rule must be one of {', '.join(CargoRule)}", field="cargo_rule") from None
        for name in ("discounts_refundable", "allow_partial"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidCancellationStrategy(f"{name} must be true or false", field=name)

    def to_dict(self) -> dict[str, Any]:
        return {"cargo_rule": str(self.cargo_rule), "discounts_refundable": self.discounts_refundable,
                "allow_partial": self.allow_partial}


DEFAULT_STRATEGY = CancellationStrategy(
    cargo_rule=CargoRule.last_unit, discounts_refundable=False, allow_partial=True)
"""DEFAULT_STRATEGY: for a seller that configured none. last_unit: cargo is paid per shipment and
the seller still ships the units the buyer keeps, so a partial refund keeps the fee; once every unit
is refunded the buyer kept nothing of the order and the whole fee goes back (like Akinon's "cancelling
triggers an automatic full refund"). allow_partial: every platform kalem speaks cancels per unit or
quantity. discounts_refundable False: the buyer gets back exactly the cash paid, no credit to issue.
"""


def strategy_from_dict(d: Mapping[str, Any]) -> CancellationStrategy:
    """Load a seller's strategy from JSON config; missing keys take `DEFAULT_STRATEGY`'s values.

    Unknown keys are an error rather than ignored: a typo ("cargo_rules") must not silently
    fall back to the default and refund the wrong amount.
    """
    if not isinstance(d, Mapping):
        raise InvalidCancellationStrategy("a cancellation strategy must be a JSON object")
    unknown = sorted(str(k) for k in d if k not in DEFAULT_STRATEGY.to_dict())
    if unknown:
        raise InvalidCancellationStrategy(
            f"unknown cancellation strategy keys: {', '.join(unknown)}", unknown=unknown)
    return CancellationStrategy(**{**DEFAULT_STRATEGY.to_dict(), **d})


# --- inputs -----------------------------------------------------------------------------------
def amount_of(value: Any, what: str, error: type[RefundError] = InvalidBillableOrder,
            currency: str | None = None) -> Decimal:
    # float is refused outright: 0.1 is not 0.1, and money must not start out wrong.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise error(f"{what} must be a Decimal, not {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise error(f"{what} must be a finite, non-negative amount", **{what: str(amount)})
    # Sub-cent inputs would make "sums exactly to what was paid" a claim about rounded numbers.
    if currency is not None and not is_exact(amount, currency):
        raise error(f"{what} has more decimals than {currency} allows", **{what: str(amount)})
    return amount


@dataclass(frozen=True)
class BillableLine:
    """One order line as billed: `unit_price` is the tax-inclusive gross price of one unit,
    `discount` the line discount for the whole line, `tax_rate` a percentage (20 = 20 %)."""

    line_id: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    name: str = ""  # only for the explanation

    def __post_init__(self) -> None:
        if not isinstance(self.line_id, str) or not self.line_id:
            raise InvalidBillableOrder("line_id must be a non-empty string")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 1:
            raise InvalidBillableOrder(f"line {self.line_id}: quantity must be a positive integer",
                                       line_id=self.line_id)
        for name in ("unit_price", "discount", "tax_rate"):
            object.__setattr__(self, name, amount_of(getattr(self, name), f"line {self.line_id} {name}"))
        if self.discount > self.quantity * self.unit_price:
            raise InvalidBillableOrder(f"line {self.line_id}: discount exceeds the line amount",
                                       line_id=self.line_id)


@dataclass(frozen=True)
class BillableOrder:
    """What the buyer was charged: lines net of their discounts, and shipping, tax-inclusive at
    `shipping_tax_rate`."""

    currency: str
    lines: tuple[BillableLine, ...]
    shipping_amount: Decimal
    shipping_tax_rate: Decimal = Decimal(20)

    def __post_init__(self) -> None:
        if not isinstance(self.currency, str) or not self.currency:
            raise InvalidBillableOrder("currency must be a non-empty string")
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.lines or not all(isinstance(line, BillableLine) for line in self.lines):
            raise InvalidBillableOrder("an order needs at least one BillableLine")
        if len({line.line_id for line in self.lines}) != len(self.lines):
            raise InvalidBillableOrder("line ids must be unique within the order")
        for name in ("shipping_amount", "shipping_tax_rate"):
            money = None if name == "shipping_tax_rate" else self.currency
            object.__setattr__(self, name, amount_of(getattr(self, name), name, currency=money))
        for line in self.lines:
            for name in ("unit_price", "discount"):
                amount_of(getattr(line, name), f"line {line.line_id} {name}", currency=self.currency)


def _net(line: BillableLine) -> Decimal:
    return line.quantity * line.unit_price - line.discount


def _tax(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    # Prices include tax: the tax inside `amount` is amount * rate / (100 + rate).
    return quantize(amount * rate / (100 + rate), currency)


def add_tax(taxes: dict[Decimal, Decimal], rate: Decimal, amount: Decimal) -> None:
    taxes[rate] = taxes.get(rate, ZERO) + amount


class RunningShares:
    """C(k), k = 0..units: the sum of the first k equal largest-remainder shares of `total`.

    The closed form of cumulating `allocate(total, [1] * units)`: equal weights leave equal
    remainders, so the leftover minor units go to the first shares and C(k) = k·base + min(k, rest).
    A refund reads two positions, so nothing proportional to the number of units is built.
    """

    def __init__(self, total: Decimal, units: int, currency: str) -> None:
        self._q = quantum(currency)
        minor = int((quantize(total, currency) / self._q).to_integral_value())
        self._sign = -1 if minor < 0 else 1
        self._base, self._rest = divmod(abs(minor), units) if units else (0, 0)
        self.units = units

    def __getitem__(self, k: int) -> Decimal:
        k = _position(k, self.units)
        return Decimal(self._sign * (k * self._base + min(k, self._rest))) * self._q


class _Derived:
    """A table computed from other tables position by position, on demand."""

    def __init__(self, units: int, value: Callable[[int], Decimal]) -> None:
        self.units = units
        self._value = value

    def __getitem__(self, k: int) -> Decimal:
        return self._value(_position(k, self.units))


def _position(k: int, units: int) -> int:
    k = k + units + 1 if k < 0 else k  # -1 is the whole
    if not 0 <= k <= units:
        raise IndexError(k)
    return k


@dataclass(frozen=True)
class _LineBook:
    """Cumulative tables of one line; index k = the first k units."""

    line: BillableLine
    gross: RunningShares
    paid: RunningShares
    tax: _Derived


@dataclass(frozen=True)
class Book:
    lines: dict[str, _LineBook]
    units: int
    shipping: RunningShares  # per-unit cargo, cumulative over all units of the order
    shipping_tax: _Derived

    @property
    def paid(self) -> Decimal:
        return sum((lb.paid[-1] for lb in self.lines.values()), ZERO) + self.shipping[-1]


def book_of(order: BillableOrder) -> Book:
    """The order's cumulative tables: a refund reads positions in them."""
    cur = order.currency
    lines = {}
    for line in order.lines:
        gross = RunningShares(line.quantity * line.unit_price, line.quantity, cur)
        # The paid amount is split on its own (not as gross minus a split discount) so that the
        # money that actually moves is an exact equal split; a run's discount is its gross minus it.
        paid = RunningShares(_net(line), line.quantity, cur)
        tax = _Derived(line.quantity, _taxes_in(paid, line.tax_rate, cur))
        lines[line.line_id] = _LineBook(line, gross, paid, tax)
    units = sum(line.quantity for line in order.lines)
    shipping = RunningShares(order.shipping_amount, units, cur)
    return Book(lines, units, shipping,
                 _Derived(units, lambda k: _tax(shipping[k], order.shipping_tax_rate, cur)))


def _taxes_in(paid: RunningShares, rate: Decimal, currency: str) -> Callable[[int], Decimal]:
    """The tax inside each position of `paid`."""
    return lambda k: _tax(paid[k], rate, currency)


def paid_taxes(order: BillableOrder, book: Book) -> tuple[tuple[Decimal, Decimal], ...]:
    """The tax included in what was paid (`book`: the order's), per rate (shipping included), sorted by rate."""
    taxes: dict[Decimal, Decimal] = {}
    for lb in book.lines.values():
        add_tax(taxes, lb.line.tax_rate, lb.tax[-1])
    if order.shipping_amount:
        add_tax(taxes, order.shipping_tax_rate, book.shipping_tax[-1])
    return tuple((rate, quantize(amount, order.currency)) for rate, amount in sorted(taxes.items()))
