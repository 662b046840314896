"""Random split / split-with-cancel / approve / ship / deliver through the use cases on the real
database (SQLite and PostgreSQL); after every step the per-line totals match a model, every unit is
in one live package, and the lineage adds up."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kalem.app import packages as app
from kalem.app.orders import PlaceOrder, get_order, place_order
from kalem.app.principals import Principal
from kalem.domain.errors import KalemError
from kalem.domain.orders.order import LineSpec, OrderSpec, PackageItem, PackageSpec, PackageStatus, check_invariants
from kalem.domain.orders.packages import SplitCancel, check_lineage
from kalem.store.uow import UnitOfWork
from tests.conftest import empty

OPERATOR = Principal("operator", "stateful")
QTY = {"a": 4, "b": 3}
S = PackageStatus


def make_machine(db):
    uow = partial(UnitOfWork, db)

    class PackageMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            empty(db)
            spec = OrderSpec("acme", "S-1", "TRY", tuple(LineSpec(k, k, k, q, Decimal("10")) for k, q in QTY.items()),
                             (PackageSpec("P0", S.CREATED, tuple(PackageItem(k, q) for k, q in QTY.items())),))
            place_order(uow(), PlaceOrder(spec, OPERATOR))
            self.cancelled = dict.fromkeys(QTY, 0)
            self.splits = 0

        def order(self):
            return get_order(uow(write=False), "S-1", OPERATOR)

        def pick(self, status: PackageStatus, index: int):
            found = [p for p in self.order().packages if p.status is status]
            return found[index % len(found)] if found else None

        @rule(index=st.integers(0, 9), cuts=st.lists(st.integers(0, 4), min_size=2, max_size=6),
              cancel=st.integers(0, 2), reason=st.sampled_from([135, 136]), in_place=st.booleans())
        def split(self, index, cuts, cancel, reason, in_place):
            package = self.pick(S.PICKING, index)
            if package is None:
                return
            # Deal the package's units into up to three groups and maybe a cancel, driven by `cuts`.
            groups: list[dict[str, int]] = [{}, {}, {}]
            cancelled: dict[str, int] = {}
            for n, item in enumerate(package.items):
                left = item.quantity
                take = min(cancel, left - 1) if n == 0 and left > 1 else 0
                if take:
                    cancelled[item.line_id] = take
                    left -= take
                for g in range(3):
                    units = min(cuts[(n + g) % len(cuts)], left)
                    if units:
                        groups[g][item.line_id] = units
                        left -= units
            groups = [g for g in groups if g]
            try:
                app.split_package(uow(), app.SplitPackage(
                    "S-1", package.package_id, tuple(groups),
                    tuple(SplitCancel(k, v, reason) for k, v in cancelled.items()), OPERATOR,
                    unsupplied_in_place=in_place))
            except KalemError:
                assert not groups  # every well-formed split of a Picking package succeeds
                return
            assert groups
            self.splits += 1
            for line_id, units in cancelled.items():
                self.cancelled[line_id] += units

        @rule(index=st.integers(0, 9), goal=st.sampled_from([S.PICKING, S.SHIPPED, S.DELIVERED]))
        def step(self, index, goal):
            source = {S.PICKING: S.CREATED, S.SHIPPED: S.PICKING, S.DELIVERED: S.SHIPPED}[goal]
            package = self.pick(source, index)
            if package is None:
                return
            app.set_package_status(uow(), app.SetPackageStatus("S-1", package.package_id, goal, OPERATOR))
            # and a step the machine does not allow is refused
            try:
                app.set_package_status(uow(), app.SetPackageStatus("S-1", package.package_id, goal, OPERATOR))
            except KalemError as error:
                assert error.code == "package_action_not_allowed"
            else:
                raise AssertionError("the same step twice was accepted")

        @invariant()
        def totals_and_lineage_hold(self):
            order = self.order()
            check_invariants(order)
            check_lineage(order)
            by_state = {s: dict.fromkeys(QTY, 0) for s in (S.CREATED, S.PICKING, S.SHIPPED, S.DELIVERED,
                                                           S.UNSUPPLIED)}
            for p in order.packages:
                for i in p.items:
                    if p.status in by_state:
                        by_state[p.status][i.line_id] += i.quantity
            for line in order.lines:
                ledger = line.ledger
                assert ledger.cancelled == self.cancelled[line.line_id] == by_state[S.UNSUPPLIED][line.line_id]
                assert ledger.open == by_state[S.CREATED][line.line_id] + by_state[S.PICKING][line.line_id]
                assert ledger.shipped == by_state[S.SHIPPED][line.line_id]
                assert ledger.delivered == by_state[S.DELIVERED][line.line_id]
            assert sum(p.status is S.UNPACKED for p in order.packages) == self.splits

    return PackageMachine


def test_package_state_machine(db):
    machine = make_machine(db)
    machine.TestCase.settings = settings(max_examples=30, stateful_step_count=10, deadline=None)
    machine.TestCase().runTest()
