"""The domain without a database: the ledger, direct cancellation, cancel requests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalem.domain.errors import (
    ApprovalExceedsRequested,
    CancelRequestAlreadyDecided,
    DuplicateLine,
    IllegalTransition,
    InvalidOrder,
    LineNotFound,
    QuantityExceedsCancellable,
    QuantityNotPositive,
    UnknownReason,
)
from kalem.domain.events.event import Actor
from kalem.domain.orders import cancellation as c
from kalem.domain.orders.ledger import Ledger
from kalem.domain.orders.order import (
    LineSpec,
    OrderSpec,
    PackageItem,
    PackageSpec,
    PackageStatus,
    PackedUnits,
    check_invariants,
    place_order,
)
from kalem.domain.orders.requests import RequestStatus
from kalem.domain.orders.units import UnitAction, Units, UnitSet

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OP = Actor("operator", "op")


def an_order(quantity: int = 3, *, package_status: PackageStatus = PackageStatus.PICKING, lines: int = 1):
    specs = tuple(LineSpec(f"l{i}", f"S{i}", "T-Shirt", quantity, Decimal("199.90"), Decimal("20.00"), Decimal("20"))
                  for i in range(lines))
    package = PackageSpec("P1", package_status, tuple(PackageItem(s.line_id, quantity) for s in specs))
    order, events = place_order(OrderSpec("acme", "4000000001", "TRY", specs, (package,)), order_id="o1", actor=OP,
                                now=NOW)
    return order


def test_unit_moves_keep_the_total():
    units = Units.of(3).step(UnitSet.span(1, 2), UnitAction.CANCEL)
    ledger = Ledger.of(units)
    assert (ledger.open, ledger.cancelled, ledger.total) == (1, 2, 3)
    with pytest.raises(IllegalTransition):
        units.step(UnitSet.span(2, 3), UnitAction.CANCEL)


def test_placing_numbers_the_first_event_and_sets_version_one():
    order = an_order()
    assert (order.version, order.last_sequence) == (1, 1)
    check_invariants(order)


def test_packages_must_hold_every_unit():
    spec = OrderSpec("acme", "1", "TRY", (LineSpec("l", "S", "n", 3, Decimal(1)),),
                     (PackageSpec("P", PackageStatus.CREATED, (PackageItem("l", 2),)),))
    with pytest.raises(InvalidOrder):
        place_order(spec, order_id="o", actor=OP, now=NOW)


def test_cancel_lines_moves_units_takes_them_out_of_the_package_and_records_events():
    order, events = c.cancel_lines(an_order(), [c.CancelItem("l0", 2, 136)], actor=OP, now=NOW)
    line = order.line("l0")
    assert (line.ledger.open, line.ledger.cancelled) == (1, 2)
    assert order.packages[0].items == (PackedUnits("l0", UnitSet.span(3, 3)),)
    assert [(e.type, e.sequence) for e in events] == [("lines.cancelled", 2)]
    assert events[0].data["packages"] == [{"package_id": "P1", "status": "Picking",
                                           "items": [{"line_id": "l0", "quantity": 2, "units": [[1, 2]]}]}]
    assert order.version == 2
    check_invariants(order)


@pytest.mark.parametrize(("items", "error"), [
    ([c.CancelItem("l0", 4, 136)], QuantityExceedsCancellable),
    ([c.CancelItem("l0", 0, 136)], QuantityNotPositive),
    ([c.CancelItem("nope", 1, 136)], LineNotFound),
    ([c.CancelItem("l0", 1, 61)], UnknownReason),  # an n11 reason is not a kalem reason
    ([c.CancelItem("l0", 1, 136), c.CancelItem("l0", 1, 136)], DuplicateLine),
])
def test_cancel_lines_refuses_bad_input(items, error):
    with pytest.raises(error):
        c.cancel_lines(an_order(), items, actor=OP, now=NOW)


def test_shipped_units_cannot_be_cancelled():
    with pytest.raises(QuantityExceedsCancellable):
        c.cancel_lines(an_order(package_status=PackageStatus.SHIPPED), [c.CancelItem("l0", 1, 136)], actor=OP, now=NOW)


def test_request_then_partial_approval():
    order, request, _ = c.request_cancel(an_order(), [c.CancelItem("l0", 2, 137)], request_id="cr1", actor=OP, now=NOW)
    assert order.line("l0").ledger.pending_cancel == 2 and order.line("l0").cancellable == 1
    with pytest.raises(ApprovalExceedsRequested):
        c.approve_cancel_request(order, request, {"l0": 3}, actor=OP, now=NOW)
    order, decided, events = c.approve_cancel_request(order, request, {"l0": 1}, actor=OP, now=NOW)
    assert decided.status is RequestStatus.APPROVED and decided.items[0].approved_quantity == 1
    assert order.line("l0").ledger == Ledger(open=2, cancelled=1)
    assert events[0].data["items"][0]["cancelled_total"] == 1
    with pytest.raises(CancelRequestAlreadyDecided):
        c.reject_cancel_request(order, decided, reason_id=168, note=None, actor=OP, now=NOW)
    check_invariants(order)


def test_reject_and_withdraw_release_the_units():
    order, request, _ = c.request_cancel(an_order(), [c.CancelItem("l0", 3, 137)], request_id="cr1", actor=OP, now=NOW)
    with pytest.raises(UnknownReason):
        c.reject_cancel_request(order, request, reason_id=136, note=None, actor=OP, now=NOW)
    rejected, decided, _ = c.reject_cancel_request(order, request, reason_id=168, note="x", actor=OP, now=NOW)
    assert rejected.line("l0").cancellable == 3 and decided.decision_reason_id == 168
    withdrawn, decided, _ = c.withdraw_cancel_request(order, request, actor=OP, now=NOW)
    assert withdrawn.line("l0").cancellable == 3 and decided.status is RequestStatus.WITHDRAWN


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["cancel", "request", "approve", "reject"]), st.integers(1, 4)),
                max_size=12))
def test_any_sequence_keeps_the_invariants_and_gapless_sequence(steps):
    order = an_order(quantity=6, lines=2)
    pending: list[c.CancelRequest] = []
    sequence = order.last_sequence
    for n, (action, qty) in enumerate(steps):
        try:
            if action == "cancel":
                order, events = c.cancel_lines(order, [c.CancelItem(f"l{n % 2}", qty, 136)], actor=OP, now=NOW)
            elif action == "request":
                order, request, events = c.request_cancel(order, [c.CancelItem(f"l{n % 2}", qty, 137)],
                                                          request_id=f"cr{n}", actor=OP, now=NOW)
                pending.append(request)
            elif pending:
                request = pending.pop(0)
                if action == "approve":
                    part = {request.items[0].line_id: min(qty, request.items[0].quantity)}
                    order, _, events = c.approve_cancel_request(order, request, part, actor=OP, now=NOW)
                else:
                    order, _, events = c.reject_cancel_request(order, request, reason_id=168, note=None,
                                                               actor=OP, now=NOW)
            else:
                continue
        except QuantityExceedsCancellable:
            continue
        assert [e.sequence for e in events] == list(range(sequence + 1, sequence + 1 + len(events)))
        sequence = order.last_sequence
        check_invariants(order)
        reserved = sum(i.quantity for r in pending for i in r.items if i.line_id == "l0")
        assert order.line("l0").ledger.pending_cancel == reserved
