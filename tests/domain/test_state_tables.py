"""Every life cycle is one table, and nothing changes a state around it.

For each table: every legal (state, action) pair takes the step the table names, through the domain
function that owns it, and every other pair is refused with the table's error and its stable code.
Then the source itself is read: no code names a new state for a unit, package, request, refund,
invoice, order or webhook delivery except from a table.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import pkgutil
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import kalem.domain
from kalem.domain.billing import invoices as inv
from kalem.domain.billing import order_billing as ob
from kalem.domain.billing.landed_cost import load_default_rate_table
from kalem.domain.errors import IllegalTransition, KalemError
from kalem.domain.events.event import Actor
from kalem.domain.orders import packages as pk
from kalem.domain.orders import requests as rq
from kalem.domain.orders import units as un
from kalem.domain.orders.cancellation import request_cancel
from kalem.domain.orders.order import (
    STANDING,
    LineSpec,
    OrderSpec,
    Package,
    PackageItem,
    PackageSpec,
    PackageStatus,
    PackedUnits,
    Standing,
    StandingStep,
    StatusChange,
    check_invariants,
    place_order,
    take_standing,
)
from kalem.domain.orders.returns import request_return
from kalem.domain.states import Machine
from kalem.domain.webhooks import DELIVERY, DeliveryStatus, DeliveryStep, from_statuses, target_of

SRC = Path(__file__).resolve().parents[2] / "src" / "kalem"
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
ACTOR = Actor("operator", "op")
U, A = un.UnitState, un.UnitAction


def pairs(machine: Machine) -> list[tuple[object, object]]:
    states, actions = type(next(iter(machine.table))[0]), type(next(iter(machine.table))[1])
    return list(itertools.product(states, actions))


def machines() -> dict[str, Machine]:
    """Every table the domain keeps: module-level machines, and those of the request kinds."""
    found: dict[str, Machine] = {}
    for info in pkgutil.walk_packages(kalem.domain.__path__, "kalem.domain."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, Machine):
                found.setdefault(value.name, value)
            elif isinstance(value, rq.RequestKind):
                found.setdefault(value.machine.name, value.machine)
    return found


# --- the tables ------------------------------------------------------------------------------------

def test_every_life_cycle_has_its_table():
    assert {"unit", "package", "cancel request", "return", "refund", "webhook delivery", "order",
            "invoice"} <= set(machines())


@pytest.mark.parametrize("name", sorted(machines()))
def test_every_pair_of_a_table_is_taken_or_refused_with_the_tables_code(name):
    machine = machines()[name]
    assert issubclass(machine.error, KalemError) and machine.error.code
    for state, action in pairs(machine):
        if (state, action) in machine.table:
            assert machine.next(state, action) is machine.table[(state, action)]
        else:
            with pytest.raises(machine.error) as refused:
                machine.next(state, action)
            assert refused.value.code == machine.error.code
            assert refused.value.details["allowed"] == machine.allowed(state)


def test_every_unit_state_is_reached_and_every_unit_action_leaves_from_one_state():
    reached, todo = {U.OPEN, U.SHIPPED, U.DELIVERED}, [U.OPEN, U.SHIPPED, U.DELIVERED]   # intake states
    while todo:
        state = todo.pop()
        for (source, _), target in un.TRANSITIONS.items():
            if source is state and target not in reached:
                reached.add(target)
                todo.append(target)
    assert reached == set(U)
    assert all(sum(1 for (_, a) in un.TRANSITIONS if a is action) == 1 for action in A)
    assert un.source_of(A.CANCEL) is U.OPEN and un.source_of(A.RETURN) is U.DELIVERED


# --- each table through the domain function that owns it -------------------------------------------

@pytest.mark.parametrize(("state", "action"), list(itertools.product(U, A)))
def test_a_unit_takes_exactly_the_steps_its_table_allows(state, action):
    units = un.Units.laid_out([(U.OPEN, 1), (state, 1), (U.OPEN, 1)])
    target = un.TRANSITIONS.get((state, action))
    if target is None:
        with pytest.raises(un.UnitActionNotAllowed) as refused:
            units.step(un.UnitSet.of([2]), action)
        assert refused.value.code == "unit_action_not_allowed"
        assert refused.value.details == {"unit": 2, "status": state.value, "action": action.value,
                                         "allowed": un.MACHINE.allowed(state)}
    else:
        assert dict(units.step(un.UnitSet.of([2]), action).layout()) == {1: U.OPEN, 2: target, 3: U.OPEN}


def test_a_step_naming_a_unit_off_the_line_is_refused():
    with pytest.raises(un.UnitNotOnLine):
        un.Units.of(3).step(un.UnitSet.of([4]), A.CANCEL)


def package(status: PackageStatus) -> Package:
    return Package("P", status, (PackedUnits("l", un.UnitSet.span(1, 2)),), (StatusChange(status, NOW),))


@pytest.mark.parametrize(("status", "action"), list(itertools.product(PackageStatus, pk.Action)))
def test_a_package_takes_exactly_the_steps_its_table_allows(status, action):
    target = pk.TRANSITIONS.get((status, action))
    if target is None:
        with pytest.raises(IllegalTransition) as refused:
            pk.transition(package(status), action, NOW)
        assert refused.value.code == ("package_not_splittable" if action is pk.Action.SPLIT
                                      else "package_action_not_allowed")
    else:
        moved = pk.transition(package(status), action, NOW)
        assert moved.status is target and moved.history[-1] == StatusChange(target, NOW)


def test_a_package_offers_every_action_but_the_one_only_a_split_takes():
    assert pk.allowed_actions(PackageStatus.PICKING) == ["ship", "split", "cancel"]
    assert pk.allowed_actions(PackageStatus.CREATED) == ["approve", "cancel"]


def an_order(status: PackageStatus = PackageStatus.PICKING, quantity: int = 3, country: str | None = None):
    spec = OrderSpec("acme", "S-1", "EUR", (LineSpec("l", "SKU", "name", quantity, Decimal("10.00")),),
                     (PackageSpec("P", status, (PackageItem("l", quantity),)),), destination_country=country)
    return place_order(spec, order_id="o", actor=ACTOR, now=NOW)[0]


def test_a_split_keeping_its_cancel_in_place_takes_the_package_tables_step():
    changed, _, _ = pk.split_package(an_order(), "P", [{"l": 1}], [pk.SplitCancel("l", 1, 135)],
                                          new_package_id=iter(["C1", "C2", "C3"]).__next__,
                                          new_tracking_number=iter(["T1", "T2", "T3"]).__next__, actor=ACTOR,
                                          now=NOW, unsupplied_in_place=True)
    check_invariants(changed)
    assert [h.status for h in changed.package("P").history] == [PackageStatus.PICKING, PackageStatus.UNSUPPLIED]
    assert pk.TRANSITIONS[(PackageStatus.PICKING, pk.Action.UNSUPPLY)] is PackageStatus.UNSUPPLIED


@pytest.mark.parametrize("kind", [rq.CANCEL, rq.RETURN], ids=lambda k: k.name)
def test_a_request_is_decided_once_through_its_table(kind):
    asked = [rq.AskedUnits("l", 2, 136 if kind is rq.CANCEL else 152)]
    if kind is rq.CANCEL:
        order, request, _ = request_cancel(an_order(), asked, request_id="r", actor=ACTOR, now=NOW)
    else:
        order, request, _ = request_return(an_order(PackageStatus.DELIVERED), asked, return_id="r", actor=ACTOR,
                                           now=NOW)
    assert order.line("l").units_in(kind.reserved) == un.UnitSet.span(1, 2)
    for decision in rq.Decision:
        target = kind.machine.table.get((rq.RequestStatus.PENDING, decision))
        if target is None:
            with pytest.raises(kind.machine.error):
                rq.decide(order, request, decision, actor=ACTOR, now=NOW)
            continue
        _, decided, _ = rq.decide(order, request, decision, actor=ACTOR, now=NOW)
        assert decided.status is target
        with pytest.raises(kind.machine.error) as refused:   # a decided request is never decided again
            rq.decide(order, decided, decision, actor=ACTOR, now=NOW)
        assert refused.value.code == kind.machine.error.code


def test_an_invoice_is_charged_once_through_its_table():
    history, _ = inv.issue_next_invoice(inv.BillingHistory("S-1", "TRY"), [inv.InvoiceLine("x", Decimal(10),
                                                                                              Decimal(20))], now=NOW)
    assert history.invoice().state is inv.InvoiceState.ISSUED and not history.invoice().charged
    charged, _ = inv.mark_charged(history, "INV-S-1-1", now=NOW)
    assert charged.invoice().state is inv.INVOICE.next(inv.InvoiceState.ISSUED, inv.InvoiceStep.CHARGE)
    assert charged.invoice().charged
    with pytest.raises(inv.InvoiceAlreadyCharged) as refused:
        inv.mark_charged(charged, "INV-S-1-1", now=NOW)
    assert refused.value.code == "invoice_already_charged"
    assert refused.value.details == {"invoice_number": "INV-S-1-1"}


def test_an_order_is_cancelled_as_a_whole_once_through_its_table():
    table = load_default_rate_table()
    order = an_order(country="DE")
    assert order.standing is Standing.ACTIVE
    billing = ob.initial_billing(order, table)
    cancelled, billing, _ = ob.cancel_order(order, billing, actor=ACTOR, now=NOW, table=table)
    assert cancelled.standing is STANDING.next(Standing.ACTIVE, StandingStep.CANCEL) is Standing.CANCELED
    with pytest.raises(ob.OrderAlreadyCanceled) as refused:
        ob.cancel_order(cancelled, billing, actor=ACTOR, now=NOW, table=table)
    assert refused.value.code == "order_already_canceled"
    with pytest.raises(ob.OrderAlreadyCanceled):   # the table refuses by itself too
        take_standing(cancelled, StandingStep.CANCEL, NOW)


def test_a_delivery_step_leads_to_one_status_from_wherever_it_is_taken():
    for step in DeliveryStep:
        assert {DELIVERY.next(s, step) for s in from_statuses(step)} == {target_of(step)}
    assert from_statuses(DeliveryStep.RELEASE) == from_statuses(DeliveryStep.RELEASE_RETRY) == (
        DeliveryStatus.DELIVERING,)
    assert (target_of(DeliveryStep.RELEASE), target_of(DeliveryStep.RELEASE_RETRY)) == (
        DeliveryStatus.PENDING, DeliveryStatus.FAILED)


# --- nothing goes around a table ---------------------------------------------------------------------

def sources(*under: str) -> list[Path]:
    return sorted(p for folder in under for p in (SRC / folder).rglob("*.py") if "migrations" not in p.parts)


def functions(tree: ast.AST) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


def called(node: ast.Call) -> str:
    return ast.unparse(node.func)


def bound_from_a_table(function: ast.FunctionDef, name: str) -> bool:
    """Was `name` bound, in this function, to what a table's step returned (`….next(…)`, or a helper
    named after it) or to the attributes `take_standing` gives?"""
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            callee = called(node.value).rsplit(".", 1)[-1]
            if callee in ("next", "_next", "next_status", "take_standing"):
                return True
    return False


def test_a_state_is_only_ever_replaced_by_what_a_table_returned():
    """`replace(x, status=…)`, `state=…` (and an order's `attributes=`, which keep its standing) take a
    value the function got from a table's step — never a state named in place."""
    offenders, seen = [], 0
    for path in sources("."):
        tree = ast.parse(path.read_text())
        for function in functions(tree):
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and called(node) in ("replace", "order.evolve")):
                    continue
                for keyword in node.keywords:
                    if keyword.arg not in ("status", "state", "charged", "attributes"):
                        continue
                    seen += 1
                    value = keyword.value
                    if not (isinstance(value, ast.Name) and bound_from_a_table(function, value.id)):
                        offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {ast.unparse(node)[:80]}")
    assert offenders == []
    assert seen >= 5   # packages, requests, refunds, invoices, the order's standing


