"""Credit notes are money returned, without a database: a unit credited is not refunded again and a unit
refunded is not credited; whatever the sequence of cancels, credits, refunds and returns, no component
returns more than was paid, and returning everything returns exactly what was paid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from kalem.domain.billing import order_billing as ob
from kalem.domain.billing.landed_cost import load_default_rate_table
from kalem.domain.errors import KalemError
from kalem.domain.events.event import Actor
from kalem.domain.orders.cancellation import CancelItem, cancel_lines
from kalem.domain.orders.order import LineSpec, OrderSpec, PackageItem, PackageSpec, PackageStatus, place_order
from kalem.domain.orders.returns import ReturnItem, return_directly
from kalem.domain.orders.units import UnitSet, UnitState
from kalem.domain.refunds.account import RefundAccount
from kalem.domain.refunds.book import DEFAULT_STRATEGY, CancellationStrategy, CargoRule
from kalem.domain.refunds.credits import UnitsCredited
from kalem.domain.refunds.records import Payout, RefundCause, RefundMethod, RefundStatus, settle_refund

TABLE = load_default_rate_table()
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
OP = Actor("operator", "admin")
PAY = Payout(RefundMethod.ORIGINAL)
TYPES = ("ITEM", "SHIPPING", "DUTY_TAX_FEE")


class Books:
    """One billed order, its bill and its refunds, changed the way the use cases change them."""

    def __init__(self, order, strategy=DEFAULT_STRATEGY):
        self.order, self.strategy, self.refunds = order, strategy, []
        self.billing = ob.initial_billing(order, TABLE)
        self.order, self.billing, _ = ob.charge_invoice(order, self.billing, "INV-1001-1", actor=OP, now=T0)
        self.charged = self.billing.history.invoice().total
        first = self.billing.landed_costs[0]
        self.paid = {"ITEM": D(first["items"]), "SHIPPING": D(first["shipping"]),
                     "DUTY_TAX_FEE": D(first["duties"]) + D(first["taxes"]) + D(first["fees"])}
        self.now = T0

    def account(self):
        return RefundAccount.of(self.order, self.refunds, self.strategy, self.billing.credits())

    def tick(self):
        self.now += timedelta(minutes=1)
        return self.now

    def cancel(self, line_id, n):
        self.order, _ = cancel_lines(self.order, [CancelItem(line_id, n, 136)], actor=OP, now=self.tick())

    def give_back(self, line_id, n):
        """A return without a request: delivered units become returned."""
        self.order, _ = return_directly(self.order, [ReturnItem(line_id, n, 152)], actor=OP, now=self.tick())

    def refund(self, units, cause):
        self.order, refund, _ = self.account().refund(units, cause=cause, pay=PAY, refund_id=f"r{len(self.refunds)}",
                                                      actor=OP, now=self.tick())
        self.refunds.append(refund)
        return refund

    def amounts(self, subtotals):
        self.order, refund, _ = self.account().refund_amounts(
            subtotals, self.billing.collected(), currency=self.order.currency, note=None,
            refund_id=f"r{len(self.refunds)}", actor=OP, now=self.tick())
        self.refunds.append(refund)

    def remove(self, line_id, n):
        self.order, self.billing, _ = ob.remove_item_units(self.order, self.billing, line_id, n, actor=OP,
                                                           now=self.tick(), table=TABLE, account=self.account())

    def cancel_order(self):
        self.order, self.billing, _ = ob.cancel_order(self.order, self.billing, actor=OP, now=self.tick(),
                                                      table=TABLE, account=self.account())

    def settle(self, index, status):
        pending = [i for i, r in enumerate(self.refunds) if r.status is RefundStatus.PENDING]
        if pending:
            i = pending[index % len(pending)]
            self.order, self.refunds[i], _ = settle_refund(self.order, self.refunds[i], status, actor=OP,
                                                           now=self.tick())

    def returned(self):
        """Per type, what refunds that count and credit notes gave back."""
        out = dict.fromkeys(TYPES, D(0))
        for refund in self.refunds:
            if refund.counts:
                for t, amount in refund.parts().items():
                    out[t] += amount
        for credit in self.billing.credits():
            for t in TYPES:
                out[t] += credit.part(t)
        return out

    def check(self):
        account = self.account()
        for line in self.order.lines:
            held = account.line(line.line_id)
            assert not held.credited & held.by_refunds, "a unit both credited and refunded"
        returned = self.returned()
        for t in TYPES:
            assert returned[t] <= self.paid[t], (t, returned[t], self.paid[t])
        assert sum(returned.values()) <= self.charged
        assert account.refundable >= 0
        assert self.billing.history.billable() == D(self.billing.landed_costs[-1]["total"]) or \
            self.billing.history.billable() == 0

    def return_everything(self):
        """Every unit's money back, by whichever refund can take it, then what is left of each type."""
        for line in self.order.lines:
            if line.ledger.open:
                self.cancel(line.line_id, line.ledger.open)
            if line.ledger.delivered:
                self.give_back(line.line_id, self.order.line(line.line_id).ledger.delivered)
        for line in self.order.lines:
            for cause in (RefundCause.CANCELLATION, RefundCause.RETURN):
                free = self.account().refundable_units(cause)[line.line_id]
                if free:
                    try:
                        self.refund({line.line_id: free}, cause)
                    except KalemError:
                        pass  # more than the items still refundable (a refund of amounts took them): topped up below
        left = {t: self.paid[t] - self.returned()[t] for t in TYPES}
        collected = self.billing.collected()
        billed_left = {t: collected.billed[t] - self.account().refunded_of(t) for t in TYPES}
        subtotals = [(t, min(left[t], billed_left[t])) for t in TYPES if min(left[t], billed_left[t]) > 0]
        if subtotals:
            self.amounts(subtotals)


