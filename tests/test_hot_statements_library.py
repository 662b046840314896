"""The hot path's statements (src/kalem/store/hot.py) run on psycopg's own cursor on PostgreSQL, doing
what SQLAlchemy's `Connection.execute` of the same `text()` would do; these tests fail when
SQLAlchemy's behaviour, or the internals hot.py reaches for, change underneath it.

What hot.py relies on:

- the SQL SQLAlchemy sends psycopg for a `text()`: each `:name` written `%(name)s` (psycopg's
  `pyformat` style) and nothing else changed — hot.py rewrites the text itself;
- the parameters SQLAlchemy sends: the caller's own values, untouched (the binds of a `text()` have
  no type, so nothing processes them), one `execute` for a dict or a list of one, `executemany`
  for a longer list;
- what it answers: the driver's rows (hot.py reads them as psycopg's named tuples, by column name)
  and the cursor's `rowcount`;
- on a driver error, `Connection._handle_dbapi_exception(e, statement, parameters, cursor, context)`:
  SQLAlchemy's own wrapping (the same exception class, message, statement and parameters as
  `execute` raises) and, on a lost connection, invalidating it and the pool's older connections;
- `Connection.connection.driver_connection` (the psycopg connection inside the unit of work's
  transaction), its `cursor(row_factory=...)` and `Error`.

On SQLite a `Hot` is SQLAlchemy's `execute` of its `text()`: nothing is bypassed there.
"""

from __future__ import annotations

import ast
import gc
import importlib
import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Connection

from kalem.store import on_loop
from kalem.store.db import Database
from kalem.store.hot import Hot
from kalem.store.on_loop import wait
from kalem.store.repositories import OrderRepository
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, Server, empty
from tests.dialects.test_zonos import LINE, UPDATE, gql, place, seed_order, zid
from tests.support import on_own_loop, order

SRC = Path(__file__).resolve().parents[1] / "src"
PSYCOPG = PGDialect_psycopg()
ENDED = "SELECT pg_terminate_backend(pg_backend_pid()) WHERE 1 = :one"   # the server ends the connection


def every_hot_statement() -> list[Hot]:
    """Each `Hot` kalem builds: those of every module that uses hot.py, and the order repository's,
    which it builds on first use."""
    for path in (SRC / "kalem").rglob("*.py"):
        tree = ast.parse(path.read_text())
        if any(isinstance(node, ast.ImportFrom) and node.module == "kalem.store.hot" for node in ast.walk(tree)):
            importlib.import_module(".".join(path.relative_to(SRC).with_suffix("").parts))
    for lock_rows in (False, True):
        for row_lock in (False, True):
            OrderRepository(None, lock_rows=lock_rows, row_lock=row_lock)
    found = {id(o): o for o in gc.get_objects() if isinstance(o, Hot)}
    return sorted(found.values(), key=lambda statement: statement.text.text)


def test_every_hot_statement_is_the_sql_sqlalchemy_sends_psycopg():
    statements = every_hot_statement()
    assert len(statements) >= 14
    for statement in statements:
        compiled = statement.text.compile(dialect=PSYCOPG)
        assert statement._pg == compiled.string, statement.text.text
        assert PSYCOPG.paramstyle == "pyformat" and compiled.positiontup is None


@pytest.mark.parametrize("sql", [
    "SELECT a FROM t WHERE a = :a AND b_2 = :b_2",
    "INSERT INTO t (a, b) VALUES (:a,:b)",
    "SELECT pg_current_xact_id()::text::bigint, :x",
    "SELECT x FROM t WHERE s IN (1, :last)\n  AND y = :y\tFOR UPDATE",
    "UPDATE t SET v = :v WHERE id = :id AND v = :expected",
    "SELECT ':not_a_bind' WHERE 1 = :one",
])
def test_hot_writes_binds_as_sqlalchemy_does(sql):
    """The SQL shapes kalem's statements are written in, rewritten by hot.py as SQLAlchemy compiles them."""
    assert Hot(sql)._pg == sa.text(sql).compile(dialect=PSYCOPG).string