def test_units_are_made_only_at_intake_and_when_read_back_and_change_only_by_their_table():
    """Outside `units.py` a line's units are built from scratch only where an order comes in (intake)
    or is read back from storage; every later change is `Units.step`, which follows the table."""
    allowed = {("domain/orders/order.py", "_numbered"), ("store/codec.py", "load_order"),
               ("store/unnumbered_orders.py", "numbered")}
    makers = re.compile(r"^Units(\.(of|laid_out|from_list))?$")
    found = set()
    for path in sources("."):
        relative = str(path.relative_to(SRC))
        if relative == "domain/orders/units.py":
            continue
        tree = ast.parse(path.read_text())
        for function in functions(tree):
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and makers.match(called(node)):
                    found.add((relative, function.name))
        assert "_merged" not in path.read_text(), relative
    assert found <= allowed, found - allowed
    assert ("domain/orders/order.py", "_numbered") in found


def test_unit_and_package_states_are_named_as_targets_only_in_their_tables():
    """A new state for a unit or a package is named where its table is; elsewhere states are read
    (compared, shown) or are where something is born (intake, a split's new packages)."""
    writes = re.compile(r"\b(moved|move)\(|UNIT_MOVES|status=S\.|status=PackageStatus\.")
    offenders = [f"{p.relative_to(SRC)}: {m.group(0)}" for p in sources(".") for m in writes.finditer(p.read_text())]
    assert offenders == []


