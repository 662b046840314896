"""A direct cancel, a cancel with refund, an intake and Zonos' orderItemUpdate without an `Idempotency-Key`,
on PostgreSQL's event loop, are a compare-and-swap (store/uow.py): the read takes no row lock, the one write is at the
version read, in autocommit. An order that moved between the two is read again; a use case that would
write more runs locked."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.responses import Response

from kalem.api.idempotency import Idempotency, fingerprint
from kalem.api.schemas import CancellationIn
from kalem.app.cancellation import CancelLines, cancel_lines
from kalem.app.principals import Principal
from kalem.app.transaction import OrderTransaction
from kalem.domain.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from kalem.domain.orders import CancelItem
from kalem.domain.orders import cancel_lines as domain_cancel
from kalem.store import on_loop
from kalem.store.db import Database
from kalem.store.on_loop import wait
from kalem.store.optimistic import ATTEMPTS, NotFoldable, OptimisticConflict
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, Server, empty
from tests.dialects import test_zonos as zonos
from tests.support import LOOP_THREAD, on_own_loop, order

NUMBER = "4000000951"
TOUCH = sa.text("UPDATE orders SET version = version WHERE false")   # a write that changes nothing
LINE = "item000951"
OPERATOR = Principal("operator", "admin")


@pytest.fixture
def pg(servers: dict[str, Server]) -> Iterator[tuple[Database, httpx.Client]]:
    """A Database of its own (its async connections belong to this test's event loop) on the suite's
    PostgreSQL, with one order placed through the served API."""
    server = servers["postgresql"]
    empty(server.db)
    db = Database.connect(server.settings.database_url, pool_size=1)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as api:
        assert api.post("/v1/orders", json=order(NUMBER)).status_code == 201
        try:
            yield db, api
        finally:
            db.dispose()


def on_the_loop(fn: Callable[[], Any]) -> Any:
    return on_own_loop(lambda: on_loop.run(fn))


def cancel(quantity: int = 1) -> CancelLines:
    return CancelLines(NUMBER, (CancelItem(LINE, quantity, 136),), OPERATOR)


def cancelled(api: Any) -> int:
    return int(api.get(f"/v1/orders/{NUMBER}").json()["lines"][0]["cancelled_quantity"])


def test_an_order_that_moved_between_the_read_and_the_write_is_not_written(pg):
    db, api = pg

    def moved_meanwhile() -> None:
        uow = UnitOfWork(db, optimistic=True)
        with OrderTransaction(uow) as tx:
            read = tx.lock(NUMBER, OPERATOR)
            assert uow._conn.connection.driver_connection.autocommit is True   # no BEGIN, no row lock
            assert api.post(f"/v1/orders/{NUMBER}/cancellations",   # another request, committed
                            json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}).status_code == 200
            changed, events = domain_cancel(read, cancel(2).items, actor=OPERATOR.actor, now=uow.now())
            tx.save(changed, events)   # held until the commit, the one write
            with pytest.raises(OptimisticConflict):
                tx.commit(changed)

    on_the_loop(moved_meanwhile)
    assert cancelled(api) == 1   # the other request's unit, and nothing of the swap that lost
    events = [e["type"] for e in api.get(f"/v1/orders/{NUMBER}/events").json()["data"]]
    assert events.count("lines.cancelled") == 1


def test_the_connection_goes_back_to_the_pool_out_of_autocommit(pg):
    db, api = pg

    def swap_then_lock() -> bool:
        cancel_lines(UnitOfWork(db, optimistic=True), cancel())
        with UnitOfWork(db) as uow:   # the pool's one connection, again
            return bool(uow._conn.connection.driver_connection.autocommit)

    assert on_the_loop(swap_then_lock) is False
    assert cancelled(api) == 1


def test_a_connection_it_cannot_reset_is_not_pooled(pg):
    db, _ = pg

    def left_in_a_transaction() -> tuple[int, int, bool]:
        with UnitOfWork(db, optimistic=True) as uow:
            driver = uow._conn.connection.driver_connection
            wait(driver.execute("BEGIN"))   # a state the unit of work's reset refuses
            first = driver.info.backend_pid
        with UnitOfWork(db) as uow:   # the pool's one connection: a new one
            driver = uow._conn.connection.driver_connection
            return first, driver.info.backend_pid, driver.autocommit

    first, second, autocommit = on_the_loop(left_in_a_transaction)
    assert first != second and autocommit is False


def test_a_second_save_is_refused_before_anything_more_is_written(pg):
    db, api = pg

    def refused() -> None:
        uow = UnitOfWork(db, optimistic=True)
        with OrderTransaction(uow) as tx:
            read = tx.lock(NUMBER, OPERATOR)
            changed, events = domain_cancel(read, cancel().items, actor=OPERATOR.actor, now=uow.now())
            tx.save(changed, events)
            changed, events = domain_cancel(changed, cancel().items, actor=OPERATOR.actor, now=uow.now())
            with pytest.raises(NotFoldable):
                tx.save(changed, events)

    on_the_loop(refused)
    assert cancelled(api) == 0


def test_a_commit_hook_runs_before_the_write_and_may_not_write(pg):
    db, api = pg
    seen: list[int] = []

    def hooked(writes: bool) -> None:
        uow = UnitOfWork(db, optimistic=True)
        with OrderTransaction(uow) as tx:
            read = tx.lock(NUMBER, OPERATOR)

            def hook(result: object) -> None:
                seen.append(cancelled(api))   # the write is held until the hooks have run
                if writes:
                    uow.idempotency.claim_or_wait("operator:admin", "k-953", "print", uow.now(), uow.now())
            uow.before_commit(hook)
            changed, events = domain_cancel(read, cancel().items, actor=OPERATOR.actor, now=uow.now())
            tx.save(changed, events)
            if writes:
                with pytest.raises(NotFoldable):
                    tx.commit(changed)
            else:
                tx.commit(changed)

    on_the_loop(lambda: hooked(writes=True))
    assert seen == [0] and cancelled(api) == 0
    on_the_loop(lambda: hooked(writes=False))
    assert seen == [0, 0] and cancelled(api) == 1


@pytest.mark.parametrize("way", ["through SQLAlchemy", "a Hot write"])
def test_a_statement_besides_its_write_is_refused_before_it_is_sent(pg, way):
    db, api = pg

    def refused() -> None:
        with UnitOfWork(db, optimistic=True) as uow, pytest.raises(NotFoldable):
            if way == "through SQLAlchemy":
                uow._conn.execute(sa.text("UPDATE orders SET version = version + 1"))
            else:   # the key's claim, a `Hot` write
                uow.idempotency.claim_or_wait("operator:admin", "k-951", "print", uow.now(), uow.now())

    on_the_loop(refused)
    assert api.get(f"/v1/orders/{NUMBER}").json()["version"] == 1
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM idempotency_keys")).scalar_one() == 0


def test_a_statement_after_the_save_is_refused_before_the_write_and_runs_locked(pg):
    """The save is held until the commit: a statement after it is refused before anything is written,
    and the use case runs once more, locked."""
    db, api = pg
    runs: list[bool] = []

    def saved_then_more(uow: UnitOfWork) -> Any:
        with OrderTransaction(uow) as tx:
            runs.append(uow.optimistic)
            read = tx.lock(NUMBER, OPERATOR)
            changed, events = domain_cancel(read, cancel().items, actor=OPERATOR.actor, now=uow.now())
            tx.save(changed, events)
            uow._conn.execute(TOUCH)   # a write: refused in autocommit; a locked run sends it
            return tx.commit(changed)

    idempotency = Idempotency(lambda **kw: UnitOfWork(db, **kw), lease_seconds=60)
    on_the_loop(lambda: idempotency.run(None, OPERATOR, None, saved_then_more, lambda r: (200, {}), optimistic=True))
    assert runs == [True, False]
    assert cancelled(api) == 1   # once


def test_a_refusal_after_the_write_is_an_error_not_a_second_run(pg):
    db, api = pg

    def written_then_more(uow: UnitOfWork) -> Any:
        with OrderTransaction(uow) as tx:
            read = tx.lock(NUMBER, OPERATOR)
            changed, events = domain_cancel(read, cancel().items, actor=OPERATOR.actor, now=uow.now())
            tx.save(changed, events)
            tx.commit(changed)   # written, and committed by itself
            uow._conn.execute(TOUCH)   # refused: more, after the write
            return changed

    idempotency = Idempotency(lambda **kw: UnitOfWork(db, **kw), lease_seconds=60)
    with pytest.raises(RuntimeError, match="after its write"):
        on_the_loop(lambda: idempotency.run(None, OPERATOR, None, written_then_more, lambda r: (200, {}),
                                            optimistic=True))
    assert cancelled(api) == 1   # once: never run again, locked


def test_optimistic_is_locked_where_it_does_not_apply(db):
    """SQLite, or off the event loop: a locked transaction whatever was asked."""
    uow = UnitOfWork(db, optimistic=True)
    with uow:
        assert uow._optimistic is False


class _Runs:
    """A use case that raises what it is given, run after run, and records how it was run."""

    def __init__(self, *raising: type[Exception]) -> None:
        self.raising = list(raising)
        self.optimistic: list[bool] = []

    def __call__(self, uow: UnitOfWork) -> str:
        self.optimistic.append(uow._asked_optimistic)
        if self.raising:
            raise self.raising.pop(0)("moved")
        return "done"


@pytest.mark.parametrize(("raising", "runs"), [
    ((), [True]),
    ((OptimisticConflict,), [True, True]),
    ((OptimisticConflict,) * ATTEMPTS, [True] * ATTEMPTS + [False]),
    ((NotFoldable,), [True, False]),
])
def test_a_conflict_runs_the_use_case_again_and_at_last_locked(servers, raising, runs):
    idempotency = Idempotency(lambda **kw: UnitOfWork(servers["postgresql"].db, **kw), lease_seconds=60)
    use_case = _Runs(*raising)
    response = idempotency.run(None, OPERATOR, None, use_case, lambda result: (200, {"result": result}),
                               optimistic=True)
    assert response.body == b'{"result":"done"}'
    assert use_case.optimistic == runs


# --- the other writes of one order's one statement: an intake, a cancel with refund -------------------
TWIN = "4000000952"


def _place(number: str) -> Any:
    from kalem.api.order_spec import spec_of
    from kalem.api.schemas import OrderIn
    from kalem.app.orders import PlaceOrder, place_order
    cmd = PlaceOrder(spec_of(OrderIn.model_validate(order(number))), OPERATOR)
    return lambda uow: place_order(uow, cmd)


def test_an_intake_that_a_twin_beat_to_its_number_writes_nothing_and_answers_as_the_twin(pg, monkeypatch):
    """Two intakes of one order at once: the one whose statement meets the other's committed number fails
    that one statement (nothing written) and, run again, finds the same order: 200, not 409."""
    import kalem.app.orders as app_orders
    db, api = pg
    taken_in, runs = app_orders.taken_in, []

    def twin_first(*args: Any) -> Any:
        if threading.current_thread().name.startswith(LOOP_THREAD):   # not the suite's server's thread
            runs.append(args)
            if len(runs) == 1:   # after this intake's look-up, before its write
                assert api.post("/v1/orders", json=order(TWIN)).status_code == 201
        return taken_in(*args)

    monkeypatch.setattr(app_orders, "taken_in", twin_first)
    idempotency = Idempotency(lambda **kw: UnitOfWork(db, **kw), lease_seconds=60)
    response = on_the_loop(lambda: idempotency.run(
        None, OPERATOR, None, _place(TWIN), lambda placed: (201 if placed.created else 200, placed.order.id),
        optimistic=True))
    assert response.status_code == 200 and len(runs) == 1   # the second run found it and made nothing
    stored = api.get(f"/v1/orders/{TWIN}").json()
    assert response.body == f'"{stored["id"]}"'.encode()
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM orders WHERE order_number = :n"),
                            {"n": TWIN}).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM events e JOIN orders o ON o.id = e.order_id "
                                    "WHERE o.order_number = :n"), {"n": TWIN}).scalar_one() == 1


def test_an_intake_is_one_statement_in_autocommit(pg, monkeypatch):
    from kalem.store import folded_write
    db, api = pg
    add, seen = folded_write.add, []

    def watched(conn: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(conn.connection.driver_connection.autocommit)
        add(conn, *args, **kwargs)

    monkeypatch.setattr(folded_write, "add", watched)
    assert on_the_loop(lambda: _place(TWIN)(UnitOfWork(db, optimistic=True))).created
    assert seen == [True]
    assert api.get(f"/v1/orders/{TWIN}").json()["status"] == "open"


def test_a_cancel_with_refund_whose_order_moved_is_read_again_and_refunds_once(pg, monkeypatch):
    """A cancel with refund is the order's one statement with its refund: when the order moved after its
    read, neither the cancel nor the refund is written, and the run again writes both once."""
    import kalem.app.refunds as app_refunds
    from kalem.domain.refunds import payout
    db, api = pg
    account_of, runs = app_refunds.account_of, []

    def moved_first(uow: UnitOfWork, read: Any) -> Any:
        runs.append(uow._conn.connection.driver_connection.autocommit)
        if len(runs) == 1:   # after this request's read, before its write: another cancel commits
            assert api.post(f"/v1/orders/{NUMBER}/cancellations",
                            json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}).status_code == 200
        return account_of(uow, read)

    monkeypatch.setattr(app_refunds, "account_of", moved_first)
    cmd = app_refunds.RefundUnits(NUMBER, OPERATOR, {LINE: 1}, payout("original", None, None),
                                  mode=app_refunds.Mode.CANCEL, reasons={LINE: 136})
    idempotency = Idempotency(lambda **kw: UnitOfWork(db, **kw), lease_seconds=60)
    response = on_the_loop(lambda: idempotency.run(None, OPERATOR, None, lambda uow: app_refunds.refund_units(uow, cmd),
                                                   lambda done: (201, done.refund.id), optimistic=True))
    assert response.status_code == 201 and runs == [True, True]
    assert cancelled(api) == 2
    refunds = {r["id"]: r for r in api.get(f"/v1/orders/{NUMBER}/refunds").json()["data"]}
    ours = refunds.pop(response.body.decode().strip('"'))
    (theirs,) = refunds.values()   # the other cancel's, under the default policy
    assert (ours["on_decision"], theirs["on_decision"]) == (False, True)
    assert ours["lines"] == theirs["lines"] == [{"line_id": LINE, "quantity": 1}]


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each optimistic write the suite's server makes: whether its connection was in autocommit."""
    one_write, seen = UnitOfWork._one_write, []

    def watched(uow: UnitOfWork, *args: Any, **kwargs: Any) -> None:
        one_write(uow, *args, **kwargs)
        seen.append(uow._conn.connection.driver_connection.autocommit)

    monkeypatch.setattr(UnitOfWork, "_one_write", watched)
    return seen


@pytest.mark.parametrize(("path", "body"), [
    (f"/v1/orders/{NUMBER}/cancellations", {"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}),
    (f"/v1/orders/{NUMBER}/cancellations-with-refund", {"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}),
    ("/v1/orders", order(TWIN)),
    (f"/v1/orders/{NUMBER}/packages/BB_pid000951/split", {"packages": [{"items": [{"line_id": LINE, "quantity": 1}]}],
                                                         "cancelled": [{"line_id": LINE, "quantity": 1,
                                                                        "reason_id": 136}]}),
])
def test_the_routes_of_one_statement_write_it_as_a_compare_and_swap(pg, written, path, body):
    """Served on PostgreSQL's event loop without a key, each is an optimistic unit of work's one write
    (a split, with the refund of the units it cancels, is its order's one statement too)."""
    _, api = pg
    assert api.post(path, json=body).status_code in (200, 201)
    assert written == [True]


# --- with an Idempotency-Key: the key read with the order, then stored finished by the write's own statement
KEY = "k-optimistic-951"
BODY = {"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}


def _keyed(db: Database, key: str = KEY) -> Response:
    idempotency = Idempotency(lambda **kw: UnitOfWork(db, **kw), lease_seconds=60)
    return on_the_loop(lambda: idempotency.run(
        key, OPERATOR, ["cancel", BODY], lambda uow: cancel_lines(uow, cancel()),
        lambda changed: (200, {"version": changed.version}), optimistic=True))


def _key_row(db: Database, key: str = KEY) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT state, status_code, response FROM idempotency_keys WHERE key = :k"),
                            {"k": key}).one_or_none()


def test_a_keyed_cancel_stores_its_key_finished_with_its_one_write(pg, written):
    db, api = pg
    first = api.post(f"/v1/orders/{NUMBER}/cancellations", json=BODY, headers={"Idempotency-Key": KEY})
    again = api.post(f"/v1/orders/{NUMBER}/cancellations", json=BODY, headers={"Idempotency-Key": KEY})
    assert first.status_code == again.status_code == 200 and written == [True]   # the replay writes nothing
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content
    assert tuple(_key_row(db)) == ("done", 200, first.text)
    assert cancelled(api) == 1


def test_a_twin_whose_key_is_there_first_is_replayed_and_nothing_of_this_request_is_written(pg, monkeypatch):
    """The key inserted by another request between this one's read and its write: the write's statement
    fails on the key's index, writes nothing, and the run again answers what the twin stored."""
    import kalem.app.cancellation as app_cancellation
    db, api = pg
    decide, runs = app_cancellation.domain.cancel_lines, []

    def twin_first(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name.startswith(LOOP_THREAD):
            runs.append(1)
            if len(runs) == 1:   # after this request's reads: the twin's key, finished, committed
                with db.engine.begin() as conn:
                    conn.execute(sa.text(
                        "INSERT INTO idempotency_keys (principal, key, fingerprint, state, status_code, response, "
                        "locked_until, created_at) VALUES (:p, :k, :f, 'done', 200, :r, now(), now())"),
                        {"p": OPERATOR.key, "k": KEY, "f": fingerprint(["cancel", BODY]), "r": '{"twin":true}'})
        return decide(*args, **kwargs)

    monkeypatch.setattr(app_cancellation.domain, "cancel_lines", twin_first)
    response = _keyed(db)
    assert (response.body, response.headers["Idempotent-Replayed"]) == (b'{"twin":true}', "true")
    assert runs == [1] and cancelled(api) == 0


def test_a_concurrent_duplicate_answers_what_the_first_answered(pg, monkeypatch):
    import kalem.app.cancellation as app_cancellation
    db, api = pg
    decide, twins = app_cancellation.domain.cancel_lines, []

    def twin_first(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name.startswith(LOOP_THREAD) and not twins:
            twins.append(api.post(f"/v1/orders/{NUMBER}/cancellations", json=BODY,
                                  headers={"Idempotency-Key": KEY}))   # the same request, served first
        return decide(*args, **kwargs)

    monkeypatch.setattr(app_cancellation.domain, "cancel_lines", twin_first)
    idempotency = Idempotency(lambda **kw: UnitOfWork(db, **kw), lease_seconds=60)
    response = on_the_loop(lambda: idempotency.run(
        KEY, OPERATOR, [f"POST /v1/orders/{NUMBER}/cancellations",   # the route's own fingerprint
                        CancellationIn.model_validate(BODY).model_dump(mode="json")],
        lambda uow: cancel_lines(uow, cancel()),
        lambda changed: (200, "ours"), optimistic=True))
    assert twins[0].status_code == 200 and "Idempotent-Replayed" not in twins[0].headers
    assert response.headers["Idempotent-Replayed"] == "true" and response.body == twins[0].content
    assert cancelled(api) == 1


def test_a_key_used_with_another_request_is_refused_and_one_still_claimed_runs_locked(pg):
    db, api = pg
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO idempotency_keys (principal, key, fingerprint, state, locked_until, created_at) "
            "VALUES (:p, 'other', 'another request', 'done', now(), now()), "
            "(:p, 'claimed', :f, 'running', now() + interval '1 minute', now())"),
            {"p": OPERATOR.key, "f": fingerprint(["cancel", BODY])})
    with pytest.raises(IdempotencyKeyReused):
        _keyed(db, "other")
    with pytest.raises(IdempotencyKeyInUse):   # the locked path's answer while its lease runs
        _keyed(db, "claimed")
    assert cancelled(api) == 0


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of each statement a unit of work on the test's event loop sends."""
    from kalem.store.hot import Hot
    driver, seen = Hot._driver, []

    def watched(hot: Hot, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name.startswith(LOOP_THREAD):
            seen.append(hot._pg)
        return driver(hot, *args, **kwargs)

    monkeypatch.setattr(Hot, "_driver", watched)
    return seen


def test_a_keyed_cancel_reads_its_key_with_its_order_one_round_trip_for_both(pg, sent):
    """The key's row is a column of the order's read (store/key_check.py): a keyed compare-and-swap sends
    two statements, the read and the write, as one without a key does; its replay only the read."""
    db, api = pg
    first = _keyed(db)
    read, write = sent
    assert "AS answer_key" in read and read.startswith("SELECT") and write.startswith("WITH saved AS")
    sent.clear()
    again = _keyed(db)
    assert [s.startswith("SELECT") and "AS answer_key" in s for s in sent] == [True]
    assert (again.body, again.headers["Idempotent-Replayed"]) == (first.body, "true")
    assert cancelled(api) == 1


def test_a_keyed_intake_reads_its_key_with_its_look_up(pg, sent):
    """The intake's one look-up carries the key too: two statements, the look-up and the insert; its
    replay only the look-up."""
    db, api = pg
    idempotency = Idempotency(lambda **kw: UnitOfWork(db, **kw), lease_seconds=60)

    def keyed() -> Response:
        return on_the_loop(lambda: idempotency.run(KEY, OPERATOR, ["intake", TWIN], _place(TWIN),
                                                   lambda placed: (201, placed.order.id), optimistic=True))

    first = keyed()
    look, insert = sent
    assert "AS answer_key" in look and "AS seller_known" in look and insert.startswith("WITH seller AS")
    sent.clear()
    again = keyed()
    assert [("AS answer_key" in s and "AS seller_known" in s) for s in sent] == [True]
    assert (again.status_code, again.body, again.headers["Idempotent-Replayed"]) == (201, first.body, "true")
    assert api.get(f"/v1/orders/{TWIN}").json()["id"] == first.body.decode().strip('"')


def test_a_key_used_with_another_request_is_refused_before_its_order_is_found_missing(pg):
    """No order row to carry the key: it is read on its own, and its refusal comes first, as it did when
    every key was read before the order."""
    db, api = pg
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO idempotency_keys (principal, key, fingerprint, state, locked_until, "
                             "created_at) VALUES (:p, 'other', 'another request', 'done', now(), now())"),
                     {"p": OPERATOR.key})
    idempotency = Idempotency(lambda **kw: UnitOfWork(db, **kw), lease_seconds=60)
    missing = CancelLines("no-such-order", (CancelItem(LINE, 1, 136),), OPERATOR)
    with pytest.raises(IdempotencyKeyReused):
        on_the_loop(lambda: idempotency.run("other", OPERATOR, ["cancel", BODY], lambda uow: cancel_lines(uow, missing),
                                            lambda changed: (200, {}), optimistic=True))
    assert cancelled(api) == 0


# --- a bill's change with its order (Zonos' orderItemUpdate): the bill read with the order, written with it
def _item_update(db: Database, ref: Any) -> Any:
    """orderItemUpdate's change and answer (the face's `_changed`), on the test's event loop."""
    from kalem.platforms.zonos import billing as zonos_billing
    from kalem.platforms.zonos.face.schema import _changed
    cmd = zonos_billing.RemoveItems(zonos_billing.OrderRef(ref), zonos.LINE, None, 1, OPERATOR)
    kalem = SimpleNamespace(uow=lambda **kw: UnitOfWork(db, **kw))
    return on_the_loop(lambda: _changed(kalem, frozenset({"createdBy", "updatedBy"}),
                                        lambda uow: zonos_billing.remove_items(uow, cmd))[1])


def _bill(db: Database, order_id: str) -> tuple[int, int] | None:
    with db.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT b.version, o.version FROM order_billing b "
                                   "JOIN orders o ON o.id = b.order_id WHERE b.order_id = :o"),
                           {"o": order_id}).one_or_none()
    return None if row is None else (row[0], row[1])


def test_an_item_update_reads_its_bill_with_its_order_and_writes_both_in_one_statement(pg, sent):
    """Two statements, the read and the write, as a direct cancel: the bill inserted with the order, then
    updated at its version; who created and last changed the order answered from what the change holds."""
    db, api = pg
    placed = zonos.place(api, zonos.seed_order("4000000961", quantity=3))
    for bill in (1, 2):
        sent.clear()
        answered = _item_update(db, placed["id"])
        read, write = sent
        assert "AS held_billing" in read and "FOR UPDATE" not in read and "billed AS" in write
        assert _bill(db, placed["id"]) == (bill, 1 + bill)   # (the bill's version, the order's)
        assert answered.created_by is not None and answered.updated_by is not None
        assert [i.quantity for i in answered.items] == [3 - bill]


def test_a_bill_that_moved_without_its_order_is_not_written(pg, monkeypatch):
    """The order's row is written only while its bill is at the version read: a bill changed behind the
    order's back (no path of kalem's does) leaves the swap writing nothing, and it is read again."""
    from kalem.domain import billing as domain_billing
    db, api = pg
    placed = zonos.place(api, zonos.seed_order("4000000962", quantity=3))
    _item_update(db, placed["id"])
    remove, runs = domain_billing.remove_item_units, []

    def bill_moved_first(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name.startswith(LOOP_THREAD):
            runs.append(1)
            if len(runs) == 1:
                with db.engine.begin() as conn:
                    conn.execute(sa.text("UPDATE order_billing SET version = version + 1 WHERE order_id = :o"),
                                 {"o": placed["id"]})
        return remove(*args, **kwargs)

    monkeypatch.setattr(domain_billing, "remove_item_units", bill_moved_first)
    answered = _item_update(db, placed["id"])
    assert runs == [1, 1] and [i.quantity for i in answered.items] == [1]   # read again: one write
    assert _bill(db, placed["id"]) == (3, 3)