class Shadow:
    """Runs every `Hot` statement on PostgreSQL twice in its own transaction: SQLAlchemy's `execute` of
    its `text()` in a savepoint rolled back, noting what SQLAlchemy hands psycopg, then hot.py's own
    way. Whatever differs is noted (the statements run in the server's threads too)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.differences: list[Any] = []
        self.compared: dict[str, set[str]] = {}
        self.many = 0
        self._sent = threading.local()
        self._rows, self._run = Hot.rows, Hot.run
        monkeypatch.setattr(Hot, "rows", self._shadowed("rows"))
        monkeypatch.setattr(Hot, "run", self._shadowed("run"))

    @contextmanager
    def listening(self, db: Database) -> Iterator[None]:
        """On both engines: the thread pool's, and the event loop's the hot writes run on by default."""
        def sent(conn: Connection, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
            noted = getattr(self._sent, "noted", None)
            if noted is not None and noted[0] is conn:
                noted[1].append((statement, parameters, many))
        engines = [e for e in (db.engine, db.loop_engine) if e is not None]
        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", sent)
        try:
            yield
        finally:
            for engine in engines:
                sa.event.remove(engine, "before_cursor_execute", sent)

    def _shadowed(self, way: str) -> Any:
        ours = self._rows if way == "rows" else self._run

        def shadowed(statement: Hot, conn: Connection, params: Any) -> Any:
            if conn.dialect.name != "postgresql":
                return ours(statement, conn, params)
            sent: list[Any] = []
            driver = conn.connection.driver_connection
            autocommit = driver.autocommit   # an optimistic unit of work's (store/uow.py): no transaction
            if autocommit:
                wait(driver.set_autocommit(False))   # the library's run in a transaction of the shadow's own
            savepoint = conn.begin_nested()
            self._sent.noted = (conn, sent)
            try:
                result = conn.execute(statement.text, params)
                library = _answer(result.all()) if way == "rows" else result.rowcount
            finally:
                self._sent.noted = None
                savepoint.rollback()
                if autocommit:
                    conn.rollback()
                    wait(driver.set_autocommit(True))
            answer = ours(statement, conn, params)
            mine = _answer(answer) if way == "rows" else answer
            single = params[0] if isinstance(params, list) and len(params) == 1 else params
            if sent != [(statement._pg, _bound(statement, single), isinstance(single, list))] \
                    or not _same_values(sent[0][1], _bound(statement, single)) or library != mine:
                self.differences.append((statement.text.text, params, sent, library, mine))
            self.compared.setdefault(way, set()).add(statement.text.text)
            self.many += isinstance(single, list)
            return answer
        return shadowed


def _answer(rows: Any) -> list[tuple[tuple[str, ...], list[tuple[type, Any]]]]:
    """Rows as their column names and typed values: SQLAlchemy's `Row`s and psycopg's named tuples alike."""
    return [(tuple(row._fields), [(type(v), v) for v in row]) for row in rows]


def _bound(statement: Hot, params: Any) -> Any:
    """The parameters SQLAlchemy hands the driver: the caller's, those the statement names (psycopg,
    given them all, reads no others)."""
    names = statement.text.compile(dialect=PSYCOPG).binds.keys()
    if isinstance(params, list):
        return [_bound(statement, p) for p in params]
    return {name: params[name] for name in names}


def _same_values(handed: Any, given: Any) -> bool:
    """SQLAlchemy handed psycopg the caller's very values (not converted copies)."""
    if isinstance(given, list):
        return len(handed) == len(given) and all(map(_same_values, handed, given))
    return handed.keys() == given.keys() and all(handed[k] is given[k] for k in given)


@pytest.fixture
def postgres_server(servers: dict[str, Server]) -> Server:
    chosen = servers["postgresql"]
    empty(chosen.db)
    return chosen


