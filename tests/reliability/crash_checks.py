"""What must hold after the crash test, read straight from the database. Each check returns the
problems it found (empty: all good), so one run reports every broken rule at once."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from kalem.domain.orders.order import Order, PackageStatus, check_invariants
from kalem.domain.orders.requests import RequestStatus
from kalem.domain.refunds.records import Refund, RefundCause, RefundStatus
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from tests.reliability.crash_cluster import Sent


class World:
    """Every row the checks need, read once after the run."""

    def __init__(self, db: Database) -> None:
        with db.engine.connect() as conn:
            self.events = [dict(r._mapping) for r in conn.execute(sa.text(
                "SELECT id, order_id, sequence, type, data FROM events ORDER BY order_id, sequence"))]
            self.last_sequence = dict(conn.execute(sa.text("SELECT id, last_sequence FROM orders")).all())
            self.keys = {r.key: r for r in conn.execute(sa.text(
                "SELECT key, state, status_code, response FROM idempotency_keys"))}
            self.deliveries = Counter(dict(conn.execute(sa.text(
                "SELECT status, count(*) FROM webhook_deliveries GROUP BY status")).all()))
        for e in self.events:
            e["data"] = json.loads(e["data"])
        self.orders: dict[str, Order] = {}
        self.refunds: dict[str, list[Refund]] = {}
        self.requests: dict[str, list[Any]] = {}
        with UnitOfWork(db, write=False) as uow:
            for order_id in self.last_sequence:
                order = uow.orders.get_by_id(order_id)
                self.orders[order.order_number] = order
                self.refunds[order_id] = uow.refunds.for_order(order_id)
                self.requests[order_id] = uow.cancel_requests.for_order(order_id)
        self.events_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in self.events:
            self.events_of[e["order_id"]].append(e)

    def done(self, key: str) -> tuple[int, Any] | None:
        row = self.keys.get(key)
        return None if row is None or row.state != "done" else (row.status_code, json.loads(row.response))


def kind_of(key: str) -> str:
    return key.split(":", 1)[0]


# --- no half-applied change: each order is whole --------------------------------------------------

def order_problems(world: World) -> list[str]:
    problems: list[str] = []
    for number, order in sorted(world.orders.items()):
        try:
            check_invariants(order)  # every line's ledger sums to its quantity; live packages hold the rest
        except AssertionError as exc:
            problems.append(f"order {number}: {exc}")
        problems += _lineage_problems(order)
        problems += _sequence_problems(world, order)
        problems += _cancel_problems(world, order)
        problems += _refund_problems(world, order)
    return problems


def _lineage_problems(order: Order) -> list[str]:
    """`check_lineage` holds at the split; later cancels take units out of the children (and a
    package emptied so is Cancelled), so children hold at most what their Unpacked parent held."""
    packages = {p.package_id: p for p in order.packages}
    held: dict[str, Counter[str]] = defaultdict(Counter)
    problems = []
    for p in order.packages:
        if p.parent_id is None:
            continue
        parent = packages.get(p.parent_id)
        if parent is not None and parent.status is PackageStatus.UNSUPPLIED and p.status is PackageStatus.UNPACKED:
            continue  # n11's split with a cancel: the rest of an UnSupplied package, split in turn
        if parent is None or parent.status is not PackageStatus.UNPACKED:
            problems.append(f"order {order.order_number}: package {p.package_id}'s parent {p.parent_id} "
                            f"is {parent and parent.status}")
            continue
        for item in p.items:
            held[p.parent_id][item.line_id] += item.quantity
    for parent_id, lines in held.items():
        for line_id, n in lines.items():
            if n > packages[parent_id].quantity_of(line_id):
                problems.append(f"order {order.order_number}: children of {parent_id} hold {n} of {line_id}, "
                                f"it held {packages[parent_id].quantity_of(line_id)}")
    return problems


def _sequence_problems(world: World, order: Order) -> list[str]:
    sequences = [e["sequence"] for e in world.events_of[order.id]]
    column = world.last_sequence[order.id]
    if sequences != list(range(1, len(sequences) + 1)) or column != len(sequences) or order.last_sequence != column:
        return [f"order {order.order_number}: event sequences {sequences}, last_sequence column {column}, "
                f"body {order.last_sequence}"]
    return []


def _cancel_problems(world: World, order: Order) -> list[str]:
    """Cancelled units are exactly what the cancellation events say; reserved ones what pending requests hold."""
    cancelled: Counter[str] = Counter()
    created, approved, rejected = set(), set(), set()
    for e in world.events_of[order.id]:
        data = e["data"]
        if e["type"] == "lines.cancelled":
            for item in data["items"]:
                cancelled[item["line_id"]] += item["quantity"]
        elif e["type"] == "cancel_request.approved":
            approved.add(data["cancel_request_id"])
            for item in data["items"]:
                cancelled[item["line_id"]] += item["approved"]
        elif e["type"] == "cancel_request.created":
            created.add(data["cancel_request_id"])
        elif e["type"] == "cancel_request.rejected":
            rejected.add(data["cancel_request_id"])
    problems = []
    requests = world.requests[order.id]
    pending: Counter[str] = Counter()
    for r in requests:
        if r.status is RequestStatus.PENDING:
            for item in r.items:
                pending[item.line_id] += item.quantity
    by_status = {s: {r.id for r in requests if r.status is s} for s in RequestStatus}
    if created != {r.id for r in requests} or approved != by_status[RequestStatus.APPROVED] \
            or rejected != by_status[RequestStatus.REJECTED]:
        problems.append(f"order {order.order_number}: cancel request rows {[(r.id, r.status.value) for r in requests]}"
                        f" vs events created {created}, approved {approved}, rejected {rejected}")
    for line in order.lines:
        if line.ledger.cancelled != cancelled[line.line_id]:
            problems.append(f"order {order.order_number} line {line.line_id}: {line.ledger.cancelled} cancelled, "
                            f"the events say {cancelled[line.line_id]}")
        if line.ledger.pending_cancel != pending[line.line_id]:
            problems.append(f"order {order.order_number} line {line.line_id}: {line.ledger.pending_cancel} pending, "
                            f"pending requests hold {pending[line.line_id]}")
    unsupplied = Counter()
    for p in order.packages:
        if p.status is PackageStatus.UNSUPPLIED:
            for item in p.items:
                unsupplied[item.line_id] += item.quantity
    for line in order.lines:
        if unsupplied[line.line_id] > line.ledger.cancelled:
            problems.append(f"order {order.order_number} line {line.line_id}: {unsupplied[line.line_id]} units "
                            f"UnSupplied, only {line.ledger.cancelled} cancelled")
    return problems


def _refund_problems(world: World, order: Order) -> list[str]:
    """Refunds take only cancelled units, never more than was paid per line or in all; each has its events."""
    refunds = world.refunds[order.id]
    counted = [r for r in refunds if r.status is not RefundStatus.FAILED]
    problems = []
    units: Counter[str] = Counter()
    cash: defaultdict[str, Decimal] = defaultdict(Decimal)
    for r in counted:
        if r.cause is not RefundCause.CANCELLATION:
            problems.append(f"refund {r.id}: cause {r.cause}, this load only refunds cancellations")
        for line_id, n in r.lines:
            units[line_id] += n
        for part in r.breakdown["lines"]:
            cash[part["line_id"]] += Decimal(part["amount"])
    paid_total = order.shipping_amount
    for line in order.lines:
        paid = line.unit_price * line.quantity - line.discount
        paid_total += paid
        if units[line.line_id] > line.ledger.cancelled:
            problems.append(f"order {order.order_number} line {line.line_id}: {units[line.line_id]} units refunded, "
                            f"{line.ledger.cancelled} cancelled")
        if cash[line.line_id] > paid:
            problems.append(f"order {order.order_number} line {line.line_id}: {cash[line.line_id]} refunded, "
                            f"{paid} paid")
    if sum((r.amount for r in counted), Decimal(0)) > paid_total:
        problems.append(f"order {order.order_number}: refunds {[str(r.amount) for r in counted]} exceed {paid_total}")
    created = {e["data"]["refund_id"] for e in world.events_of[order.id] if e["type"] == "refund.created"}
    settled = {e["data"]["refund_id"]: e["data"]["status"] for e in world.events_of[order.id]
               if e["type"] == "refund.settled"}
    if created != {r.id for r in refunds}:
        problems.append(f"order {order.order_number}: refund rows {sorted(r.id for r in refunds)}, "
                        f"refund.created events {sorted(created)}")
    if settled != {r.id: r.status.value for r in refunds if r.status is not RefundStatus.PENDING}:
        problems.append(f"order {order.order_number}: settled refunds {[(r.id, r.status.value) for r in refunds]}, "
                        f"refund.settled events {settled}")
    return problems


# --- every change has its stored answer, every stored answer its change ---------------------------

#: How many events of a type each completed request of a kind leaves (per key kind).
EVENTS_OF_KIND = {
    "place": {"order.placed": 1},
    "cancel": {"lines.cancelled": 1},
    "cancel_refund": {"lines.cancelled": 1, "refund.created": 1},
    "request": {"cancel_request.created": 1},
    "approve": {"cancel_request.approved": 1},
    "reject": {"cancel_request.rejected": 1},
    "split": {"package.split": 1},
    "split_cancel": {"package.split": 1, "lines.cancelled": 1},
    "refund": {"refund.created": 1},
    "settle": {"refund.settled": 1},
}


#: Decisions that cancel units: under the seller's refund policy `on_decision` (the default, which this
#: load keeps) each one that cancelled a unit also makes its refund, in its own transaction.
DECISIONS = {"cancel", "approve", "split_cancel"}


def decision_cancelled_units(kind: str, response: Any) -> bool:
    if kind == "approve":   # an approval may approve none of what was asked
        return any(line["approved_quantity"] for line in response["lines"])
    return True             # a direct cancel, or a split's cancel, cancels at least one unit


def reconciliation_problems(world: World) -> list[str]:
    """Every event was caused by a request whose response is stored, and each stored response's
    request left exactly its events: a change without its stored answer (or the reverse) shows here."""
    expected: Counter[str] = Counter()
    for key, row in world.keys.items():
        if row.state == "done":
            kind = kind_of(key)
            for event_type, n in EVENTS_OF_KIND[kind].items():
                expected[event_type] += n
            if kind in DECISIONS and decision_cancelled_units(kind, json.loads(row.response)):
                expected["refund.created"] += 1
    found = Counter(e["type"] for e in world.events)
    if found != expected:
        return [f"events by type {dict(sorted(found.items()))}, completed requests account for "
                f"{dict(sorted(expected.items()))}"]
    return []


def effect_problems(world: World, sent: Sent, status: int, response: Any) -> list[str]:
    """The effect a completed request answered with is in the database."""
    order = world.orders.get(sent.order_number)
    if order is None:
        return [f"{sent.key}: order {sent.order_number} does not exist"]
    events = world.events_of[order.id]
    refund_ids = {r.id: r for r in world.refunds[order.id]}
    requests = {r.id: r for r in world.requests[order.id]}
    kind, problems = kind_of(sent.key), []
    if not 200 <= status < 300:
        return [f"{sent.key}: stored status {status}"]

    def cancelled_event(view: dict[str, Any], via_split: bool) -> None:
        totals = {ln["line_id"]: ln["cancelled_quantity"] for ln in view["lines"]}
        asked = sent.body["cancelled"] if via_split else sent.body["lines"]
        wanted = sorted((i["line_id"], i["quantity"], totals[i["line_id"]]) for i in asked)
        for e in events:
            if e["type"] == "lines.cancelled" and (e["data"].get("via") == "split") == via_split and sorted(
                    (i["line_id"], i["quantity"], i["cancelled_total"]) for i in e["data"]["items"]) == wanted:
                return
        problems.append(f"{sent.key}: no lines.cancelled event {wanted}")

    if kind == "cancel":
        cancelled_event(response, via_split=False)
    elif kind == "cancel_refund":
        cancelled_event(response["order"], via_split=False)
        refund = refund_ids.get(response["refund"]["id"])
        if refund is None or dict(refund.lines) != {i["line_id"]: i["quantity"] for i in sent.body["lines"]}:
            problems.append(f"{sent.key}: refund {response['refund']['id']} missing or other lines")
    elif kind == "refund":
        if response["refund"]["id"] not in refund_ids:
            problems.append(f"{sent.key}: refund {response['refund']['id']} missing")
    elif kind == "settle":
        refund_id = sent.path.split("/")[3]
        if refund_id not in refund_ids or refund_ids[refund_id].status.value != response["status"]:
            problems.append(f"{sent.key}: refund {refund_id} not {response['status']}")
    elif kind == "request":
        request = requests.get(response["id"])
        if request is None or [(i.line_id, i.quantity) for i in request.items] != [
                (i["line_id"], i["quantity"]) for i in sent.body["lines"]]:
            problems.append(f"{sent.key}: cancel request {response['id']} missing or other lines")
    elif kind in ("approve", "reject"):
        request = requests.get(sent.path.split("/")[3])
        decided = {"approve": "approved", "reject": "rejected"}[kind]
        if request is None or request.status.value != decided or response["status"] != decided:
            problems.append(f"{sent.key}: cancel request {sent.path} is {request and request.status.value}")
    elif kind in ("split", "split_cancel"):
        packages = {p.package_id: p for p in order.packages}
        parent = packages.get(response["package_id"])
        children = [packages.get(c) for c in response["children"]]
        if parent is None or parent.status is not PackageStatus.UNPACKED or not all(
                c is not None and c.parent_id == parent.package_id for c in children):
            problems.append(f"{sent.key}: split of {response['package_id']} into {response['children']} not found")
        if kind == "split_cancel":
            cancelled_event(response["order"], via_split=True)
    return problems


# --- what the clients were told ------------------------------------------------------------------

def request_problems(world: World, sent_log: list[Sent]) -> list[str]:
    """Acknowledged: done with the very answer the client got. Refused: not done. Done (answered or
    not): its effect is in the database."""
    problems: list[str] = []
    by_key = {s.key: s for s in sent_log}
    for s in sent_log:
        stored = world.done(s.key)
        if s.acknowledged and stored != (s.status, s.response):
            problems.append(f"{s.key}: acknowledged {s.status}, stored {stored}")
        if s.status is not None and not s.acknowledged and stored is not None:
            problems.append(f"{s.key}: answered {s.status} {s.code}, yet stored as done")
    for key in world.keys:
        if key not in by_key:
            problems.append(f"a stored key nobody sent: {key}")
        elif (stored := world.done(key)) is not None:
            problems += effect_problems(world, by_key[key], *stored)
    return problems