def _order(lines, shipping, delivered=()):
    specs = tuple(LineSpec(f"L{i}", f"S{i}", f"Item {i}", q, price, discount, hs_code=hs)
                  for i, (q, price, discount, hs) in enumerate(lines))
    packages = ()
    if any(delivered):
        rest = tuple(PackageItem(f"L{i}", q - n) for i, ((q, *_), n) in enumerate(zip(lines, delivered, strict=True))
                     if q - n)
        packages = (PackageSpec("d", PackageStatus.DELIVERED,
                                tuple(PackageItem(f"L{i}", n) for i, n in enumerate(delivered) if n)),
                    *((PackageSpec("o", PackageStatus.CREATED, rest),) if rest else ()))
    spec = OrderSpec("acme", "1001", "USD", specs, packages, shipping_amount=shipping,
                     account_order_number="AO-1", destination_country="US")
    return place_order(spec, order_id="ord_1", actor=OP, now=T0)[0]


def test_a_credited_unit_is_not_refunded_again_and_the_preview_shows_the_credit():
    books = Books(_order([(3, D("10.00"), D(0), "610910")], D("5.00")))
    books.remove("L0", 2)                           # charged: a credit note for units 1 and 2
    [credit] = books.billing.credits()
    assert credit.units == (("L0", 1, 2),)
    assert credit.part("ITEM") == D("20.00") and credit.part("SHIPPING") == 0
    account = books.account()
    assert account.unit("L0", 1).status == "credited" and account.refundable_units(RefundCause.CANCELLATION) == {
        "L0": UnitSet()}
    with pytest.raises(UnitsCredited) as named:
        account.preview({"L0": UnitSet.of([1])}, cause=RefundCause.CANCELLATION)
    assert named.value.details["credit_note"] == credit.number
    with pytest.raises(UnitsCredited):              # by count: the cancelled units are credited
        account.refund({"L0": 1}, cause=RefundCause.CANCELLATION, pay=PAY, refund_id="r", actor=OP, now=T0)
    books.cancel("L0", 1)                           # the last unit, cancelled natively, is refundable
    preview = books.account().preview({"L0": 1}, cause=RefundCause.CANCELLATION)
    assert preview.total == D("15.00")              # its 10.00, and the shipping with the last unit
    assert any(line.startswith(f"credit note {credit.number} gave back 23.30 USD (items 20.00")
               and "Item 0 units 1\u20132" in line for line in preview.explanation)
    assert preview.explanation[-1] == "total refunded 15.00 USD"
    components = books.account().components()
    assert components["credited"]["items"] == D("20.00") and components["credited"]["duties"] == D("3.30")


def test_a_refunded_unit_is_never_credited():
    books = Books(_order([(3, D("10.00"), D(0), "610910")], D("5.00")))
    books.cancel("L0", 1)
    books.refund({"L0": 1}, RefundCause.CANCELLATION)  # unit 1: 10.00 back by a refund
    books.remove("L0", 1)                              # unit 2 removed: the credit leaves unit 1 out
    [credit] = books.billing.credits()
    assert credit.units == (("L0", 2, 2),) and credit.part("ITEM") == D("10.00")
    books.cancel_order()                               # unit 3 too; unit 1 stays on the bill, its refund pays it
    assert [c.units for c in books.billing.credits()][1] == (("L0", 3, 3),)
    assert books.returned()["ITEM"] == D("30.00") and books.returned()["SHIPPING"] == D("5.00")
    books.check()


def test_a_failed_refund_lets_the_next_credit_take_its_units():
    books = Books(_order([(2, D("10.00"), D(0), "610910")], D("0")))
    books.cancel("L0", 1)
    books.refund({"L0": 1}, RefundCause.CANCELLATION)
    books.settle(0, "failed")
    books.cancel_order()
    [credit] = books.billing.credits()
    assert credit.units == (("L0", 1, 2),) and credit.part("ITEM") == D("20.00")
    books.check()


