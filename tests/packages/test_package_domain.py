"""The package state machine and the split, without a database: every rule, and the invariant after each step."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kalem.domain.errors import (
    DuplicateLine,
    IllegalTransition,
    LineNotFound,
    PackageNotFound,
    QuantityExceedsCancellable,
    QuantityNotPositive,
    UnknownReason,
)
from kalem.domain.events.event import Actor
from kalem.domain.orders import packages as pk
from kalem.domain.orders.cancellation import CancelItem, request_cancel
from kalem.domain.orders.order import (
    LineSpec,
    OrderSpec,
    PackageItem,
    PackageSpec,
    PackageStatus,
    check_invariants,
    place_order,
)

S = PackageStatus
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
ACTOR = Actor("seller", "t", "acme")


def make(status: PackageStatus = S.PICKING, a: int = 4, b: int = 2):
    spec = OrderSpec("acme", "N-1", "TRY", (LineSpec("a", "SKU-A", "A", a, Decimal("10.00"), Decimal("4.00"),
                                                     Decimal("20")),
                                            LineSpec("b", "SKU-B", "B", b, Decimal("5.00"))),
                     (PackageSpec("P", status, (PackageItem("a", a), PackageItem("b", b)), "T0"),))
    order, _ = place_order(spec, order_id="ord_1", actor=ACTOR, now=NOW)
    return order


def ids():
    packages, tracking = itertools.count(1), itertools.count(1)
    return {"new_package_id": lambda: f"C{next(packages)}", "new_tracking_number": lambda: f"T{next(tracking)}"}


def split(order, groups, cancelled=(), package_id="P", platform="kalem"):
    changed, result, events = pk.split_package(order, package_id, groups, cancelled, actor=ACTOR, now=NOW,
                                               platform=platform, **ids())
    check_invariants(changed)
    pk.check_lineage(changed)
    parent = next(p for p in changed.packages if p.package_id == package_id)
    children = [p for p in changed.packages if p.parent_id == package_id]
    for item in parent.items:  # at the split itself, the children hold exactly what the parent held
        assert sum(c.quantity_of(item.line_id) for c in children) == item.quantity
    return changed, result, events


def held(order):
    return {p.package_id: (p.status.value, {i.line_id: i.quantity for i in p.items}, p.parent_id)
            for p in order.packages}


def test_the_state_machine_is_data():
    assert pk.TRANSITIONS[(S.CREATED, pk.Action.APPROVE)] is S.PICKING
    assert pk.TRANSITIONS[(S.PICKING, pk.Action.SPLIT)] is S.UNPACKED
    terminal = {S.UNPACKED, S.UNSUPPLIED, S.CANCELLED, S.DELIVERED}
    assert not [k for k in pk.TRANSITIONS if k[0] in terminal]
    assert pk.allowed_actions(S.PICKING) == ["ship", "split", "cancel"]


def test_split_with_remainder_and_lineage():
    order, result, events = split(make(), [{"a": 1}, {"a": 2, "b": 1}])
    assert held(order) == {
        "P": ("Unpacked", {"a": 4, "b": 2}, None),
        "C1": ("Picking", {"a": 1}, "P"), "C2": ("Picking", {"a": 2, "b": 1}, "P"),
        "C3": ("Picking", {"a": 1, "b": 1}, "P"),
    }
    assert [p.cargo_tracking_number for p in result.picking] == ["T1", "T2", "T3"]
    assert result.remainder.package_id == "C3" and result.unsupplied is None and result.refund is None
    assert [h.status for h in order.package("P").history] == [S.PICKING, S.UNPACKED]
    assert pk.lineage(order)["P"]["children"] == ["C1", "C2", "C3"]
    assert [e.type for e in events] == ["package.split"]
    assert order.line("a").ledger.open == 4  # a split moves no unit between ledger states


def test_split_with_cancel_ends_in_unsupplied_and_refunds():
    order, result, events = split(make(), [{"a": 2}, {"a": 1}], [pk.SplitCancel("a", 1, 61)], platform="n11")
    assert held(order)["C3"] == ("Picking", {"b": 2}, "P")  # b untouched: the remainder
    assert held(order)["C4"] == ("UnSupplied", {"a": 1}, "P")
    assert order.line("a").ledger.cancelled == 1 and order.line("a").ledger.open == 3
    assert [e.type for e in events] == ["package.split", "lines.cancelled"]
    assert result.refund is not None and result.refund.lines[0].quantity == 1
    # unit price 10, line discount 4 over 4 units → 9 back
    assert result.refund.lines[0].amount == Decimal("9.00")


def test_exact_split_has_no_remainder_and_splits_again():
    order, result, _ = split(make(), [{"a": 4}, {"b": 2}])
    assert result.remainder is None
    again, result2, _ = split(order, [{"a": 1}], package_id="C1")
    assert held(again)["C1"][0] == "Unpacked"
    assert pk.lineage(again)[result2.remainder.package_id]["ancestors"] == ["P", "C1"]


@pytest.mark.parametrize("status", [S.CREATED, S.SHIPPED, S.DELIVERED])
def test_only_picking_splits(status):
    with pytest.raises(pk.PackageNotSplittable) as info:
        split(make(status), [{"a": 1}])
    assert info.value.code == "package_not_splittable" and info.value.status == 409


@pytest.mark.parametrize("groups, cancelled, error", [
    ([{"a": 3}, {"a": 2}], (), pk.SplitExceedsPackage),
    ([{"a": 4}], [pk.SplitCancel("a", 1, 61)], pk.SplitExceedsPackage),
    ([], [pk.SplitCancel("a", 1, 61)], pk.CancelRequiresSplit),
    ([], (), pk.EmptySplit),
    ([{}], (), pk.EmptySplit),
    ([{"a": 0}], (), QuantityNotPositive),
    ([{"zz": 1}], (), LineNotFound),
    ([{"a": 1}], [pk.SplitCancel("a", 1, 99)], UnknownReason),
    ([{"a": 1}], [pk.SplitCancel("a", 1, 61), pk.SplitCancel("a", 1, 61)], DuplicateLine),
])
def test_bad_splits_are_refused(groups, cancelled, error):
    with pytest.raises(error):
        split(make(), groups, cancelled, platform="n11")


def test_kalem_reasons_are_not_n11_reasons():
    with pytest.raises(UnknownReason):
        split(make(), [{"a": 1}], [pk.SplitCancel("a", 1, 61)])  # 61 is n11's, not kalem's
    split(make(), [{"a": 1}], [pk.SplitCancel("a", 1, 135)])


def test_unknown_package():
    with pytest.raises(PackageNotFound):
        split(make(), [{"a": 1}], package_id="nope")


def test_life_cycle_moves_the_ledger():
    order = make(S.CREATED)
    with pytest.raises(IllegalTransition):
        pk.set_status(order, "P", S.SHIPPED, actor=ACTOR, now=NOW)
    order, events = pk.set_status(order, "P", S.PICKING, actor=ACTOR, now=NOW)
    assert events[0].type == "package.approved"
    order, _ = pk.set_status(order, "P", S.SHIPPED, actor=ACTOR, now=NOW, cargo_tracking_number="TR-9")
    check_invariants(order)
    assert order.line("a").ledger.shipped == 4 and order.package("P").cargo_tracking_number == "TR-9"
    order, _ = pk.set_status(order, "P", S.DELIVERED, actor=ACTOR, now=NOW)
    check_invariants(order)
    assert order.line("b").ledger.delivered == 2
    assert [h.status for h in order.package("P").history] == [S.CREATED, S.PICKING, S.SHIPPED, S.DELIVERED]
    with pytest.raises(IllegalTransition):
        pk.set_status(order, "P", S.DELIVERED, actor=ACTOR, now=NOW)


def test_units_pending_cancel_block_shipping_the_package_that_holds_them():
    order, _, _ = split(make(), [{"a": 2}, {"a": 2, "b": 2}])
    order, _, _ = request_cancel(order, [CancelItem("a", 1, 137, numbers=(3,))], request_id="cr1", actor=ACTOR, now=NOW)
    order, _ = pk.set_status(order, "C1", S.SHIPPED, actor=ACTOR, now=NOW)  # 2 of the 3 open units
    with pytest.raises(pk.UnitsPendingCancel):
        pk.set_status(order, "C2", S.SHIPPED, actor=ACTOR, now=NOW)
    with pytest.raises(QuantityExceedsCancellable):  # the reserved unit cannot be cancelled twice
        split(order, [{"b": 1}], [pk.SplitCancel("a", 2, 135)], package_id="C2")
    order, _, _ = split(order, [{"b": 1}], [pk.SplitCancel("a", 1, 135)], package_id="C2")
    assert order.line("a").ledger.as_dict()["pending_cancel"] == 1 and order.line("a").ledger.open == 0


def test_a_cancel_stays_in_place_when_asked_as_n11_lays_it_out():
    order = make()
    changed, result, _ = pk.split_package(order, "P", [{"a": 2}], [pk.SplitCancel("a", 1, 135)], actor=ACTOR,
                                          now=NOW, unsupplied_in_place=True, **ids())
    check_invariants(changed)
    pk.check_lineage(changed)
    # P itself is UnSupplied with the cancelled unit; the rest went to C1, split at once into C2 + C3.
    assert held(changed) == {"P": ("UnSupplied", {"a": 1}, None), "C1": ("Unpacked", {"a": 3, "b": 2}, "P"),
                             "C2": ("Picking", {"a": 2}, "C1"), "C3": ("Picking", {"a": 1, "b": 2}, "C1")}
    assert [h.status for h in changed.package("C1").history] == [S.PICKING, S.UNPACKED]
    assert result.parent is result.unsupplied and result.via.package_id == "C1"
    assert [p.package_id for p in result.children] == ["C1", "C2", "C3"]
    assert list(changed.package("P").units_of("a")) == [1] and list(changed.package("C2").units_of("a")) == [2, 3]
    # without a cancel the flag changes nothing
    plain, _, _ = pk.split_package(order, "P", [{"a": 2}], actor=ACTOR, now=NOW, unsupplied_in_place=True, **ids())
    assert held(plain)["P"][0] == "Unpacked" and plain.package("C1").parent_id == "P"