def test_sql_sets_a_status_only_from_the_domain():
    """A statement's `SET status =` takes a bound value (the domain object's own status, as saved) or,
    for webhook deliveries the store steps in SQL, the status the delivery table gives."""
    assignment = re.compile(r"(?:SET |\(f?\")status = (CASE .*? END|\{[^}]*\}|:\w+|'[^']*')", re.DOTALL)
    checked = []
    for path in sources("store", "platforms", "app", "webhooks"):
        for match in assignment.finditer(path.read_text()):
            value = match.group(1)
            checked.append(value)
            placeholders = re.findall(r"\{([^}]*)\}", value)
            ok = value.startswith(":") or (placeholders and all(p.startswith("sql_after(") for p in placeholders)
                                            and "'" not in value)
            assert ok, f"{path.relative_to(SRC)}: status = {value}"
    assert sum(v.startswith("CASE") for v in checked) == 1 and sum("sql_after(" in v for v in checked) >= 3
    worker = (SRC / "webhooks" / "worker.py").read_text()
    assert "return DELIVERY.next(DeliveryStatus.DELIVERING, step).value" in worker   # what `:status` is there


def test_outside_the_domain_no_code_decides_itself_which_units_may_be_cancelled_or_returned():
    """Which units may be cancelled or returned is the line's question (`cancellable_units`,
    `returnable_units`, `able`): code outside the domain names the open and delivered states only to show them (a face's
    status codes) or to read rows stored before units had numbers."""
    restated = re.compile(r"UnitState\.(OPEN|DELIVERED)\b|\bledger\.(open|delivered)\b(?!\")|"
                          r"(in_state|units_in|count)\(UnitState\.(OPEN|DELIVERED)")
    shown_or_stored = {"platforms/akinon/face/views.py", "store/unnumbered_orders.py"}
    offenders = [f"{p.relative_to(SRC)}: {m.group(0)}" for p in sources(".")
                 if "domain" not in p.relative_to(SRC).parts[:1] and str(p.relative_to(SRC)) not in shown_or_stored
                 for m in restated.finditer(p.read_text())]
    assert offenders == []
