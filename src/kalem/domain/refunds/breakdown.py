"""The explained breakdown of refunding units of a billed order, as the order's refund account computes it.

The one rule every amount follows: an amount that belongs to a line (gross, paid, tax) is cut into
fixed per-unit shares (largest remainder, `refunds.Book`), so unit k of a line always has the same
share, and refunding a run of units a..b returns C(b) - C(a-1), C being the running (cumulative) sum
of the shares. The differences telescope, so refunds that together take every unit of a line return
exactly what it paid, to the minor unit, whatever the order or grouping — and no part of them can
return more. Per-unit cargo uses the same rule over all units of the order (unit k of a line sits at
its line's offset + k).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kalem.domain.money import quantize
from kalem.domain.refunds.book import (
    BillableOrder,
    Book,
    CancellationStrategy,
    CargoNotRefundable,
    CargoRule,
    ForcedAmountExceedsPaid,
    PartialRefundNotAllowed,
    RefundCountNotInteger,
    RefundedAmountInvalid,
    RefundExceedsRefundable,
    RefundLineNotFound,
    RefundLinesRequired,
    RefundQuantityNotPositive,
    add_tax,
    amount_of,
)

ZERO = Decimal(0)
_MINUS = "\u2212"


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
    discount_amount: Decimal      # the units' share of the line discount
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
def _counts(book: Book, counts: Mapping[str, int], what: str) -> dict[str, int]:
    out = {}
    for line_id, n in counts.items():
        if line_id not in book.lines:
            raise RefundLineNotFound(f"the order has no line {line_id}", line_id=line_id)
        if isinstance(n, bool) or not isinstance(n, int):
            raise RefundCountNotInteger(f"{what} of line {line_id} must be an integer", line_id=line_id)
        out[line_id] = n
    return out


def _cargo(order: BillableOrder, book: Book, strategy: CancellationStrategy,
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


def _cargo_by_units(order: BillableOrder, book: Book, strategy: CancellationStrategy, include_cargo: bool | None,
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


Runs = tuple[tuple[int, int], ...]
"""Unit numbers of one line as runs of consecutive numbers: ((first, last), ...), 1-based, inclusive."""


def check_refund_counts(book: Book, request: Mapping[str, int], done: Mapping[str, int]) -> dict[str, int]:
    """The units asked per line, checked against the line and the `done` units no refund may take again."""
    wanted = _counts(book, request, "quantity")
    if not wanted:
        raise RefundLinesRequired("a refund needs at least one line")
    for line_id, n in wanted.items():
        if n <= 0:
            raise RefundQuantityNotPositive(f"line {line_id}: quantity must be positive", line_id=line_id)
        refundable = book.lines[line_id].line.quantity - done.get(line_id, 0)
        if n > refundable:
            raise RefundExceedsRefundable(f"line {line_id}: {n} units requested, {refundable} refundable",
                                          line_id=line_id, requested=n, refundable=refundable)
    return wanted


def refund_units(order: BillableOrder, book: Book, taking: Mapping[str, Runs], before: int,
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

    taxes: dict[Decimal, Decimal]
    lines, explanation, taxes, discount, offset, positions = [], [], {}, ZERO, 0, []
    for line in order.lines:                       # order's line order: a deterministic result
        runs = taking.get(line.line_id, ())
        lb, start = book.lines[line.line_id], offset
        offset += line.quantity
        if not runs:
            continue
        positions += [(start + first - 1, start + last) for first, last in runs]
        n = sum(last - first + 1 for first, last in runs)
        item, paid, tax = (sum((table[last] - table[first - 1] for first, last in runs), ZERO)
                           for table in (lb.gross, lb.paid, lb.tax))
        add_tax(taxes, line.tax_rate, tax)
        discount += item - paid
        label = line.name or f"line {line.line_id}"
        lines.append(RefundLine(line.line_id, n, q(item), q(item - paid), q(paid), ((line.tax_rate, q(tax)),)))
        explanation.append(f"{n} \u00d7 {label} at {q(line.unit_price)} = {q(item)}")
        if item - paid:
            explanation.append(f"line discount share {_MINUS}{q(item - paid)}")
        numbers = ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in runs)
        explanation.append(f"{label}: {q(paid)} for unit{'s' if n > 1 else ''} {numbers} of {line.quantity} "
                           f"(includes {q(tax)} tax at {_rate(line.tax_rate)}%)")

    shipping, shipping_tax, sentence = _cargo(order, book, strategy, include_cargo, positions, after,
                                               refunded_shipping)
    explanation.append(sentence)
    if shipping:
        add_tax(taxes, order.shipping_tax_rate, shipping_tax)
    computed = quantize(sum((line.amount for line in lines), ZERO) + shipping, cur)
    discount = quantize(discount, cur)
    returned = discount if strategy.discounts_refundable else quantize(ZERO, cur)
    if discount and strategy.discounts_refundable:
        explanation.append(f"discount share {discount} goes back to the buyer as discount credit, "
                           "not cash (discounts refundable)")
    elif discount:
        explanation.append(f"discount share {discount} is not given back (discounts not refundable)")

    refunded = amount_of(refunded_amount, "already_refunded_amount", RefundedAmountInvalid, cur)
    cap = quantize(book.paid - refunded, cur)
    total, forced = computed, None
    if forced_amount is not None:
        asked = amount_of(forced_amount, "forced_amount", ForcedAmountExceedsPaid, cur)
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