def test_shares_that_do_not_divide_add_up_exactly():
    """A line that paid 10.00 for 3 units: unit 1 brings 3.34; refunded, the credit of units 2 and 3 is 6.66,
    not 6.67."""
    books = Books(_order([(3, D("4.00"), D("2.00"), "4901")], D("0")))
    books.cancel("L0", 1)
    books.refund({"L0": 1}, RefundCause.CANCELLATION)
    books.cancel_order()
    assert books.refunds[0].amount == D("3.34") and books.billing.credits()[0].part("ITEM") == D("6.66")
    assert books.returned()["ITEM"] == D("10.00")


def test_a_refund_of_amounts_is_not_credited_again():
    """A refund of amounts names no units: the bill keeps, per type, what it returned, so a credit note
    made after it gives back only the rest, and cancelling the order returns exactly what was paid."""
    books = Books(_order([(3, D("10.00"), D(0), "610910")], D("5.00")))
    books.amounts([("ITEM", D("25.00")), ("SHIPPING", D("2.00"))])
    books.remove("L0", 2)                           # 20.00 of items no longer billed; 25.00 refunded already
    [credit] = books.billing.credits()
    assert credit.units == (("L0", 1, 2),) and credit.part("ITEM") == D("5.00") and credit.part("SHIPPING") == 0
    assert D(books.billing.landed_costs[-1]["items"]) == D("25.00")
    books.check()
    books.cancel_order()
    assert books.billing.credits()[1].part("ITEM") == 0 and books.billing.credits()[1].part("SHIPPING") == D("3.00")
    books.check()
    returned = books.returned()
    assert returned == books.paid and sum(returned.values()) == books.charged


def test_a_failed_refund_of_amounts_lets_the_next_credit_give_it_back():
    books = Books(_order([(2, D("10.00"), D(0), "610910")], D("0")))
    books.amounts([("ITEM", D("15.00"))])
    books.settle(0, "failed")
    books.cancel_order()
    assert [c.part("ITEM") for c in books.billing.credits()] == [D("20.00")]
    books.check()


cents = st.integers(0, 30_000).map(lambda c: D(c) / 100)


@st.composite
def billed_orders(draw):
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        quantity, price = draw(st.integers(1, 5)), draw(cents)
        discount = D(draw(st.integers(0, int(quantity * price * 100)))) / 100
        lines.append((quantity, price, discount, draw(st.sampled_from(["610910", "6403", "4901", ""]))))
    delivered = [draw(st.integers(0, q)) if draw(st.booleans()) else 0 for q, _, _, _ in lines]
    return _order(lines, draw(cents), delivered if draw(st.integers(0, 3)) == 0 else ())


strategies = st.builds(CancellationStrategy, st.sampled_from(list(CargoRule)), st.booleans(), st.just(True))
# Refunds of amounts (Zonos orderRefundCreate, native refunds of amounts) name no units: they come in any
# order with the credits, and the bill keeps, per type, what they returned.
steps = st.lists(st.tuples(st.sampled_from(["cancel", "refund", "cancel_refund", "remove", "remove", "cancel_order",
                                            "return", "settle", "amounts", "amounts"]),
                           st.integers(0, 2), st.integers(1, 3), st.sampled_from(["succeeded", "failed"]),
                           st.sampled_from(TYPES), cents), max_size=12)


def _step(books, action, index, n, status, refund_type, amount):
    line = books.order.lines[index % len(books.order.lines)].line_id
    if action == "cancel":
        books.cancel(line, n)
    elif action == "refund":
        books.refund({line: n}, RefundCause.CANCELLATION)
    elif action == "cancel_refund":
        before = books.order.line(line).units.in_state(UnitState.CANCELLED)
        books.cancel(line, n)
        books.refund({line: books.order.line(line).units.in_state(UnitState.CANCELLED) - before},
                     RefundCause.CANCELLATION)
    elif action == "remove":
        books.remove(line, n)
    elif action == "cancel_order":
        books.cancel_order()
    elif action == "return":
        books.give_back(line, n)
        books.refund({line: n}, RefundCause.RETURN)
    elif action == "amounts":
        books.amounts([(refund_type, amount)])
    else:
        books.settle(index, status)


@settings(max_examples=300, deadline=None)
@given(billed_orders(), strategies, steps)
def test_credits_and_refunds_never_return_more_than_was_paid_and_everything_returns_it_exactly(order, strategy,
                                                                                                 script):
    note(f"lines {[(ln.quantity, ln.unit_price, ln.discount, ln.hs_code) for ln in order.lines]}, "
         f"shipping {order.shipping_amount}, delivered {[ln.ledger.delivered for ln in order.lines]}")
    books = Books(order, strategy)
    for step in script:
        saved = (books.order, books.billing, list(books.refunds))
        try:
            _step(books, *step)
        except KalemError:
            books.order, books.billing, books.refunds = saved  # a refused step changes nothing
        books.check()
    books.return_everything()
    books.check()
    returned = books.returned()
    assert returned["ITEM"] == books.paid["ITEM"]
    assert returned["SHIPPING"] == books.paid["SHIPPING"]
    assert returned["DUTY_TAX_FEE"] == books.paid["DUTY_TAX_FEE"]
    assert sum(returned.values()) == books.charged
