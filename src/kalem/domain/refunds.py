"""Refunds: what goes back to the buyer when units of an order are cancelled or returned.

Pure arithmetic on `Decimal`: no I/O, no clock. The caller says which units it refunds and how many
of each line were refunded before; the result is an explained breakdown.

The one rule every amount follows: an amount that belongs to a line (gross, paid, tax) is cut into
fixed per-unit shares with `money.allocate` (largest remainder), so unit k of a line always has the
same share. Refunding n units of a line of which r were refunded before returns the shares of units
r .. r+n-1, computed as C(r+n) - C(r) where C is the running (cumulative) sum of the shares. The
differences telescope, so any sequence of refunds that ends with every unit refunded returns
exactly what was paid, to the minor unit, whatever the order or grouping — and no prefix of such a
sequence can return more. Per-unit cargo uses the same rule over all units of the order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from kalem.domain.errors import KalemError
from kalem.domain.money import allocate, is_exact, quantize, quantum

ZERO = Decimal(0)
_MINUS = "\u2212"


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
        refunded units (gross minus their share of line and order discounts): a refund never pays
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
def _amount(value: Any, what: str, error: type[RefundError] = InvalidBillableOrder,
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
            object.__setattr__(self, name, _amount(getattr(self, name), f"line {self.line_id} {name}"))
        if self.discount > self.quantity * self.unit_price:
            raise InvalidBillableOrder(f"line {self.line_id}: discount exceeds the line amount",
                                       line_id=self.line_id)


@dataclass(frozen=True)
class BillableOrder:
    """What the buyer was charged. `order_discount` is prorated over the lines by their net
    amount (gross minus line discount); shipping is tax-inclusive at `shipping_tax_rate`."""

    currency: str
    lines: tuple[BillableLine, ...]
    shipping_amount: Decimal
    order_discount: Decimal = ZERO
    shipping_tax_rate: Decimal = Decimal(20)

    def __post_init__(self) -> None:
        if not isinstance(self.currency, str) or not self.currency:
            raise InvalidBillableOrder("currency must be a non-empty string")
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.lines or not all(isinstance(line, BillableLine) for line in self.lines):
            raise InvalidBillableOrder("an order needs at least one BillableLine")
        if len({line.line_id for line in self.lines}) != len(self.lines):
            raise InvalidBillableOrder("line ids must be unique within the order")
        for name in ("shipping_amount", "order_discount", "shipping_tax_rate"):
            money = None if name == "shipping_tax_rate" else self.currency
            object.__setattr__(self, name, _amount(getattr(self, name), name, currency=money))
        for line in self.lines:
            for name in ("unit_price", "discount"):
                _amount(getattr(line, name), f"line {line.line_id} {name}", currency=self.currency)
        if self.order_discount > sum((_net(line) for line in self.lines), ZERO):
            raise InvalidBillableOrder("order_discount exceeds the lines' net amount")


def _net(line: BillableLine) -> Decimal:
    return line.quantity * line.unit_price - line.discount


def _tax(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    # Prices include tax: the tax inside `amount` is amount * rate / (100 + rate).
    return quantize(amount * rate / (100 + rate), currency)


def _add(taxes: dict[Decimal, Decimal], rate: Decimal, amount: Decimal) -> None:
    taxes[rate] = taxes.get(rate, ZERO) + amount


class _Running:
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
    gross: _Running
    paid: _Running
    line_discount: _Derived
    tax: _Derived


@dataclass(frozen=True)
class _Book:
    lines: dict[str, _LineBook]
    units: int
    shipping: _Running  # per-unit cargo, cumulative over all units of the order
    shipping_tax: _Derived

    @property
    def paid(self) -> Decimal:
        return sum((lb.paid[-1] for lb in self.lines.values()), ZERO) + self.shipping[-1]


def _book(order: BillableOrder) -> _Book:
    cur = order.currency
    shares = allocate(order.order_discount, [_net(line) for line in order.lines], cur)
    lines = {}
    for line, order_discount in zip(order.lines, shares, strict=True):
        gross = _Running(line.quantity * line.unit_price, line.quantity, cur)
        # The paid amount is split on its own (not as gross minus split discounts) so that the
        # money that actually moves is an exact equal split; the discount per unit is derived.
        paid = _Running(_net(line) - order_discount, line.quantity, cur)
        discount = line.discount + order_discount
        # The line/order discount split of a refund's discount, by the line's proportions: monotone
        # in k, exact at both ends, and zero for a discount kind the line does not have.
        line_discount = _Derived(line.quantity, lambda k, g=gross, p=paid, d=discount, ld=line.discount:
                                 quantize((g[k] - p[k]) * ld / d, cur) if d else ZERO)
        tax = _Derived(line.quantity, lambda k, p=paid, rate=line.tax_rate: _tax(p[k], rate, cur))
        lines[line.line_id] = _LineBook(line, gross, paid, line_discount, tax)
    units = sum(line.quantity for line in order.lines)
    shipping = _Running(order.shipping_amount, units, cur)
    return _Book(lines, units, shipping,
                 _Derived(units, lambda k: _tax(shipping[k], order.shipping_tax_rate, cur)))


def paid_total(order: BillableOrder) -> Decimal:
    """What the buyer paid: every line net of its discounts and order-discount share, plus shipping."""
    return quantize(_book(order).paid, order.currency)


def paid_taxes(order: BillableOrder) -> tuple[tuple[Decimal, Decimal], ...]:
    """The tax included in what was paid, per rate (shipping included), sorted by rate."""
    book = _book(order)
    taxes: dict[Decimal, Decimal] = {}
    for lb in book.lines.values():
        _add(taxes, lb.line.tax_rate, lb.tax[-1])
    if order.shipping_amount:
        _add(taxes, order.shipping_tax_rate, book.shipping_tax[-1])
    return tuple((rate, quantize(amount, order.currency)) for rate, amount in sorted(taxes.items()))


# --- result -----------------------------------------------------------------------------------
def _rate(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def _taxes_dict(taxes: tuple[tuple[Decimal, Decimal], ...]) -> list[dict[str, str]]:
    return [{"rate": _rate(rate), "amount": str(amount)} for rate, amount in taxes]


@dataclass(frozen=True)
class RefundLine:
    line_id: str
    quantity: int
    item_amount: Decimal          # gross, before any discount
    discount_amount: Decimal      # line discount + order discount share
    amount: Decimal               # net refunded for the items: item_amount - discount_amount
    tax: tuple[tuple[Decimal, Decimal], ...]  # (rate, tax included in amount)

    def to_dict(self) -> dict[str, Any]:
        money = {k: str(getattr(self, k)) for k in ("item_amount", "discount_amount", "amount")}
        return {"line_id": self.line_id, "quantity": self.quantity, **money, "tax": _taxes_dict(self.tax)}


@dataclass(frozen=True)
class RefundBreakdown:
    """An explained refund. `total` is the cash to pay back: `computed_total` (items + shipping),
    or `forced_amount` when an operator overrode it — the computed parts stay visible either way."""

    currency: str
    lines: tuple[RefundLine, ...]
    shipping_amount: Decimal
    shipping_tax: Decimal
    taxes: tuple[tuple[Decimal, Decimal], ...]
    computed_total: Decimal
    total: Decimal
    forced_amount: Decimal | None
    discount_returned: Decimal    # discount credit given back, not cash (see CancellationStrategy)
    strategy: CancellationStrategy
    explanation: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        forced = None if self.forced_amount is None else str(self.forced_amount)
        return {"currency": self.currency, "lines": [line.to_dict() for line in self.lines],
                "shipping_amount": str(self.shipping_amount), "shipping_tax": str(self.shipping_tax),
                "taxes": _taxes_dict(self.taxes), "computed_total": str(self.computed_total),
                "total": str(self.total), "forced_amount": forced,
                "discount_returned": str(self.discount_returned),
                "strategy": self.strategy.to_dict(), "explanation": list(self.explanation)}


# --- the calculator ---------------------------------------------------------------------------
def _counts(book: _Book, counts: Mapping[str, int], what: str) -> dict[str, int]:
    out = {}
    for line_id, n in counts.items():
        if line_id not in book.lines:
            raise RefundLineNotFound(f"the order has no line {line_id}", line_id=line_id)
        if isinstance(n, bool) or not isinstance(n, int):
            raise InvalidRefundInput(f"{what} of line {line_id} must be an integer", line_id=line_id)
        out[line_id] = n
    return out


def _cargo(order: BillableOrder, book: _Book, strategy: CancellationStrategy,
           include_cargo: bool | None, positions: list[tuple[int, int]], after: int,
           shipping_refunded: Decimal | None) -> tuple[Decimal, Decimal, str]:
    """(shipping, shipping tax, sentence) for a refund of the units at `positions` (order-wide
    [start, end) ranges) that leaves `after` units of the order refunded; never more shipping than
    is left of the fee after `shipping_refunded`."""
    amount, tax, sentence = _cargo_by_units(order, book, strategy, include_cargo, positions, after)
    if shipping_refunded is None or not amount:
        return amount, tax, sentence
    # Unit positions say how much shipping a refund takes; the cash already refunded says how much is
    # left. They part when an earlier refund failed after a later one took the last unit (and its
    # shipping): the failed refund's units come back, and reaching the last unit again must not
    # ask for the shipping twice. The refund that completes the order takes exactly what is left.
    fee = quantize(order.shipping_amount, order.currency)
    left = max(ZERO, fee - shipping_refunded)
    capped = left if after == book.units else min(amount, left)
    if capped == amount:
        return amount, tax, sentence
    share = quantize(book.shipping_tax[-1] * capped / fee, order.currency)
    return capped, share, f"shipping {capped} refunded: {shipping_refunded} of {fee} was refunded before"


def _cargo_by_units(order: BillableOrder, book: _Book, strategy: CancellationStrategy, include_cargo: bool | None,
                    positions: list[tuple[int, int]], after: int) -> tuple[Decimal, Decimal, str]:
    rule, fee = strategy.cargo_rule, quantize(order.shipping_amount, order.currency)
    if rule is CargoRule.never:
        if include_cargo:
            raise CargoNotRefundable("this seller's cancellation strategy never refunds shipping",
                                     cargo_rule=str(rule))
        return ZERO, ZERO, "shipping not refunded (strategy never)"
    if include_cargo is False:
        return ZERO, ZERO, "shipping not refunded (cargo refund not requested)"
    if not fee:
        return ZERO, ZERO, "no shipping was charged"
    if rule is CargoRule.per_unit:
        amount, tax = (sum((table[end] - table[start] for start, end in positions), ZERO)
                       for table in (book.shipping, book.shipping_tax))
        units = sum(end - start for start, end in positions)
        return (amount, tax, f"shipping share {quantize(amount, order.currency)} for {units} of "
                             f"{book.units} units (strategy per_unit)")
    if after == book.units:
        return (fee, book.shipping_tax[-1],
                f"shipping {fee} refunded with the last unit (strategy last_unit)")
    return ZERO, ZERO, (f"shipping {fee} not refunded: {book.units - after} unit(s) remain and it "
                        "comes back with the last one (strategy last_unit)")


def _refunded_before(book: _Book, done: Mapping[str, int], strategy: CancellationStrategy) -> Decimal:
    """What earlier refunds returned, assuming they followed the strategy. If they skipped cargo
    this overstates it, which only lowers the cap on a forced amount: the safe side."""
    items, shipping, offset = ZERO, ZERO, 0
    for line_id, lb in book.lines.items():
        r = done.get(line_id, 0)
        items += lb.paid[r]
        shipping += book.shipping[offset + r] - book.shipping[offset]
        offset += lb.line.quantity
    before = sum(done.values())
    if strategy.cargo_rule is CargoRule.per_unit:
        return items + shipping
    if strategy.cargo_rule is CargoRule.last_unit and before == book.units:
        return items + book.shipping[-1]
    return items


Runs = tuple[tuple[int, int], ...]
"""Unit numbers of one line as runs of consecutive numbers: ((first, last), ...), 1-based, inclusive."""


def compute_refund(order: BillableOrder, request: Mapping[str, int], already_refunded: Mapping[str, int],
                   strategy: CancellationStrategy = DEFAULT_STRATEGY, *, include_cargo: bool | None = None,
                   forced_amount: Decimal | None = None,
                   already_refunded_amount: Decimal | None = None,
                   already_refunded_shipping: Decimal | None = None) -> RefundBreakdown:
    """Refund `request` (units per line id) of `order`, given the units per line refunded before:
    the refund takes the next units of each line, r+1 .. r+n.

    include_cargo: None follows the strategy's cargo rule; False refunds no shipping; True asks for
        it under the rule (`CargoNotRefundable` when the rule is `never`). Note that a refund made
        without cargo forfeits its units' per-unit shares: cargo follows unit counts, not history.
        (Akinon's `is_cargo_refund: true` is True; its default false reads best as None, since
        Akinon says the cancellation strategy governs cargo.)
    forced_amount: an operator's override of the cash total (Akinon `forced_refund_amount`);
        at most what was paid minus what was refunded before.
    already_refunded_amount: the cash refunded before, when known (e.g. earlier forced amounts);
        without it, it is derived from `already_refunded` and the strategy.
    already_refunded_shipping: the shipping earlier refunds returned, when known: shipping is
        refunded at most once in all, whatever order earlier refunds succeeded or failed in.
    """
    book = _book(order)
    done = _counts(book, already_refunded, "already refunded units")
    for line_id, n in done.items():
        if not 0 <= n <= book.lines[line_id].line.quantity:
            raise InvalidRefundInput(f"line {line_id}: {n} units cannot have been refunded", line_id=line_id)
    wanted = check_refund_counts(book, request, done)
    taking = {line_id: ((done.get(line_id, 0) + 1, done.get(line_id, 0) + n),) for line_id, n in wanted.items()}
    refunded = _refunded_before(book, done, strategy) if already_refunded_amount is None else already_refunded_amount
    return refund_units(order, book, taking, sum(done.values()), strategy, include_cargo=include_cargo,
                        forced_amount=forced_amount, refunded_amount=refunded,
                        refunded_shipping=already_refunded_shipping)


def check_refund_counts(book: _Book, request: Mapping[str, int], done: Mapping[str, int]) -> dict[str, int]:
    """The units asked per line, checked against the line and the `done` units no refund may take again."""
    wanted = _counts(book, request, "quantity")
    if not wanted:
        raise InvalidRefundInput("a refund needs at least one line")
    for line_id, n in wanted.items():
        if n <= 0:
            raise RefundQuantityNotPositive(f"line {line_id}: quantity must be positive", line_id=line_id)
        refundable = book.lines[line_id].line.quantity - done.get(line_id, 0)
        if n > refundable:
            raise RefundExceedsRefundable(f"line {line_id}: {n} units requested, {refundable} refundable",
                                          line_id=line_id, requested=n, refundable=refundable)
    return wanted


def book_of(order: BillableOrder) -> _Book:
    """The order's cumulative tables, built once per account: a refund reads positions in them."""
    return _book(order)


