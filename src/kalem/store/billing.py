"""The `order_billing` rows (invoices, credit notes, landed-cost history), and order look-ups that
views of billed orders need (by account order number and status; who created and last changed one).

A billing row is written only with its order's next version — in a transaction that holds the order's
lock, or in the compare-and-swap that writes the order (store/folded_write.py) — and carries its own
version as a second guard.

On PostgreSQL a billing command's lock reads the order's billing row and the actor of its first event
with the order (`COLUMNS`, `BillingWithLock`), as the lock reads what a refund needs
(store/money_with_lock.py): its reads of the bill, decoded once, and the answer's "who created it", then need no
round trips of their own. The billing row follows the same care as the refunds there: the lock's
sub-selects read the statement's snapshot, taken before the lock was granted, so when the version
that snapshot saw is not the one locked, the row is read again by a statement of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.domain.billing import (
    AppliedCredit,
    BillingHistory,
    CreditApplication,
    CreditNote,
    InvoiceLine,
    InvoiceRevision,
    InvoiceState,
    OrderBilling,
    VatPart,
)
from kalem.domain.errors import VersionMismatch
from kalem.domain.events import Event
from kalem.domain.orders import Order
from kalem.store import codec
from kalem.store.hot import Hot

D = Decimal


def _vat(parts: Iterable[VatPart]) -> list[list[Any]]:
    return [[p.rate, p.net, p.vat] for p in parts]


def _load_vat(raw: list[list[str]]) -> tuple[VatPart, ...]:
    return tuple(VatPart(D(r), D(n), D(v)) for r, n, v in raw)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def billing_body(billing: OrderBilling) -> str:
    h = billing.history
    return codec.stored_json({
        "destination_country": billing.destination_country,
        "order_ref": h.order_ref, "currency": h.currency,
        "invoices": [[r.number, r.revision, [[ln.description, ln.amount, ln.vat_rate] for ln in r.lines], r.total,
                      _vat(r.vat_by_rate), r.charged, r.issued_at, [[c.credit_note_number, c.amount]
                                                                    for c in r.credits_applied], r.reason]
                     for r in h.invoices],
        "credit_notes": [[c.number, c.invoice_number, c.amount, _vat(c.vat_by_rate), c.reason, c.issued_at,
                          c.applied_to_invoice, [[a.invoice_number, a.amount] for a in c.applications],
                          [list(u) for u in c.units], [list(p) for p in c.parts]]
                         for c in h.credit_notes],
        "landed_costs": list(billing.landed_costs),
        "unbilled": None if billing.unbilled is None else [list(u) for u in billing.unbilled],
    })


def load_billing(order_id: str, version: int, body: str) -> OrderBilling:
    raw = json.loads(body)
    ref, currency = raw["order_ref"], raw["currency"]
    invoices = tuple(
        InvoiceRevision(number, revision, ref, tuple(InvoiceLine(d, D(a), D(r)) for d, a, r in lines), D(total),
                        _load_vat(vat), InvoiceState.CHARGED if charged else InvoiceState.ISSUED, _time(issued),
                        currency, tuple(AppliedCredit(n, D(a)) for n, a in applied), reason)
        for number, revision, lines, total, vat, charged, issued, applied, reason in raw["invoices"])
    notes = tuple(
        CreditNote(number, invoice, D(amount), _load_vat(vat), reason, _time(issued), applied_to,
                   tuple(CreditApplication(i, D(a)) for i, a in applications), *_credited(more))
        for number, invoice, amount, vat, reason, issued, applied_to, applications, *more in raw["credit_notes"])
    # A body written before the bill kept its unbilled units has none: None (see `OrderBilling.unbilled`).
    unbilled = raw.get("unbilled")
    return OrderBilling(order_id, raw["destination_country"], BillingHistory(ref, currency, invoices, notes),
                        tuple(raw["landed_costs"]), version,
                        None if unbilled is None else tuple((lid, a, b) for lid, a, b in unbilled))


def _credited(more: list[Any]) -> tuple[tuple[tuple[str, int, int], ...], tuple[tuple[str, Decimal], ...]]:
    """A credit note's units and parts (none in a body written before credit notes named them)."""
    units, parts = more if more else ([], [])
    return tuple((lid, a, b) for lid, a, b in units), tuple((t, D(a)) for t, a in parts)