def test_the_hot_writes_answer_as_sqlalchemys_execute(postgres_server, monkeypatch):
    shadow = Shadow(monkeypatch)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with shadow.listening(postgres_server.db), \
            httpx.Client(base_url=postgres_server.url, headers=headers, timeout=30) as api:
        assert api.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1:9/hook",
                                                           "event_types": ["*"]}).status_code == 201
        assert api.post("/v1/orders", json=order("4000000951")).status_code == 201
        batch = api.post("/v1/orders/batch", json={"orders": [order("4000000952"), order("4000000953")]})
        assert [r["status"] for r in batch.json()["results"]] == [201, 201]   # several orders and events at once
        asked = api.post("/v1/cancel-requests", json={   # locked (the request's own row), by number alone
            "order_number": "4000000952", "lines": [{"line_id": "item000952", "quantity": 1, "reason_id": 136}]})
        assert asked.status_code == 201
        cancel = {"lines": [{"line_id": "item000951", "quantity": 1, "reason_id": 136, "note": "çok ✓"}]}
        assert api.post("/v1/orders/4000000951/cancellations", json=cancel).status_code == 200
        assert api.post("/v1/orders/4000000951/cancellations", json=cancel,
                        headers={"If-Match": 'W/"1"'}).status_code == 412   # a stale version: nothing updated
        assert api.post("/v1/orders/4000000951/cancellations?seller_id=acme", json=cancel).status_code == 200
        assert api.post("/v1/cancel-requests", headers={"Idempotency-Key": "k-953"}, json={
            "order_number": "4000000953", "seller_id": "acme",   # keyed and locked: the claim, the lock, the answer
            "lines": [{"line_id": "item000953", "quantity": 1, "reason_id": 136}]}).status_code == 201
        assert api.post("/v1/orders", json=order("4000000954"), headers={"Idempotency-Key": "k-954"}
                        ).status_code == 201   # keyed, as a compare-and-swap: the key in the new order's statement
        split = {"packages": [{"items": [{"line_id": "item000951", "quantity": 1}]}]}
        assert api.post("/v1/orders/4000000951/packages/BB_pid000951/split", json=split).status_code == 200
        assert api.post("/v1/orders/4000000951/cancellations-with-refund", json={
            "lines": [{"line_id": "item000951", "quantity": 1, "reason_id": 136}]}).status_code == 201
        for _ in range(2):   # an Idempotency-Key stored with the order's write, then its answer replayed
            keyed = api.post("/v1/orders/4000000952/cancellations", headers={"Idempotency-Key": "k-952"}, json={
                "lines": [{"line_id": "item000952", "quantity": 1, "reason_id": 136}]})
            assert keyed.status_code == 200, keyed.text
            keyed = api.post("/v1/orders/4000000952/cancellations?seller_id=acme",   # the key read with the order
                             headers={"Idempotency-Key": "k-952-acme"},             # by number and seller
                             json={"lines": [{"line_id": "item000952", "quantity": 1, "reason_id": 136}]})
            assert keyed.status_code == 200, keyed.text
        assert api.post("/v1/orders/4000009999/cancellations", headers={"Idempotency-Key": "k-none"}, json={
            "lines": [{"line_id": "item009999", "quantity": 1, "reason_id": 136}]}
                        ).status_code == 404   # no order row to carry the key: it is read on its own
        assert api.post(f"/v1/cancel-requests/{asked.json()['id']}/approve").status_code == 200   # locked by id
        zonos = place(api, seed_order(quantity=4))   # billed: its landed cost and invoice follow each change
        for _ in range(2):   # the billing written, then changed: read and written with the order
            assert "errors" not in gql(api, UPDATE, orderId=zid(zonos), itemId=f"item_{LINE}", quantity=1)
        assert api.post(f"/v1/orders/{zonos['order_number']}/cancellations", json={   # its bill read on its own
            "lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}).status_code == 200
        assert "errors" not in gql(api, "mutation($id: ID!) { orderCancel(id: $id) { id } }",   # locked, with
                                   id=zid(zonos))                                             # its bill
        assert "errors" not in gql(api, "query($id: ID!) { order(orderId: $id) { id } }", id=zid(zonos))
        assert api.get("/v1/orders/4000000951").status_code == 200
        assert api.get("/v1/orders/4000000951?seller_id=acme").status_code == 200
    own = Database.connect(postgres_server.settings.database_url, pool_size=1)   # its own event loop's
    try:
        with shadow.listening(own):
            def unlocked_reads() -> None:   # an optimistic unit of work's (store/uow.py), by number and by id
                with UnitOfWork(own, optimistic=True) as uow:
                    found = uow.orders.get("4000000951", None, for_update=True)
                    uow.orders.get_by_id(found.id, for_update=True)
            on_own_loop(lambda: on_loop.run(unlocked_reads))
    finally:
        own.dispose()
    assert shadow.differences == []
    # Every hot statement kalem has was among them (a new one wants a request above that runs it).
    assert shadow.compared["rows"] | shadow.compared["run"] == {s.text.text for s in every_hot_statement()}
    assert shadow.many   # the insert of several orders and events at once (a batch), with psycopg's executemany


@pytest.fixture
def own_engine(postgres: str) -> Iterator[Database]:
    """A database of the test's own: its pool is invalidated on purpose."""
    db = Database.connect(postgres, pool_size=3)
    try:
        yield db
    finally:
        db.dispose()


def _raised(call: Any) -> BaseException:
    with pytest.raises(sa.exc.DBAPIError) as caught:
        call()
    return caught.value


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(own_engine):
    statements = [("SELECT 1 / :z AS q", {"z": 0}, "rows"),
                  ("INSERT INTO hot_twice (k) VALUES (:k)", [{"k": 1}, {"k": 1}], "run"),
                  ("INSERT INTO hot_twice (k) VALUES (:k)", {"k": None}, "run"),
                  ("SELECT nope FROM hot_twice WHERE k = :k", {"k": 1}, "rows")]
    for sql, params, way in statements:
        answers = []
        for ours in (False, True):
            with own_engine.engine.connect() as conn, conn.begin():
                conn.exec_driver_sql("CREATE TEMPORARY TABLE hot_twice (k int PRIMARY KEY) ON COMMIT DROP")
                if ours:
                    error = _raised(lambda c=conn, s=sql, w=way, p=params: getattr(Hot(s), w)(c, p))
                else:
                    error = _raised(lambda c=conn, s=sql, p=params: c.execute(sa.text(s), p))
                answers.append((type(error), type(error.orig), str(error), error.statement, error.params,
                                error.connection_invalidated, conn.invalidated, conn.in_transaction()))
        assert answers[0] == answers[1], sql


def test_a_lost_connection_is_invalidated_with_the_pool_as_sqlalchemy_does(postgres):
    """The server ends the connection under a statement: SQLAlchemy raises OperationalError marked
    invalidated, drops the connection and every pooled one opened before it."""
    answers = []
    for ours in (False, True):
        db = Database.connect(postgres, pool_size=2)   # a pool of the test's own
        try:
            with db.engine.connect() as conn:
                with db.engine.connect() as idle:   # left in the pool, older than the failure
                    idle_pid = idle.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                if ours:
                    error = _raised(lambda c=conn: Hot(ENDED).rows(c, {"one": 1}))
                else:
                    error = _raised(lambda c=conn: c.execute(sa.text(ENDED), {"one": 1}))
                answers.append((type(error), type(error.orig), error.statement, error.connection_invalidated,
                                conn.invalidated))
            with db.engine.connect() as again:   # the idle one's place: reconnected, not handed out dead
                answers.append(again.exec_driver_sql("SELECT pg_backend_pid()").scalar() != idle_pid)
        finally:
            db.dispose()
    assert answers[0:2] == answers[2:4]
    assert answers[0][0] is sa.exc.OperationalError and issubclass(answers[0][1], psycopg.OperationalError)
    assert answers[0][3:] == (True, True) and answers[1] is True


def test_the_internals_hot_reaches_for_are_where_it_reaches_for_them(own_engine):
    handle = inspect.signature(Connection._handle_dbapi_exception)
    assert list(handle.parameters)[:6] == ["self", "e", "statement", "parameters", "cursor", "context"]
    with own_engine.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection) and driver.Error is psycopg.Error
        assert "row_factory" in inspect.signature(driver.cursor).parameters
        with driver.cursor(row_factory=namedtuple_row) as cur:
            cur.execute("SELECT 1 AS one, 'x' AS seller_id")
            assert cur.fetchall()[0].seller_id == "x"
