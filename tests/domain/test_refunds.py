"""The refund calculator: exact sums under any partition, the seed example by hand, typed errors."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalem.domain.money import quantum
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
    RefundQuantityNotPositive,
    paid_taxes,
    paid_total,
    strategy_from_dict,
)
from kalem.domain.refunds.breakdown import compute_refund

RATES = [D(0), D(1), D(8), D(10), D(18), D(20)]


def strategy(rule: CargoRule, *, discounts_refundable: bool = False, allow_partial: bool = True):
    return CancellationStrategy(rule, discounts_refundable, allow_partial)


# --- generators -------------------------------------------------------------------------------
@st.composite
def orders(draw) -> BillableOrder:
    currency = draw(st.sampled_from(["TRY", "EUR", "JPY", "KWD"]))
    q = quantum(currency)
    lines = []
    for i in range(draw(st.integers(1, 5))):
        qty = draw(st.integers(1, 6))
        price = draw(st.integers(0, 50_000))
        discount = draw(st.one_of(st.just(0), st.integers(0, qty * price)))
        lines.append(BillableLine(f"L{i}", qty, price * q, discount * q, draw(st.sampled_from(RATES)),
                                  name=f"Item {i}"))
    net = sum(int((ln.quantity * ln.unit_price - ln.discount) / q) for ln in lines)
    order_discount = draw(st.one_of(st.just(0), st.integers(0, net))) * q
    shipping = draw(st.one_of(st.just(0), st.integers(0, 10_000))) * q
    return BillableOrder(currency, tuple(lines), shipping, order_discount, draw(st.sampled_from(RATES)))


@st.composite
def partitions(draw, order: BillableOrder) -> list[dict[str, int]]:
    """Every unit of the order, shuffled, cut into consecutive refunds."""
    units = draw(st.permutations([ln.line_id for ln in order.lines for _ in range(ln.quantity)]))
    cuts = draw(st.lists(st.booleans(), min_size=len(units) - 1, max_size=len(units) - 1))
    groups, current = [], [units[0]]
    for unit, cut in zip(units[1:], cuts, strict=True):
        if cut:
            groups.append(current)
            current = []
        current.append(unit)
    groups.append(current)
    return [dict(Counter(group)) for group in groups]


def refund_all(order, parts, strat):
    """Run the refunds one after another, checking the running total never exceeds what was paid."""
    done: Counter[str] = Counter()
    paid, running, results = paid_total(order), D(0), []
    for request in parts:
        result = compute_refund(order, request, dict(done), strat)
        running += result.total
        assert running <= paid
        done.update(request)
        results.append(result)
    return results


def by_rate(pairs) -> dict[D, D]:
    out: dict[D, D] = {}
    for rate, amount in pairs:
        out[rate] = out.get(rate, D(0)) + amount
    return {rate: amount for rate, amount in out.items() if amount}


# --- properties -------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", [CargoRule.per_unit, CargoRule.last_unit])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_partition_refunds_exactly_what_was_paid(rule, data):
    order = data.draw(orders())
    results = refund_all(order, data.draw(partitions(order)), strategy(rule))

    # An oracle that does not go through the calculator's allocation.
    gross = sum(ln.quantity * ln.unit_price for ln in order.lines)
    discounts = sum(ln.discount for ln in order.lines) + order.order_discount
    assert paid_total(order) == gross - discounts + order.shipping_amount
    assert sum(r.total for r in results) == paid_total(order)
    assert sum(line.item_amount for r in results for line in r.lines) == gross
    assert sum(line.discount_amount for r in results for line in r.lines) == discounts
    assert by_rate(t for r in results for t in r.taxes) == by_rate(paid_taxes(order))
    assert sum(r.shipping_amount for r in results) == order.shipping_amount
    if rule is CargoRule.last_unit:
        assert all(r.shipping_amount == 0 for r in results[:-1])
    for r in results:
        assert r.computed_total == r.total == sum(line.amount for line in r.lines) + r.shipping_amount
        for line in r.lines:
            assert line.amount == line.item_amount - line.discount_amount
            assert line.amount >= 0 and line.discount_amount >= 0


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_never_rule_refunds_everything_but_shipping(data):
    order = data.draw(orders())
    results = refund_all(order, data.draw(partitions(order)), strategy(CargoRule.never))
    assert all(r.shipping_amount == 0 and r.shipping_tax == 0 for r in results)
    assert sum(r.total for r in results) == paid_total(order) - order.shipping_amount


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_each_refund_tax_is_within_one_minor_unit_of_its_amount(data):
    order = data.draw(orders())
    q = quantum(order.currency)
    rates = {ln.line_id: ln.tax_rate for ln in order.lines}
    for r in refund_all(order, data.draw(partitions(order)), strategy(CargoRule.per_unit)):
        for line in r.lines:
            (rate, tax), = line.tax
            assert rate == rates[line.line_id]
            assert abs(tax - line.amount * rate / (100 + rate)) <= q


@settings(max_examples=200, deadline=None)
@given(order=orders(), refundable=st.booleans())
def test_discounts_refundable_changes_the_credit_never_the_cash(order, refundable):
    everything = {ln.line_id: ln.quantity for ln in order.lines}
    strat = strategy(CargoRule.last_unit, discounts_refundable=refundable)
    result = compute_refund(order, everything, {}, strat)
    assert result.total == paid_total(order)
    discounts = sum(ln.discount for ln in order.lines) + order.order_discount
    assert result.discount_returned == (discounts if refundable else 0)


@settings(max_examples=200, deadline=None)
@given(order=orders())
def test_whole_order_only_refunds_everything_or_nothing(order):
    strat = strategy(CargoRule.last_unit, allow_partial=False)
    everything = {ln.line_id: ln.quantity for ln in order.lines}
    assert compute_refund(order, everything, {}, strat).total == paid_total(order)
    if sum(everything.values()) > 1:
        first = order.lines[0].line_id
        less = {**everything, first: everything[first] - 1}
        with pytest.raises(PartialRefundNotAllowed):
            compute_refund(order, {k: v for k, v in less.items() if v}, {}, strat)


# --- the seed order, by hand ------------------------------------------------------------------
SEED = BillableOrder("TRY", (BillableLine("L1", 3, D("199.90"), D("20.00"), D(20), name="T-Shirt"),),
                     D("29.90"))


def test_seed_order_one_unit():
    # Paid for the line: 3 × 199.90 − 20.00 = 579.70; 579.70 / 3 = 193.2333…, so the
    # largest-remainder split is 193.24 + 193.23 + 193.23 and the first unit refunded gets 193.24.
    # Its discount is 199.90 − 193.24 = 6.66; tax inside at 20 %: 193.24 × 20/120 = 32.2066… → 32.21.
    # Shipping stays: under last_unit it comes back only with the third unit.
    result = compute_refund(SEED, {"L1": 1}, {}, DEFAULT_STRATEGY)
    (line,) = result.lines
    assert (line.item_amount, line.discount_amount, line.amount) == (D("199.90"), D("6.66"), D("193.24"))
    assert line.tax == ((D(20), D("32.21")),)
    assert result.shipping_amount == 0 and result.total == D("193.24")
    assert result.explanation[0] == "1 \u00d7 T-Shirt at 199.90 = 199.90"
    assert "line discount share \u22126.66" in result.explanation
    assert any("shipping 29.90 not refunded" in s for s in result.explanation)


def test_seed_order_unit_by_unit_and_the_last_brings_shipping():
    first = compute_refund(SEED, {"L1": 1}, {}, DEFAULT_STRATEGY)
    second = compute_refund(SEED, {"L1": 1}, {"L1": 1}, DEFAULT_STRATEGY)
    last = compute_refund(SEED, {"L1": 1}, {"L1": 2}, DEFAULT_STRATEGY)
    assert [first.total, second.total, last.total] == [D("193.24"), D("193.23"), D("223.13")]
    assert last.shipping_amount == D("29.90") and last.shipping_tax == D("4.98")  # 29.90 × 20/120
    assert "shipping 29.90 refunded with the last unit (strategy last_unit)" in last.explanation
    assert first.total + second.total + last.total == paid_total(SEED) == D("609.60")


def test_seed_order_two_units_match_the_design_example():
    result = compute_refund(SEED, {"L1": 2}, {}, DEFAULT_STRATEGY)
    assert result.total == D("386.47")  # 193.24 + 193.23
    assert result.explanation[:2] == ("2 \u00d7 T-Shirt at 199.90 = 399.80", "line discount share \u221213.33")


def test_seed_order_per_unit_cargo():
    # 29.90 over 3 units: 9.9666… → 9.97 + 9.97 + 9.96.
    result = compute_refund(SEED, {"L1": 1}, {}, strategy(CargoRule.per_unit))
    assert result.shipping_amount == D("9.97") and result.total == D("203.21")
    assert result.taxes == ((D(20), D("33.87")),)  # 32.21 + 9.97 × 20/120 = 1.6616… → 1.66


def test_order_discount_is_prorated_by_line_net():
    # Nets 200.00 and 50.00 share a 25.00 order discount as 20.00 and 5.00.
    order = BillableOrder("TRY", (BillableLine("A", 2, D("100.00"), D(0), D(10)),
                                  BillableLine("B", 1, D("50.00"), D(0), D(20))), D(0), D("25.00"))
    result = compute_refund(order, {"A": 1}, {}, DEFAULT_STRATEGY)
    assert result.total == D("90.00")
    assert "order discount share \u221210.00" in result.explanation
    assert not any(s.startswith("line discount") for s in result.explanation)
    assert compute_refund(order, {"B": 1}, {}, DEFAULT_STRATEGY).total == D("45.00")


def test_breakdown_is_json_ready():
    result = compute_refund(SEED, {"L1": 3}, {}, DEFAULT_STRATEGY, forced_amount=D("500.00"))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["total"] == "500.00" and data["computed_total"] == "609.60"
    assert data["forced_amount"] == "500.00"
    assert data["lines"][0] == {"line_id": "L1", "quantity": 3, "item_amount": "599.70",
                                "discount_amount": "20.00", "amount": "579.70",
                                "tax": [{"rate": "20", "amount": "96.62"}]}
    assert data["taxes"] == [{"rate": "20", "amount": "101.60"}]
    assert data["strategy"] == DEFAULT_STRATEGY.to_dict()


# --- cargo and forced amounts -----------------------------------------------------------------
def test_include_cargo_false_keeps_shipping_even_on_the_last_unit():
    result = compute_refund(SEED, {"L1": 3}, {}, DEFAULT_STRATEGY, include_cargo=False)
    assert result.shipping_amount == 0 and result.total == D("579.70")


def test_include_cargo_under_never_is_refused():
    with pytest.raises(CargoNotRefundable) as err:
        compute_refund(SEED, {"L1": 3}, {}, strategy(CargoRule.never), include_cargo=True)
    assert err.value.code == "cargo_not_refundable"


def test_forced_amount_replaces_the_total_and_keeps_the_breakdown():
    result = compute_refund(SEED, {"L1": 1}, {}, DEFAULT_STRATEGY, forced_amount=D("150"))
    assert result.total == result.forced_amount == D("150.00")
    assert result.computed_total == result.lines[0].amount == D("193.24")
    assert "amount forced to 150.00 (computed 193.24)" in result.explanation


def test_forced_amount_is_capped_by_what_is_still_refundable():
    # After unit 1 (193.24) the buyer can get back at most 609.60 − 193.24 = 416.36.
    ok = compute_refund(SEED, {"L1": 1}, {"L1": 1}, DEFAULT_STRATEGY, forced_amount=D("416.36"))
    assert ok.total == D("416.36")
    for bad in (D("416.37"), D("-0.01"), D("1E+26"), D("1E+400")):  # past 28 digits: no InvalidOperation
        with pytest.raises(ForcedAmountExceedsPaid) as err:
            compute_refund(SEED, {"L1": 1}, {"L1": 1}, DEFAULT_STRATEGY, forced_amount=bad)
        assert err.value.code == "forced_amount_exceeds_paid"


def test_earlier_forced_refunds_cap_the_computed_one():
    with pytest.raises(RefundExceedsRefundable):
        compute_refund(SEED, {"L1": 1}, {"L1": 2}, DEFAULT_STRATEGY, already_refunded_amount=D("500.00"))


# --- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("request_", "done", "error", "code"), [
    ({"L1": 4}, {}, RefundExceedsRefundable, "refund_exceeds_refundable"),
    ({"L1": 2}, {"L1": 2}, RefundExceedsRefundable, "refund_exceeds_refundable"),
    ({"L9": 1}, {}, RefundLineNotFound, "refund_line_not_found"),
    ({"L1": 0}, {}, RefundQuantityNotPositive, "refund_quantity_not_positive"),
    ({"L1": -1}, {}, RefundQuantityNotPositive, "refund_quantity_not_positive"),
])
def test_invalid_requests_raise_typed_errors(request_, done, error, code):
    with pytest.raises(error) as err:
        compute_refund(SEED, request_, done, DEFAULT_STRATEGY)
    assert isinstance(err.value, RefundError) and err.value.code == code


def test_partial_refund_refused_when_the_strategy_forbids_it():
    strat = strategy(CargoRule.last_unit, allow_partial=False)
    with pytest.raises(PartialRefundNotAllowed) as err:
        compute_refund(SEED, {"L1": 2}, {}, strat)
    assert err.value.code == "partial_refund_not_allowed"
    # What remains after an earlier refund is "the whole order" now.
    assert compute_refund(SEED, {"L1": 2}, {"L1": 1}, strat).total == D("416.36")


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
    """The closed form the calculator reads equals summing `allocate`'s equal shares one by one."""
    from kalem.domain.money import allocate, quantum
    from kalem.domain.refunds.book import _Running
    total = D(minor) * quantum(currency)
    running, expected = _Running(total, units, currency), D(0)
    assert running[0] == 0
    for k, part in enumerate(allocate(total, [1] * units, currency), start=1):
        expected += part
        assert running[k] == expected
    assert running[-1] == expected