def refund_units(order: BillableOrder, book: _Book, taking: Mapping[str, Runs], before: int,
                 strategy: CancellationStrategy, *, include_cargo: bool | None, forced_amount: Decimal | None,
                 refunded_amount: Decimal, refunded_shipping: Decimal | None) -> RefundBreakdown:
    """Refund the units numbered in `taking` (line id → runs), `before` units of the order being
    refunded (or pending) already. Every amount is a sum of differences of cumulative tables over the
    runs, so its cost follows the runs, never the units, and any partition of a line's units into
    refunds adds up to exactly what the line paid."""
    cur = order.currency
    after = before + sum(last - first + 1 for runs in taking.values() for first, last in runs)
    if not strategy.allow_partial and after < book.units:
        raise PartialRefundNotAllowed(
            f"this seller refunds whole orders only: {book.units - before} units remain, "
            f"{after - before} requested", remaining=book.units - before, requested=after - before)

    def q(amount: Decimal) -> Decimal:
        return quantize(amount, cur)

    lines, explanation, taxes, discount, offset, positions = [], [], {}, ZERO, 0, []
    for line in order.lines:                       # order's line order: a deterministic result
        runs = taking.get(line.line_id, ())
        lb, start = book.lines[line.line_id], offset
        offset += line.quantity
        if not runs:
            continue
        positions += [(start + first - 1, start + last) for first, last in runs]
        n = sum(last - first + 1 for first, last in runs)
        item, paid, line_disc, tax = (sum((table[last] - table[first - 1] for first, last in runs), ZERO)
                                      for table in (lb.gross, lb.paid, lb.line_discount, lb.tax))
        _add(taxes, line.tax_rate, tax)
        discount += item - paid
        label = line.name or f"line {line.line_id}"
        lines.append(RefundLine(line.line_id, n, q(item), q(item - paid), q(paid), ((line.tax_rate, q(tax)),)))
        explanation.append(f"{n} \u00d7 {label} at {q(line.unit_price)} = {q(item)}")
        if line_disc:
            explanation.append(f"line discount share {_MINUS}{q(line_disc)}")
        if item - paid - line_disc:
            explanation.append(f"order discount share {_MINUS}{q(item - paid - line_disc)}")
        numbers = ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in runs)
        explanation.append(f"{label}: {q(paid)} for unit{'s' if n > 1 else ''} {numbers} of {line.quantity} "
                           f"(includes {q(tax)} tax at {_rate(line.tax_rate)}%)")

    shipping, shipping_tax, sentence = _cargo(order, book, strategy, include_cargo, positions, after,
                                               refunded_shipping)
    explanation.append(sentence)
    if shipping:
        _add(taxes, order.shipping_tax_rate, shipping_tax)
    computed = quantize(sum((line.amount for line in lines), ZERO) + shipping, cur)
    discount = quantize(discount, cur)
    returned = discount if strategy.discounts_refundable else quantize(ZERO, cur)
    if discount and strategy.discounts_refundable:
        explanation.append(f"discount share {discount} goes back to the buyer as discount credit, "
                           "not cash (discounts refundable)")
    elif discount:
        explanation.append(f"discount share {discount} is not given back (discounts not refundable)")

    refunded = _amount(refunded_amount, "already_refunded_amount", InvalidRefundInput, cur)
    cap = quantize(book.paid - refunded, cur)
    total, forced = computed, None
    if forced_amount is not None:
        asked = _amount(forced_amount, "forced_amount", ForcedAmountExceedsPaid, cur)
        if asked > cap:  # compared before quantizing: an amount past 28 digits cannot be quantized
            raise ForcedAmountExceedsPaid(f"forced amount {asked} exceeds the {cap} still refundable",
                                          forced_amount=str(asked), refundable=str(cap))
        total = forced = quantize(asked, cur)
        explanation.append(f"amount forced to {forced} (computed {computed})")
    elif computed > cap:
        # Only reachable when earlier refunds paid more than computed (forced amounts).
        raise RefundExceedsRefundable(f"refund {computed} exceeds the {cap} still refundable",
                                      requested=str(computed), refundable=str(cap))
    explanation.append(f"total refunded {total} {cur}")
    return RefundBreakdown(
        currency=cur, lines=tuple(lines), shipping_amount=quantize(shipping, cur),
        shipping_tax=quantize(shipping_tax, cur),
        taxes=tuple((rate, quantize(amount, cur)) for rate, amount in sorted(taxes.items())),
        computed_total=computed, total=total, forced_amount=forced, discount_returned=returned,
        strategy=strategy, explanation=tuple(explanation))