# Scalar sub-selects in a billing command's lock (the lock statement reads `orders` unaliased, with
# money_with_lock's `seen_version`): the billing row, and who created the order (its first event).
COLUMNS = (
    "(SELECT json_build_array(b.version, b.body) FROM order_billing b WHERE b.order_id = orders.id) "
    "AS held_billing, "
    "(SELECT e.actor FROM events e WHERE e.order_id = orders.id AND e.sequence = 1) AS first_actor"
)


class BillingWithLock:
    """This transaction's bills and first actors that came with an order's lock (or its own save)."""

    __slots__ = ("bills", "first_actors")

    def __init__(self) -> None:
        self.bills: dict[str, OrderBilling | None] = {}       # order id → its stored bill, None: none yet
        self.first_actors: dict[str, str | None] = {}         # order id → the actor of its first event

    def take(self, row: Any) -> None:
        """Keep what a lock statement with `COLUMNS` returned for its order (psycopg decoded the JSON)."""
        self.first_actors[row.id] = row.first_actor   # an event is never changed: any snapshot's will do
        if row.seen_version == row.version:
            held = row.held_billing
            self.bills[row.id] = load_billing(row.id, held[0], held[1]) if held is not None else None
        else:   # the lock waited on a transaction that changed the order: its bill is read anew
            self.bills.pop(row.id, None)