@pytest.mark.parametrize("rule", [CargoRule.last_unit, CargoRule.per_unit])
def test_shipping_is_refunded_once_when_an_earlier_refund_failed_after_a_later_one(rule):
    # Two units at 10.00, 25.00 shipping. Refund A takes unit 1, refund B unit 2 with what is left of
    # the shipping; A then fails. Re-refunding A's unit reaches "the last unit" again by count, but the
    # shipping B paid must not be asked for twice: the re-refund takes what is left, and all refunds
    # together pay back exactly what was paid.
    order = BillableOrder("TRY", (BillableLine("L", 2, D("10.00"), D("0"), D("20"), "L"),), D("25.00"))
    chosen = strategy(rule)
    a = compute_refund(order, {"L": 1}, {}, chosen)
    b = compute_refund(order, {"L": 1}, {"L": 1}, chosen, already_refunded_amount=a.total,
                       already_refunded_shipping=a.shipping_amount)
    assert a.total + b.total == D("45.00")
    again = compute_refund(order, {"L": 1}, {"L": 1}, chosen, already_refunded_amount=b.total,
                           already_refunded_shipping=b.shipping_amount)
    assert b.total + again.total == D("45.00")
    assert b.shipping_amount + again.shipping_amount == D("25.00")
    if rule is CargoRule.last_unit:  # the shipping (and its tax) went back with B only
        assert (again.shipping_amount, again.shipping_tax) == (D("0"), D("0"))
