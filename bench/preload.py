"""Bulk-loading orders of any shape (packages in any intake status, a destination country) with COPY,
for benchmarks whose orders differ from `common.load_orders_postgres`'s fixed two-line Created one.

Every order is placed through the domain (`place_order`) and encoded by `codec`, and its rows are the
ones `OrderRepository.add` and `EventRepository.append` write (checked against the repositories for
the first order), so the server reads them exactly as if they had come in through the API. Order ids
are deterministic (`ord_b<25 digits>`), so a wrk script can name an order by its index. Orders differ
only in number, seller and id, so all but a few are filled in from row templates.

Not a benchmark itself (no `main()`): imported by bench/split.py and bench/zonos_graphql.py.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime

import common
from common import log

from kalem.domain.events import Actor
from kalem.domain.orders import OrderSpec, place_order
from kalem.store import codec

ORDER_COLUMNS = ("id, seller_id, order_number, account_order_number, status, version, last_sequence, "
                 "intake_hash, created_at, updated_at, body, channel")
EVENT_COLUMNS = "id, order_id, seller_id, sequence, type, occurred_at, actor, data"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def order_id(i: int) -> str:
    """26 characters after the prefix, like `kalem.app.ids.new_id`; the GraphQL id is `order_b<…>`."""
    return f"ord_b{i:025d}"


def intake_hash(spec: OrderSpec) -> str:
    """As `kalem.app.orders.place_order` computes it (an absent destination is left out)."""
    fields = asdict(spec)
    if fields.get("destination_country") is None:
        fields.pop("destination_country", None)
    return hashlib.sha256(codec.dumps(fields).encode()).hexdigest()


def _copy_line(values: list[object]) -> str:
    out = []
    for v in values:
        if v is None:
            out.append("\\N")
        else:
            out.append((v.isoformat() if isinstance(v, datetime) else str(v)).translate(_ESCAPES))
    return "\t".join(out) + "\n"


def _rows(spec: OrderSpec, oid: str, now: datetime) -> tuple[str, list[str], str]:
    order, events = place_order(spec, order_id=oid, actor=Actor("operator", "bench"), now=now)
    (event,) = events
    order_row = _copy_line([order.id, order.seller_id, order.order_number, order.account_order_number,
                            order.status.value, order.version, order.last_sequence, intake_hash(spec),
                            order.created_at, order.updated_at, codec.order_body(order), order.channel])
    line_rows = [_copy_line([order.seller_id, ln.line_id, order.id]) for ln in order.lines]
    event_row = _copy_line([uuid.uuid4().hex, event.order_id, event.seller_id, event.sequence, event.type,
                            event.occurred_at, event.actor, codec.dumps(event.data)])
    return order_row, line_rows, event_row


def _check_against_repositories(url: str, spec: OrderSpec, now: datetime) -> None:
    """Place one order through the real repositories in a scratch transaction (rolled back): it must
    touch exactly the tables the COPY path fills, and write the same orders row. A change to what
    taking in an order writes fails here rather than loading orders the server reads differently."""
    import sqlalchemy as sa

    from kalem.bootstrap.platforms import metadata
    from kalem.store.db import Database
    from kalem.store.uow import UnitOfWork
    oid = "ord_check"
    expected = _rows(spec, oid, now)[0].split("\t")
    db = Database.connect(url)
    try:
        uow = UnitOfWork(db)
        with uow:  # left without commit: rolled back
            conn = uow._conn  # noqa: SLF001 - a scratch look at what the repositories wrote

            def counts() -> dict[str, int]:
                return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                        for t in metadata().sorted_tables}
            before = counts()
            order, events = place_order(spec, order_id=oid, actor=Actor("operator", "bench"), now=now)
            uow.sellers.ensure(order.seller_id, now)
            uow.orders.add(order, intake_hash(spec))
            uow.events.append(events)
            grew = {name: n - before[name] for name, n in counts().items() if n != before[name]}
            row = conn.execute(sa.text(f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = :id"), {"id": oid}).one()
    finally:
        db.dispose()
    # Rows the database's own triggers add for a new order (its serial; its channel's number, on the
    # channel's first order) are added for the copied orders too: COPY fires the same triggers.
    by_triggers = {"order_serials": 1, "channel_numbers": 1}
    mine = {name: n for name, n in grew.items() if not (name in by_triggers and n <= by_triggers[name])}
    if mine != {"sellers": 1, "orders": 1, "order_lines": len(order.lines), "events": 1}:
        raise RuntimeError(f"taking in an order now writes {grew}; bench/preload.py writes only "
                           f"sellers, orders, order_lines and events (and what their triggers add)")
    got = [str(v) if not isinstance(v, datetime) else v.astimezone(UTC).isoformat() for v in row]
    if got[10:] != [v.rstrip("\n") for v in expected[10:]] or got[:7] != expected[:7]:
        raise RuntimeError("bench/preload.py writes a different orders row than OrderRepository.add")


_N, _S, _ID, _EID, _HASH = "@N@", "@S@", "@ID@", "@EID@", "@HASH@"


def _fill(template: str, number: str, seller: str, oid: str) -> str:
    return template.replace(_N, number).replace(_S, seller).replace(_ID, oid)


class _Templates:
    """The rows of one order placed with placeholders for its number, seller and id: the orders of a
    load differ only in those, so each further order is a few string replacements and one hash, not a
    trip through the domain. Checked against the full path (`_rows`) before use."""

    def __init__(self, spec_of: Callable[[str, str], OrderSpec], now: datetime) -> None:
        self.spec_of, self.now = spec_of, now
        order_row, self.lines, event_row = _rows(spec_of(_N, _S), _ID, now)
        fields = order_row.split("\t")
        fields[7] = _HASH
        self.order = "\t".join(fields)
        self.event = _EID + event_row[event_row.index("\t"):]
        fields = asdict(spec_of(_N, _S))
        if fields.get("destination_country") is None:
            fields.pop("destination_country", None)
        self.intake = codec.dumps(fields)

    def rows(self, i: int, sellers: int) -> tuple[str, list[str], str]:
        number, seller, oid = common.order_number(i), common.seller_of(i, sellers), order_id(i)
        digest = hashlib.sha256(_fill(self.intake, number, seller, oid).encode()).hexdigest()
        return (_fill(self.order, number, seller, oid).replace(_HASH, digest),
                [_fill(x, number, seller, oid) for x in self.lines],
                _fill(self.event, number, seller, oid).replace(_EID, uuid.uuid4().hex))

    def check(self, i: int, sellers: int) -> None:
        number, seller = common.order_number(i), common.seller_of(i, sellers)
        want_order, want_lines, want_event = _rows(self.spec_of(number, seller), order_id(i), self.now)
        got_order, got_lines, got_event = self.rows(i, sellers)
        if (got_order, got_lines, got_event.split("\t", 1)[1]) != (want_order, want_lines,
                                                                 want_event.split("\t", 1)[1]):
            raise RuntimeError("bench/preload.py: the row templates differ from the domain's encoding")


def load(url: str, count: int, spec_of: Callable[[str, str], OrderSpec], *, sellers: int = 100,
         batch: int = 50_000) -> float:
    """COPY `count` orders, order i being `spec_of(order_number(i), seller_of(i))` with id `order_id(i)`;
    returns seconds taken."""
    import psycopg
    started = time.perf_counter()
    now = datetime.now(UTC)
    _check_against_repositories(url, spec_of(common.order_number(0), common.seller_of(0, sellers)), now)
    templates = _Templates(spec_of, now)
    for i in (0, 7, count - 1):
        templates.check(i, sellers)
    with psycopg.connect(common.libpq_url(url), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")  # the load only; the benchmark commits durably
        with conn.transaction(), conn.cursor() as cur, cur.copy("COPY sellers (id, created_at) FROM STDIN") as cp:
            for s in range(sellers):
                cp.write(f"{common.seller_of(s, sellers)}\t{now.isoformat()}\n")
        for start in range(0, count, batch):
            orders, lines, events = [], [], []
            for i in range(start, min(count, start + batch)):
                order_row, line_rows, event_row = templates.rows(i, sellers)
                orders.append(order_row)
                lines.extend(line_rows)
                events.append(event_row)
            with conn.transaction(), conn.cursor() as cur:
                for sql, rows in ((f"COPY orders ({ORDER_COLUMNS}) FROM STDIN", orders),
                                  ("COPY order_lines (seller_id, line_id, order_id) FROM STDIN", lines),
                                  (f"COPY events ({EVENT_COLUMNS}) FROM STDIN", events)):
                    with cur.copy(sql) as cp:
                        for k in range(0, len(rows), 5000):
                            cp.write("".join(rows[k:k + 5000]))
        log(f"loaded {count:,} orders ({time.perf_counter() - started:.0f} s)")
        for table in ("orders", "order_lines", "events"):
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.execute("CHECKPOINT")  # the measured window does not pay for the load's dirty pages
    return time.perf_counter() - started