class BillingRepository:
    # Read by every change of a billed order that was not locked with its bill: a hot statement
    # (repositories.py). On PostgreSQL a bill is written with its order (store/folded_write.py).
    _GET = Hot("SELECT order_id, version, body FROM order_billing WHERE order_id = :o")
    _INSERT = sa.text("INSERT INTO order_billing (order_id, seller_id, version, updated_at, body) "
                      "VALUES (:o, :s, :v, :at, :body)")
    _UPDATE = sa.text("UPDATE order_billing SET version = :v, updated_at = :at, body = :body "
                      "WHERE order_id = :o AND seller_id = :s AND version = :expected")
    _ACTORS_OF_ONE = Hot("SELECT sequence, actor FROM events WHERE order_id = :o AND sequence IN (1, :last)")

    def __init__(self, conn: Connection, held: BillingWithLock | None = None,
                 appended: Callable[[], Sequence[Event]] = tuple) -> None:
        """`held`: what a lock brought (`COLUMNS`); `appended()`: the events this transaction appended."""
        self._conn = conn
        self._held = held or BillingWithLock()
        self._appended = appended

    def get(self, order_id: str) -> OrderBilling | None:
        if order_id in self._held.bills:
            return self._held.bills[order_id]
        rows = self._GET.rows(self._conn, {"o": order_id})
        return load_billing(rows[0].order_id, rows[0].version, rows[0].body) if rows else None

    def get_many(self, order_ids: Iterable[str]) -> dict[str, OrderBilling]:
        ids = list(order_ids)
        if not ids:
            return {}
        stmt = sa.text("SELECT order_id, version, body FROM order_billing WHERE order_id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True))
        return {r.order_id: load_billing(r.order_id, r.version, r.body)
                for r in self._conn.execute(stmt, {"ids": ids})}

    def save(self, billing: OrderBilling, *, seller_id: str, now: datetime) -> OrderBilling:
        """Insert (version 0 → 1) or update under the expected version; returns the stored billing."""
        params = {"o": billing.order_id, "s": seller_id, "v": billing.version + 1, "at": now,
                  "body": billing_body(billing), "expected": billing.version}
        if billing.version == 0:
            self._conn.execute(self._INSERT, params)
        elif self._conn.execute(self._UPDATE, params).rowcount != 1:
            raise VersionMismatch(f"the billing of order {billing.order_id} changed meanwhile; retry")
        return self.saved(billing)

    def saved(self, billing: OrderBilling) -> OrderBilling:
        """`billing` as stored by its save (its next version), which this transaction's reads now answer."""
        self._held.bills[billing.order_id] = stored = replace(billing, version=billing.version + 1)
        return stored

    def actors(self, orders: Iterable[Order]) -> dict[str, tuple[str | None, str | None]]:
        """Per order id: the actor of its first event (who created it) and of its last (who changed it last)."""
        if isinstance(orders, Sequence) and len(orders) == 1:  # the view of one changed order
            order = orders[0]
            first, last = self._held.first_actors.get(order.id), self._appended_actor(order)
            if order.id not in self._held.first_actors or last is None:   # a hot statement
                one = {r.sequence: r.actor for r in self._ACTORS_OF_ONE.rows(
                    self._conn, {"o": order.id, "last": order.last_sequence})}
                first, last = one.get(1), last or one.get(order.last_sequence)
            return {order.id: (first, last)}
        wanted = {(o.id, 1) for o in orders} | {(o.id, o.last_sequence) for o in orders}
        if not wanted:
            return {}
        stmt = sa.text("SELECT order_id, sequence, actor FROM events WHERE order_id IN :ids "
                       "AND sequence IN :seqs").bindparams(sa.bindparam("ids", expanding=True),
                                                           sa.bindparam("seqs", expanding=True))
        found: dict[tuple[str, int], str] = {}
        for row in self._conn.execute(stmt, {"ids": sorted({o for o, _ in wanted}),
                                             "seqs": sorted({s for _, s in wanted})}):
            if (row.order_id, row.sequence) in wanted:
                found[row.order_id, row.sequence] = row.actor
        return {o.id: (found.get((o.id, 1)), found.get((o.id, o.last_sequence))) for o in orders}

    def _appended_actor(self, order: Order) -> str | None:
        """The actor of the order's last event, when this transaction appended it."""
        return next((e.actor for e in reversed(self._appended())
                     if e.order_id == order.id and e.sequence == order.last_sequence), None)

    def search_orders(self, seller_id: str | None, *, account_order_number: str | None,
                      statuses: Iterable[str] | None, limit: int,
                      after: tuple[str, str] | None, channel: str | None = None) -> list[Order]:
        """Newest first, keyset-paginated on (created_at, id)."""
        params: dict[str, Any]
        binds: list[sa.BindParameter[Any]]
        clauses, params, binds = [], {"limit": limit}, []
        if seller_id is not None:
            clauses.append("seller_id = :s")
            params["s"] = seller_id
        if channel is not None:
            clauses.append("channel = :ch")
            params["ch"] = channel
        if account_order_number is not None:
            clauses.append("account_order_number = :aon")
            params["aon"] = account_order_number
        if statuses is not None:
            wanted = sorted(statuses)
            if not wanted:  # (an empty expanding IN is typed as integer on PostgreSQL and fails)
                return []  # only statuses kalem never produces were asked for: nothing matches
            clauses.append("status IN :sts")
            params["sts"] = wanted
            binds.append(sa.bindparam("sts", expanding=True))
        if after is not None:
            clauses.append("(created_at < :ac OR (created_at = :ac AND id < :ai))")
            params["ac"], params["ai"] = datetime.fromisoformat(after[0]), after[1]
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        stmt = sa.text("SELECT id, seller_id, order_number, account_order_number, status, version, last_sequence, "
                       f"intake_hash, created_at, updated_at, body, channel FROM orders {where} "
                       "ORDER BY created_at DESC, id DESC LIMIT :limit")
        if binds:
            stmt = stmt.bindparams(*binds)
        return [codec.load_order(r) for r in self._conn.execute(stmt, params)]
