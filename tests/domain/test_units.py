"""Units with identity, without a database: numbers for life, runs, the "any N" rule, old stored orders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalem.domain.errors import IllegalTransition
from kalem.domain.events.event import Actor
from kalem.domain.orders import cancellation as c
from kalem.domain.orders.order import (
    LineSpec,
    OrderSpec,
    PackageItem,
    PackageSpec,
    PackageStatus,
    check_invariants,
    place_order,
)
from kalem.domain.orders.units import (
    TRANSITIONS,
    DuplicateUnit,
    UnitAction,
    UnitAlreadyCancelled,
    UnitInTransit,
    UnitNotFound,
    UnitPendingDecision,
    Units,
    UnitSet,
    UnitState,
)
from kalem.store.codec import load_order, order_body

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OP = Actor("operator", "op")
OPEN, X = UnitState.OPEN, UnitState.CANCELLED


def placed(quantity=6, packages=None):
    spec = OrderSpec("acme", "1", "TRY", (LineSpec("l", "S", "n", quantity, Decimal("10.00")),),
                     packages or (PackageSpec("P", PackageStatus.PICKING, (PackageItem("l", quantity),)),))
    return place_order(spec, order_id="o", actor=OP, now=NOW)[0]


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(1, 40)), st.sets(st.integers(1, 40)), st.integers(0, 45))
def test_unit_sets_behave_like_sets_of_numbers(a, b, n):
    x, y = UnitSet.of(a), UnitSet.of(b)
    assert set(x | y) == a | b and set(x & y) == a & b and set(x - y) == a - b and len(x) == len(a)
    assert list(x.lowest(n)) == sorted(a)[:n]
    assert all(s[1] + 1 < t[0] for s, t in pairwise((x | y).spans))   # never touching


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sets(st.integers(1, 30), min_size=1), st.sampled_from(list(UnitAction))), max_size=15))
def test_steps_change_exactly_the_named_units_as_the_table_says(steps):
    units, model = Units.of(30), {n: OPEN for n in range(1, 31)}
    for numbers, action in steps:
        able = {n for n in numbers if (model[n], action) in TRANSITIONS}
        if able != numbers:   # one unit that may not take the action refuses the whole step
            with pytest.raises(IllegalTransition):
                units.step(UnitSet.of(numbers), action)
        units = units.step(UnitSet.of(able), action)
        model.update({n: TRANSITIONS[(model[n], action)] for n in able})
        assert dict(units.layout()) == model
        assert units.able(action) == UnitSet.of(n for n, state in model.items() if (state, action) in TRANSITIONS)
        assert all(r[2] is not s[2] for r, s in pairwise(units.runs))   # runs merge


def test_a_change_on_a_long_line_costs_runs_not_units():
    units = Units.of(1000)
    for n in range(1, 1000):
        # "any 1" from the lowest: two runs, whatever the length
        units = units.step(UnitSet.of([n]), UnitAction.CANCEL)
        assert len(units.runs) == 2


def test_any_n_takes_the_lowest_numbered_and_named_units_are_checked():
    order, request, _ = c.request_cancel(placed(), [c.CancelItem("l", 2, 137, numbers=(5,))], request_id="r",
                                         actor=OP, now=NOW)
    assert request.items[0].units == UnitSet.of([1, 5])   # the named unit, and the lowest other open one
    order, _ = c.cancel_lines(order, [c.CancelItem("l", 2, 136)], actor=OP, now=NOW)
    assert list(order.line("l").units_in(X)) == [2, 3]
    for numbers, error in (((2,), UnitAlreadyCancelled), ((5,), UnitPendingDecision), ((7,), UnitNotFound),
                           ((4, 4), DuplicateUnit)):
        with pytest.raises(error):
            c.cancel_lines(order, [c.CancelItem("l", len(numbers), 136, numbers=numbers)], actor=OP, now=NOW)
    approved, decided, _ = c.approve_cancel_request(order, request, {"l": 1}, actor=OP, now=NOW)
    assert dict(approved.line("l").units.layout()) == {1: X, 2: X, 3: X, 4: OPEN, 5: OPEN, 6: OPEN}
    check_invariants(approved)


def test_shipping_moves_the_package_units_and_no_others():
    order = placed(3, (PackageSpec("S", PackageStatus.SHIPPED, (PackageItem("l", 1),)),
                       PackageSpec("P", PackageStatus.PICKING, (PackageItem("l", 2),))))
    with pytest.raises(UnitInTransit):
        c.cancel_lines(order, [c.CancelItem("l", 1, 136, numbers=(1,))], actor=OP, now=NOW)
    order, _ = c.cancel_lines(order, [c.CancelItem("l", 1, 136, numbers=(2,))], actor=OP, now=NOW)
    assert [(p.package_id, list(p.units_of("l"))) for p in order.packages] == [("S", [1]), ("P", [3])]
    check_invariants(order)


def test_an_order_stored_with_counts_only_is_numbered_in_the_positional_order_on_load():
    order = placed(5, (PackageSpec("S", PackageStatus.SHIPPED, (PackageItem("l", 2),)),
                       PackageSpec("P", PackageStatus.PICKING, (PackageItem("l", 3),))))
    body = json.loads(order_body(order))
    body["lines"][0][7] = {"open": 2, "pending_cancel": 0, "cancelled": 1, "shipped": 2, "delivered": 0,
                           "return_pending": 0, "returned": 0}
    body["packages"][0][2] = [["l", 2]]
    body["packages"][1][2] = [["l", 2]]
    row = SimpleNamespace(id="o", seller_id="acme", order_number="1", created_at=NOW, updated_at=NOW,
                          account_order_number=None, version=3, last_sequence=3, body=json.dumps(body),
                          channel="direct")
    loaded = load_order(row)
    # cancelled first, then shipped, then open — the numbers Hebiar has always shown
    assert dict(loaded.line("l").units.layout()) == {1: X, 2: UnitState.SHIPPED, 3: UnitState.SHIPPED, 4: OPEN, 5: OPEN}
    assert [list(p.units_of("l")) for p in loaded.packages] == [[2, 3], [4, 5]]
    check_invariants(loaded)
    assert load_order(SimpleNamespace(**{**vars(row), "body": order_body(loaded)})) == loaded
