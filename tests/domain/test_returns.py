"""Returns and the cancel-or-return rule, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from kalem.domain.events.event import Actor
from kalem.domain.orders.order import LineSpec, OrderSpec, PackageItem, PackageSpec, PackageStatus, place_order
from kalem.domain.orders.returns import (
    MixedCancelAndReturn,
    Operation,
    ReturnItem,
    approve_return,
    classify_units,
    reject_return,
    request_return,
)
from kalem.domain.orders.units import UnitAlreadyCancelled, UnitInTransit, UnitsNotReturnable
from kalem.domain.refunds.account import RefundAccount
from kalem.domain.refunds.book import DEFAULT_STRATEGY
from kalem.domain.refunds.records import Payout, RefundCause, RefundMethod, UnitsNotRefundable

NOW = datetime(2025, 1, 1, tzinfo=UTC)
OP = Actor("operator", "admin")


def order():
    spec = OrderSpec("acme", "1", "TRY",
                     (LineSpec("a", "A", "A", 3, D("10.00")), LineSpec("b", "B", "B", 2, D("5.00"))),
                     (PackageSpec("p1", PackageStatus.DELIVERED, (PackageItem("a", 2),)),
                      PackageSpec("p2", PackageStatus.SHIPPED, (PackageItem("a", 1),)),
                      PackageSpec("p3", PackageStatus.PICKING, (PackageItem("b", 2),))))
    return place_order(spec, order_id="o1", actor=OP, now=NOW)[0]


def test_return_request_approve_and_reject_move_the_ledger():
    o = order()
    o2, req, events = request_return(o, [ReturnItem("a", 2, 152)], return_id="r1", actor=OP, now=NOW)
    assert o2.line("a").ledger.return_pending == 2 and events[0].type == "return.requested"
    o3, decided, _ = approve_return(o2, req, actor=OP, now=NOW)
    assert o3.line("a").ledger.returned == 2 and decided.status == "approved"
    o4, rejected, _ = reject_return(o2, req, reason_id=167, note=None, actor=OP, now=NOW)
    assert o4.line("a").ledger.delivered == 2 and rejected.status == "rejected"
    with pytest.raises(UnitsNotReturnable):
        request_return(o, [ReturnItem("b", 1, 152)], return_id="r2", actor=OP, now=NOW)


def test_units_are_classified_and_never_mixed():
    o = order()
    states = [s.value for _, s in o.line("a").units.layout()]
    assert states == ["delivered", "delivered", "shipped"]   # numbered in package order at intake
    assert classify_units(o, [("b", 1), ("b", 2)]) == (Operation.CANCEL, {"b": (1, 2)})
    assert classify_units(o, [("a", 2)]) == (Operation.RETURN, {"a": (2,)})
    with pytest.raises(MixedCancelAndReturn):
        classify_units(o, [("a", 2), ("b", 1)])
    with pytest.raises(UnitInTransit):
        classify_units(o, [("a", 3)])


def test_refund_needs_cancelled_or_returned_units():
    o = order()
    with pytest.raises(UnitsNotRefundable):
        RefundAccount.of(o, [], DEFAULT_STRATEGY).refund({"a": 1}, cause=RefundCause.RETURN,
                                                         pay=Payout(RefundMethod.ORIGINAL), refund_id="rf1", actor=OP,
                                                         now=NOW)
    from kalem.domain.orders.cancellation import CancelItem, cancel_lines
    cancelled, _ = cancel_lines(o, [CancelItem("b", 2, 136)], actor=OP, now=NOW)
    with pytest.raises(UnitAlreadyCancelled):
        classify_units(cancelled, [("b", 1)])
    _, refund, events = RefundAccount.of(cancelled, [], DEFAULT_STRATEGY).refund(
        {"b": 2}, cause=RefundCause.CANCELLATION, pay=Payout(RefundMethod.ORIGINAL), refund_id="rf1", actor=OP, now=NOW)
    assert refund.amount == D("10.00") and events[0].type == "refund.created"
    with pytest.raises(UnitsNotRefundable):
        RefundAccount.of(cancelled, [refund], DEFAULT_STRATEGY).refund(
            {"b": 1}, cause=RefundCause.CANCELLATION, pay=Payout(RefundMethod.ORIGINAL), refund_id="rf2", actor=OP,
            now=NOW)
