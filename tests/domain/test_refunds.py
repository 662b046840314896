"""Refunds of units through the order's refund account: exact sums under any partition, the seed example
by hand, cargo rules, strategies, forced amounts, typed errors — each refund equal to its preview."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalem.domain.events.event import Actor
from kalem.domain.money import quantum
from kalem.domain.orders.cancellation import CancelItem, cancel_lines
from kalem.domain.orders.order import LineSpec, OrderSpec, place_order
from kalem.domain.orders.units import UnitSet
from kalem.domain.refunds.account import RefundAccount
from kalem.domain.refunds.book import (
    DEFAULT_STRATEGY,
    BillableLine,
    BillableOrder,
    CancellationStrategy,
    CargoNotRefundable,
    CargoRule,
    ForcedAmountExceedsPaid,
    InvalidBillableOrder,
    InvalidCancellationStrategy,
    PartialRefundNotAllowed,
    RefundError,
    RefundExceedsRefundable,
    RefundLineNotFound,
    RefundLinesRequired,
    RefundQuantityNotPositive,
    RunningShares,
    strategy_from_dict,
)
from kalem.domain.refunds.records import ForcedAmountOperatorOnly, Payout, RefundCause, RefundMethod, RefundStatus

RATES = [D(0), D(1), D(8), D(10), D(18), D(20)]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
OP = Actor("operator", "admin")
SELLER = Actor("seller", "tok_1", "acme")
PAY = Payout(RefundMethod.ORIGINAL)
CANCELLED = RefundCause.CANCELLATION


def strategy(rule: CargoRule, *, discounts_refundable: bool = False, allow_partial: bool = True):
    return CancellationStrategy(rule, discounts_refundable, allow_partial)


def cancelled_order(currency, lines, shipping):
    """An order of these lines (id, name, quantity, unit price, line discount, tax rate), every unit
    cancelled: every unit may be refunded."""
    specs = tuple(LineSpec(line_id, f"SKU-{line_id}", name, quantity, price, discount, rate)
                  for line_id, name, quantity, price, discount, rate in lines)
    order, _ = place_order(OrderSpec("acme", "1", currency, specs, shipping_amount=shipping),
                           order_id="o1", actor=OP, now=NOW)
    order, _ = cancel_lines(order, [CancelItem(spec.line_id, spec.quantity, 136, None) for spec in specs],
                            actor=OP, now=NOW)
    return order


def refund(order, refunds, strat, units, *, actor=OP, **options):
    """Preview, then refund the same units: the refund is exactly its preview. Returns (order, refund, preview)."""
    account = RefundAccount.of(order, refunds, strat)
    preview = account.preview(units, cause=CANCELLED, **options)
    order, made, _ = account.refund(units, cause=CANCELLED, pay=PAY, refund_id=f"r{len(refunds)}", actor=actor,
                                    now=NOW, **options)
    assert made.breakdown == preview.to_dict() and made.amount == preview.total
    return order, made, preview


# --- generators -------------------------------------------------------------------------------
@st.composite
def orders(draw):
    currency = draw(st.sampled_from(["TRY", "EUR", "JPY", "KWD"]))
    q = quantum(currency)
    lines = []
    for i in range(draw(st.integers(1, 5))):
        qty = draw(st.integers(1, 6))
        price = draw(st.integers(0, 50_000))
        discount = draw(st.one_of(st.just(0), st.integers(0, qty * price)))
        lines.append((f"L{i}", f"Item {i}", qty, price * q, discount * q, draw(st.sampled_from(RATES))))
    shipping = draw(st.one_of(st.just(0), st.integers(0, 10_000))) * q
    return cancelled_order(currency, lines, shipping)


@st.composite
def partitions(draw, order):
    """Every unit of the order, shuffled, cut into refunds: each takes the units it drew, by number."""
    units = draw(st.permutations([(ln.line_id, n) for ln in order.lines for n in range(1, ln.quantity + 1)]))
    cuts = draw(st.lists(st.booleans(), min_size=len(units) - 1, max_size=len(units) - 1))
    groups, current = [], [units[0]]
    for unit, cut in zip(units[1:], cuts, strict=True):
        if cut:
            groups.append(current)
            current = []
        current.append(unit)
    groups.append(current)
    return [{line_id: UnitSet.of(n for lid, n in group if lid == line_id) for line_id in {lid for lid, _ in group}}
            for group in groups]


def refund_all(order, parts, strat, made=None):
    """Run the refunds one after another, checking the running total never exceeds what was paid;
    their breakdowns, and the records in `made` if given."""
    refunds, results = [] if made is None else made, []
    paid = RefundAccount.of(order, [], strat).paid
    for units in parts:
        order, record, preview = refund(order, refunds, strat, units)
        refunds.append(record)
        results.append(preview)
        assert sum(r.amount for r in refunds) <= paid
    return results


def by_rate(pairs) -> dict[D, D]:
    out: dict[D, D] = {}
    for rate, amount in pairs:
        out[rate] = out.get(rate, D(0)) + amount
    return {rate: amount for rate, amount in out.items() if amount}


def gross_and_discounts(order):
    return (sum(ln.quantity * ln.unit_price for ln in order.lines), sum(ln.discount for ln in order.lines))


# --- properties -------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", [CargoRule.per_unit, CargoRule.last_unit])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_partition_refunds_exactly_what_was_paid(rule, data):
    order = data.draw(orders())
    results = refund_all(order, data.draw(partitions(order)), strategy(rule))

    # An oracle that does not go through the account's allocation.
    gross, discounts = gross_and_discounts(order)
    paid = RefundAccount.of(order, []).paid
    assert paid == gross - discounts + order.shipping_amount
    assert sum(r.total for r in results) == paid
    assert sum(line.item_amount for r in results for line in r.lines) == gross
    assert sum(line.discount_amount for r in results for line in r.lines) == discounts
    paid_taxes = {key: amount for key, amount in RefundAccount.of(order, []).components()["paid"].items()
                  if key.startswith("tax ")}
    refunded_taxes = ((f"tax {rate.normalize():f}", tax) for r in results for rate, tax in r.taxes)
    assert by_rate(refunded_taxes) == by_rate(paid_taxes.items())
    assert sum(r.shipping_amount for r in results) == order.shipping_amount
    if rule is CargoRule.last_unit:
        assert all(r.shipping_amount == 0 for r in results[:-1])
    for r in results:
        assert r.computed_total == r.total == sum(line.amount for line in r.lines) + r.shipping_amount
        for line in r.lines:
            assert line.amount == line.item_amount - line.discount_amount
            assert line.amount >= 0 and line.discount_amount >= 0


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_never_rule_refunds_everything_but_shipping(data):
    order = data.draw(orders())
    results = refund_all(order, data.draw(partitions(order)), strategy(CargoRule.never))
    assert all(r.shipping_amount == 0 and r.shipping_tax == 0 for r in results)
    assert sum(r.total for r in results) == RefundAccount.of(order, []).paid - order.shipping_amount


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_each_refund_tax_is_within_one_minor_unit_per_run_of_its_amount(data):
    # A run of units a..b reads the running tax at both ends, each within half a minor unit.
    order = data.draw(orders())
    q = quantum(order.currency)
    rates = {ln.line_id: ln.tax_rate for ln in order.lines}
    records = []
    for r, record in zip(refund_all(order, data.draw(partitions(order)), strategy(CargoRule.per_unit), records),
                         records, strict=True):
        for line in r.lines:
            (rate, tax), = line.tax
            runs = sum(1 for line_id, _, _ in record.units if line_id == line.line_id)
            assert rate == rates[line.line_id]
            assert abs(tax - line.amount * rate / (100 + rate)) <= q * runs


@settings(max_examples=150, deadline=None)
@given(order=orders(), refundable=st.booleans())
def test_discounts_refundable_changes_the_credit_never_the_cash(order, refundable):
    everything = {ln.line_id: ln.quantity for ln in order.lines}
    strat = strategy(CargoRule.last_unit, discounts_refundable=refundable)
    _, made, result = refund(order, [], strat, everything)
    assert made.amount == result.total == RefundAccount.of(order, []).paid
    _, discounts = gross_and_discounts(order)
    assert result.discount_returned == (discounts if refundable else 0)


@settings(max_examples=150, deadline=None)
@given(order=orders())
def test_whole_order_only_refunds_everything_or_nothing(order):
    strat = strategy(CargoRule.last_unit, allow_partial=False)
    everything = {ln.line_id: ln.quantity for ln in order.lines}
    assert refund(order, [], strat, everything)[2].total == RefundAccount.of(order, []).paid
    if sum(everything.values()) > 1:
        first = order.lines[0].line_id
        less = {**everything, first: everything[first] - 1}
        with pytest.raises(PartialRefundNotAllowed):
            RefundAccount.of(order, [], strat).preview({k: v for k, v in less.items() if v}, cause=CANCELLED)


# --- the seed order, by hand ------------------------------------------------------------------
SEED = cancelled_order("TRY", [("L1", "T-Shirt", 3, D("199.90"), D("20.00"), D(20))], D("29.90"))


def preview(units, strat=DEFAULT_STRATEGY, refunds=(), **options):
    return RefundAccount.of(SEED, refunds, strat).preview(units, cause=CANCELLED, **options)


def test_seed_order_one_unit():
    # Paid for the line: 3 × 199.90 − 20.00 = 579.70; 579.70 / 3 = 193.2333…, so the
    # largest-remainder split is 193.24 + 193.23 + 193.23 and the first unit refunded gets 193.24.
    # Its discount is 199.90 − 193.24 = 6.66; tax inside at 20 %: 193.24 × 20/120 = 32.2066… → 32.21.
    # Shipping stays: under last_unit it comes back only with the third unit.
    result = preview({"L1": 1})
    (line,) = result.lines
    assert (line.item_amount, line.discount_amount, line.amount) == (D("199.90"), D("6.66"), D("193.24"))
    assert line.tax == ((D(20), D("32.21")),)
    assert result.shipping_amount == 0 and result.total == D("193.24")
    assert result.explanation[0] == "1 \u00d7 T-Shirt at 199.90 = 199.90"
    assert "line discount share \u22126.66" in result.explanation
    assert any("shipping 29.90 not refunded" in s for s in result.explanation)


def test_seed_order_unit_by_unit_and_the_last_brings_shipping():
    order, refunds, results = SEED, [], []
    for _ in range(3):
        order, made, result = refund(order, refunds, DEFAULT_STRATEGY, {"L1": 1})
        refunds.append(made)
        results.append(result)
    first, second, last = results
    assert [first.total, second.total, last.total] == [D("193.24"), D("193.23"), D("223.13")]
    assert [r.units for r in refunds] == [(("L1", 1, 1),), (("L1", 2, 2),), (("L1", 3, 3),)]
    assert last.shipping_amount == D("29.90") and last.shipping_tax == D("4.98")  # 29.90 × 20/120
    assert "shipping 29.90 refunded with the last unit (strategy last_unit)" in last.explanation
    assert first.total + second.total + last.total == RefundAccount.of(SEED, []).paid == D("609.60")
    assert RefundAccount.of(order, refunds).refundable == 0


def test_seed_order_two_units_match_the_design_example():
    result = preview({"L1": 2})
    assert result.total == D("386.47")  # 193.24 + 193.23
    assert result.explanation[:2] == ("2 \u00d7 T-Shirt at 199.90 = 399.80", "line discount share \u221213.33")


def test_seed_order_units_by_number_take_their_own_shares():
    # Unit 1 carries the extra cent whichever refund takes it.
    assert preview({"L1": UnitSet.of([2, 3])}).total == D("386.46")
    assert preview({"L1": UnitSet.of([1, 3])}).total == D("386.47")
    assert preview({"L1": UnitSet.of([2, 3])}).explanation[2].startswith("T-Shirt: 386.46 for units 2\u20133 of 3")


def test_seed_order_per_unit_cargo():
    # 29.90 over 3 units: 9.9666… → 9.97 + 9.97 + 9.96.
    result = preview({"L1": 1}, strategy(CargoRule.per_unit))
    assert result.shipping_amount == D("9.97") and result.total == D("203.21")
    assert result.taxes == ((D(20), D("33.87")),)  # 32.21 + 9.97 × 20/120 = 1.6616… → 1.66


def test_each_line_keeps_its_tax_rate():
    order = cancelled_order("TRY", [("A", "A", 2, D("100.00"), D(0), D(10)), ("B", "B", 1, D("50.00"), D(0), D(20))],
                            D(0))
    result = RefundAccount.of(order, []).preview({"A": 1, "B": 1}, cause=CANCELLED)
    assert result.total == D("150.00")
    assert result.taxes == ((D(10), D("9.09")), (D(20), D("8.33")))  # 100 × 10/110, 50 × 20/120
    assert not any("discount" in s for s in result.explanation)


def test_refund_breakdown_is_json_ready():
    _, made, _ = refund(SEED, [], DEFAULT_STRATEGY, {"L1": 3}, forced_amount=D("500.00"))
    data = json.loads(json.dumps(made.breakdown))
    assert data["total"] == "500.00" and data["computed_total"] == "609.60"
    assert data["forced_amount"] == "500.00" and made.forced_by == OP.label
    assert data["lines"][0] == {"line_id": "L1", "quantity": 3, "item_amount": "599.70",
                                "discount_amount": "20.00", "amount": "579.70",
                                "tax": [{"rate": "20", "amount": "96.62"}]}
    assert data["taxes"] == [{"rate": "20", "amount": "101.60"}]
    assert data["strategy"] == DEFAULT_STRATEGY.to_dict()


# --- cargo and forced amounts -----------------------------------------------------------------
def test_include_cargo_false_keeps_shipping_even_on_the_last_unit():
    result = preview({"L1": 3}, include_cargo=False)
    assert result.shipping_amount == 0 and result.total == D("579.70")


def test_include_cargo_under_never_is_refused():
    with pytest.raises(CargoNotRefundable) as err:
        preview({"L1": 3}, strategy(CargoRule.never), include_cargo=True)
    assert err.value.code == "cargo_not_refundable"


def test_forced_amount_replaces_the_total_and_keeps_the_breakdown():
    result = preview({"L1": 1}, forced_amount=D(150))
    assert result.total == result.forced_amount == D("150.00")
    assert result.computed_total == result.lines[0].amount == D("193.24")
    assert "amount forced to 150.00 (computed 193.24)" in result.explanation


def test_only_an_operator_forces_an_amount():
    with pytest.raises(ForcedAmountOperatorOnly):
        refund(SEED, [], DEFAULT_STRATEGY, {"L1": 1}, forced_amount=D(150), actor=SELLER)


def test_forced_amount_is_capped_by_what_is_still_refundable():
    # After unit 1 (193.24) the buyer can get back at most 609.60 − 193.24 = 416.36.
    _, first, _ = refund(SEED, [], DEFAULT_STRATEGY, {"L1": 1})
    assert preview({"L1": 1}, refunds=[first], forced_amount=D("416.36")).total == D("416.36")
    for bad in (D("416.37"), D("-0.01"), D("1E+26"), D("1E+400")):  # past 28 digits: no InvalidOperation
        with pytest.raises(ForcedAmountExceedsPaid) as err:
            preview({"L1": 1}, refunds=[first], forced_amount=bad)
        assert err.value.code == "forced_amount_exceeds_paid"
    # A failed refund paid nothing: the whole order is refundable again.
    failed = replace(first, status=RefundStatus.FAILED)
    assert preview({"L1": 1}, refunds=[failed], forced_amount=D("609.60")).total == D("609.60")


def test_earlier_forced_refunds_cap_the_computed_one():
    # Units 1-2 went back forced to 500.00: the last unit computes 193.23 + 29.90 shipping, 109.60 is left.
    _, forced, _ = refund(SEED, [], DEFAULT_STRATEGY, {"L1": 2}, forced_amount=D("500.00"))
    with pytest.raises(RefundExceedsRefundable):
        preview({"L1": 1}, refunds=[forced])
    assert preview({"L1": 1}, refunds=[forced], forced_amount=D("109.60")).total == D("109.60")


@pytest.mark.parametrize("rule", [CargoRule.last_unit, CargoRule.per_unit])
def test_shipping_is_refunded_once_when_an_earlier_refund_failed_after_a_later_one(rule):
    # Two units at 10.00, 25.00 shipping. Refund A takes unit 1, refund B unit 2 with what is left of
    # the shipping; A then fails. Re-refunding A's unit reaches "the last unit" again by count, but the
    # shipping B paid must not be asked for twice: the re-refund takes what is left, and all refunds
    # together pay back exactly what was paid.
    order = cancelled_order("TRY", [("L", "L", 2, D("10.00"), D(0), D(20))], D("25.00"))
    chosen = strategy(rule)
    order, a, _ = refund(order, [], chosen, {"L": 1})
    order, b, b_preview = refund(order, [a], chosen, {"L": 1})
    assert a.amount + b.amount == D("45.00")
    failed = replace(a, status=RefundStatus.FAILED)
    order, again, again_preview = refund(order, [failed, b], chosen, {"L": 1})
    assert again.units == a.units
    assert b.amount + again.amount == D("45.00")
    assert b_preview.shipping_amount + again_preview.shipping_amount == D("25.00")
    if rule is CargoRule.last_unit:  # the shipping (and its tax) went back with B only
        assert (again_preview.shipping_amount, again_preview.shipping_tax) == (D(0), D(0))


# --- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("units", "held", "error", "code"), [
    ({"L1": 4}, 0, RefundExceedsRefundable, "refund_exceeds_refundable"),
    ({"L1": 2}, 2, RefundExceedsRefundable, "refund_exceeds_refundable"),
    ({"L9": 1}, 0, RefundLineNotFound, "refund_line_not_found"),
    ({"L1": 0}, 0, RefundQuantityNotPositive, "refund_quantity_not_positive"),
    ({"L1": -1}, 0, RefundQuantityNotPositive, "refund_quantity_not_positive"),
    ({}, 0, RefundLinesRequired, "refund_lines_required"),
])
def test_invalid_requests_raise_typed_errors(units, held, error, code):
    refunds = [refund(SEED, [], DEFAULT_STRATEGY, {"L1": held})[1]] if held else []
    with pytest.raises(error) as err:  # a preview without a cause counts units as a refund of counts would
        RefundAccount.of(SEED, refunds).preview(units)
    assert isinstance(err.value, RefundError) and err.value.code == code


def test_partial_refund_refused_when_the_strategy_forbids_it():
    strat = strategy(CargoRule.last_unit, allow_partial=False)
    with pytest.raises(PartialRefundNotAllowed) as err:
        preview({"L1": 2}, strat)
    assert err.value.code == "partial_refund_not_allowed"
    # What remains after an earlier refund (made before the seller changed its strategy) is "the whole order" now.
    _, first, _ = refund(SEED, [], DEFAULT_STRATEGY, {"L1": 1})
    assert preview({"L1": 2}, strat, refunds=[first]).total == D("416.36")


@pytest.mark.parametrize("kwargs", [
    {"unit_price": 199.9},                    # float
    {"unit_price": D("199.905")},             # below the minor unit
    {"discount": D("600.00")},                # more than the line
    {"quantity": 0},
])
def test_invalid_orders_are_refused(kwargs):
    fields = {"line_id": "L1", "quantity": 3, "unit_price": D("199.90"), "discount": D(0),
              "tax_rate": D(20), **kwargs}
    with pytest.raises(InvalidBillableOrder):
        BillableOrder("TRY", (BillableLine(**fields),), D(0))


# --- strategy config --------------------------------------------------------------------------
def test_strategy_round_trips_and_fills_missing_keys_from_the_default():
    custom = strategy(CargoRule.per_unit, discounts_refundable=True, allow_partial=False)
    assert strategy_from_dict(custom.to_dict()) == custom
    assert strategy_from_dict(json.loads('{"cargo_rule": "never"}')) == CancellationStrategy(
        CargoRule.never, DEFAULT_STRATEGY.discounts_refundable, DEFAULT_STRATEGY.allow_partial)
    assert DEFAULT_STRATEGY.to_dict() == {"cargo_rule": "last_unit", "discounts_refundable": False,
                                          "allow_partial": True}


@pytest.mark.parametrize("config", [
    {"cargo_rules": "never"}, {"cargo_rule": "sometimes"}, {"allow_partial": "yes"}, ["never"],
])
def test_bad_strategy_config_is_refused(config):
    with pytest.raises(InvalidCancellationStrategy) as err:
        strategy_from_dict(config)
    assert err.value.code == "invalid_cancellation_strategy"


@settings(max_examples=300, deadline=None)
@given(st.integers(-10**9, 10**9), st.integers(1, 60), st.sampled_from(["TRY", "JPY", "KWD"]))
def test_running_shares_equal_the_cumulated_allocation(minor, units, currency):
    """The closed form the account reads equals summing `allocate`'s equal shares one by one."""
    from kalem.domain.money import allocate
    total = D(minor) * quantum(currency)
    running, expected = RunningShares(total, units, currency), D(0)
    assert running[0] == 0
    for k, part in enumerate(allocate(total, [1] * units, currency), start=1):
        expected += part
        assert running[k] == expected
    assert running[-1] == expected
