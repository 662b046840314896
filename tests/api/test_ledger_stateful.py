"""A hypothesis state machine drives the real service (use cases on the real database) and checks
the ledger against a model after every step, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kalem.app import cancellation as app
from kalem.app.orders import PlaceOrder, get_order, place_order
from kalem.app.principals import Principal
from kalem.domain.errors import KalemError, QuantityExceedsCancellable
from kalem.domain.orders.cancellation import CancelItem
from kalem.domain.orders.order import LineSpec, OrderSpec, check_invariants
from kalem.store.uow import UnitOfWork
from tests.conftest import empty

OPERATOR = Principal("operator", "stateful")
LINES = ("a", "b")
QTY = 5


def make_machine(db):
    uow = partial(UnitOfWork, db)

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            empty(db)
            spec = OrderSpec("acme", "S-1", "TRY", tuple(LineSpec(ln, ln, ln, QTY, Decimal("10"))
                                                          for ln in LINES))
            place_order(uow(), PlaceOrder(spec, OPERATOR))
            self.open = {ln: QTY for ln in LINES}
            self.cancelled = {ln: 0 for ln in LINES}
            self.pending: list[tuple[str, str, int]] = []  # (request id, line, qty)

        @rule(line=st.sampled_from(LINES), qty=st.integers(1, 3))
        def cancel(self, line, qty):
            try:
                app.cancel_lines(uow(), app.CancelLines("S-1", (CancelItem(line, qty, 136),), OPERATOR))
            except QuantityExceedsCancellable:
                assert qty > self.open[line]
                return
            assert qty <= self.open[line]
            self.open[line] -= qty
            self.cancelled[line] += qty

        @rule(line=st.sampled_from(LINES), qty=st.integers(1, 3))
        def request(self, line, qty):
            try:
                request = app.request_cancel(uow(), app.RequestCancel("S-1", (CancelItem(line, qty, 137),), OPERATOR))
            except QuantityExceedsCancellable:
                assert qty > self.open[line]
                return
            self.open[line] -= qty
            self.pending.append((request.id, line, qty))

        @precondition(lambda self: self.pending)
        @rule(part=st.integers(0, 3), approve=st.booleans())
        def decide(self, part, approve):
            request_id, line, qty = self.pending.pop(0)
            if approve:
                n = min(part, qty)
                app.decide_cancel_request(uow(), app.DecideCancelRequest(request_id, OPERATOR, "approve",
                                                                         quantities={line: n}))
                self.cancelled[line] += n
                self.open[line] += qty - n
            else:
                app.decide_cancel_request(uow(), app.DecideCancelRequest(request_id, OPERATOR, "reject",
                                                                         reason_id=168))
                self.open[line] += qty
            with pytest.raises(KalemError):  # a decided request cannot be decided again
                app.decide_cancel_request(uow(), app.DecideCancelRequest(request_id, OPERATOR, "withdraw"))

        @invariant()
        def ledger_matches_the_model(self):
            order = get_order(uow(write=False), "S-1", OPERATOR)
            check_invariants(order)
            for line in LINES:
                ledger = order.line(line).ledger
                assert ledger.open == self.open[line]
                assert ledger.cancelled == self.cancelled[line]
                assert ledger.pending_cancel == sum(q for _, ln, q in self.pending if ln == line)

    return LedgerMachine


def test_ledger_state_machine(db):
    machine = make_machine(db)
    machine.TestCase.settings = settings(max_examples=15, stateful_step_count=12, deadline=None)
    machine.TestCase().runTest()
