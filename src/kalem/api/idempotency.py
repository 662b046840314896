"""`Idempotency-Key` on POSTs: the same key and body replay the stored response.

A key is first claimed in a short transaction of its own (so a concurrent duplicate sees it and
gets 409 while the first runs). The response is then stored by a `before_commit` hook inside the
business transaction itself, so a change and its stored response commit together or not at all.
A request that fails leaves nothing applied, so its claim is released and the key may be retried.
A claim whose process died is taken over once its lease runs out; the lease's end is the claim's
fencing token, so a request that merely outlived its lease can no longer commit (409).

On PostgreSQL's event-loop path (store/on_loop.py) the key is claimed inside the business
transaction instead, as its first statement: one transaction and one commit, not three. A concurrent
duplicate's claim then waits on the first's uncommitted one and, once the first commits, replays its
answer (rather than 409); if the first fails, its transaction rolls its claim back with everything
else and the duplicate runs. A committed claim still running (a request on the thread pool's path,
or one whose process died) is met as on that path: 409 until its lease runs out, then taken over.

An answer is encoded once (`answer`): with a key, the text stored is the text answered, and a replay
answers those very bytes.

A use case run `optimistic` is a compare-and-swap where the store offers one (store/uow.py): run
again when its order moved meanwhile (or a concurrent intake took its number), a few times
(store/optimistic.py), then as a locked transaction, as is one that would write more than its
order's one statement. With a key, the key is read before anything is decided — as one more column
of the write's first read, the order's or the intake's look-up (store/key_check.py): a finished
twin's answer is replayed, a key used with another request refused, and a key still claimed (by a
locked run) leaves the request to the locked path. Otherwise the key is inserted, finished with its
answer, by the write's own statement; a twin that got there first fails that statement, and the run
again replays the twin's answer. A concurrent duplicate thus answers what the first answered, as on
the locked path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError, IntegrityError

from kalem.app.principals import Principal
from kalem.domain.errors import IdempotencyKeyInUse, IdempotencyKeyReused, IdempotencyKeyTooLong
from kalem.store.codec import as_utc, dumps, stored_json
from kalem.store.on_loop import on_loop
from kalem.store.optimistic import NotFoldable, deadlocked, optimistically
from kalem.store.uow import AnswerKey, UnitOfWork

#: Runs of a keyed transaction on the event loop that PostgreSQL may abort to break a deadlock with a
#: compare-and-swap twin (`_run_claiming_inside`).
DEADLOCK_ATTEMPTS = 3

T = TypeVar("T")
Rendered = tuple[int, Any]
Stored = tuple[int, str]   # a finished request's status and its answer's JSON text


def fingerprint(request: Any) -> str:
    """What makes two requests "the same": the route and the parsed body, not its whitespace."""
    return hashlib.sha256(dumps(request).encode()).hexdigest()


def answer(status: int, body: Any = None, *, text: str | None = None) -> Response:
    """A JSON answer, encoded once: the very bytes Starlette's `JSONResponse` writes for kalem's answers
    (strings, integers, booleans, None, lists and objects: tests/test_stored_json.py holds them to it),
    by orjson (`codec.stored_json`); `text` when the body is encoded already (stored with its key)."""
    return Response((stored_json(body) if text is None else text).encode(), status_code=status,
                    media_type="application/json")


def _replayed(status: int, text: str) -> Response:
    """The stored answer of a key's finished request: the bytes it was answered with."""
    response = answer(status, text=text)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _storing(uow: UnitOfWork, principal: Principal, key: str, lease: Callable[[], datetime],
             render: Callable[[Any], Rendered], outcome: list[Stored]) -> Callable[[Any], None]:
    """The hook that stores a request's answer with its key, in its business transaction, under the
    request's `lease` (its fencing token); the answer is kept in `outcome`, to be answered as stored."""
    def store(result: Any) -> None:
        status, body = render(result)
        outcome.append((status, stored_json(body)))   # stored, and answered, as one text
        if not uow.idempotency.complete(principal.key, key, lease(), *outcome[0]):
            # This request outlived its lease and a retry took the key over: commit nothing, or the
            # change would be applied twice.
            raise IdempotencyKeyInUse("this request's Idempotency-Key lease ran out and a retry took "
                                      "it over", idempotency_key=key)
    return store


class _Replay(Exception):
    """The key's first request has finished: leave the transaction and answer what it answered."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(status)
        self.status, self.text = status, text


def _twin(row: Any, key: str, print_: str) -> None:
    """The key as an optimistic run meets it (its row, or None): none yet (go on), a finished twin's
    (replayed), another request's (refused), or a claim still running (`NotFoldable`: run locked)."""
    if row is None:
        return
    if row.fingerprint != print_:
        raise IdempotencyKeyReused("this Idempotency-Key was used with another request", idempotency_key=key)
    if row.state == "done":
        raise _Replay(row.status_code, row.response)
    raise NotFoldable("the key's first request is still running")


class Idempotency:
    def __init__(self, uow_factory: Callable[..., UnitOfWork], lease_seconds: int) -> None:
        self._uow = uow_factory
        self._lease = timedelta(seconds=lease_seconds)

    def run(self, key: str | None, principal: Principal, fingerprint_of: Any,
            use_case: Callable[[UnitOfWork], Any], render: Callable[[Any], Rendered], *,
            optimistic: bool = False) -> Response:
        """`optimistic`: the use case writes one order with one statement (see the module docstring)."""
        if not key:
            result = (self._optimistically(use_case, lambda: use_case(self._uow())) if optimistic
                      else use_case(self._uow()))
            return answer(*render(result))
        if len(key) > 255:
            raise IdempotencyKeyTooLong("Idempotency-Key is longer than 255 characters", field="Idempotency-Key")
        if on_loop():
            print_ = fingerprint(fingerprint_of)

            def locked() -> Response:
                return self._run_claiming_inside(key, principal, print_, use_case, render)

            if optimistic:
                return self._optimistically(
                    lambda uow: self._swapped_with_key(uow, key, principal, print_, use_case, render), locked)
            return locked()
        claimed = self._claim(principal.key, key, fingerprint(fingerprint_of))
        if not isinstance(claimed, datetime):
            return _replayed(*claimed)
        uow = self._uow()
        outcome: list[Stored] = []
        uow.before_commit(_storing(uow, principal, key, lambda: claimed, render, outcome))
        try:
            result = use_case(uow)
        except BaseException:
            self._release(principal.key, key, claimed)
            raise
        return self._answered(outcome, render, result)

    def _optimistically(self, run: Callable[[UnitOfWork], T], locked: Callable[[], T]) -> T:
        """`run` on an optimistic unit of work, as `optimistically` runs it (store/optimistic.py)."""
        return optimistically(lambda: run(self._uow(optimistic=True)), locked)

    def _swapped_with_key(self, uow: UnitOfWork, key: str, principal: Principal, print_: str,
                          use_case: Callable[[UnitOfWork], Any], render: Callable[[Any], Rendered]) -> Response:
        """A keyed use case as a compare-and-swap (see the module docstring): the key judged before the
        domain decides (read with the write's first read), then stored with the write's own statement."""
        outcome: list[Stored] = []

        def stored(result: Any) -> Stored:
            status, body = render(result)
            outcome.append((status, stored_json(body)))   # stored, and answered, as one text
            return outcome[-1]

        uow.keep_answer(AnswerKey(principal.key, key, print_, self._lease, stored),
                        lambda row: _twin(row, key, print_))
        try:
            result = use_case(uow)
        except _Replay as replay:
            return _replayed(replay.status, replay.text)
        return self._answered(outcome, render, result)

    @staticmethod
    def _answered(outcome: list[Stored], render: Callable[[Any], Rendered], result: Any) -> Response:
        """The answer stored with the key (a use case that committed nothing has none: rendered now)."""
        if outcome:
            status, text = outcome[0]
            return answer(status, text=text)
        return answer(*render(result))

    def _run_claiming_inside(self, key: str, principal: Principal, print_: str, use_case: Callable[[UnitOfWork], Any],
                             render: Callable[[Any], Rendered]) -> Response:
        """The key claimed by the business transaction's first statement. It takes the key before the
        order, a compare-and-swap twin the order before the key: when the two meet, PostgreSQL aborts
        one of them, and this transaction, rolled back whole (its claim too), runs again."""
        for _ in range(DEADLOCK_ATTEMPTS - 1):
            try:
                return self._claiming_inside(key, principal, print_, use_case, render)
            except DBAPIError as failed:
                if not deadlocked(failed):
                    raise
        return self._claiming_inside(key, principal, print_, use_case, render)

    def _claiming_inside(self, key: str, principal: Principal, print_: str, use_case: Callable[[UnitOfWork], Any],
                         render: Callable[[Any], Rendered]) -> Response:
        uow = self._uow()
        leases: list[datetime] = []
        outcome: list[Stored] = []

        def claim() -> None:
            now = uow.now()
            lease = now + self._lease
            if not uow.idempotency.claim_or_wait(principal.key, key, print_, now, lease):
                row = uow.idempotency.get(principal.key, key)
                if row.fingerprint != print_:
                    raise IdempotencyKeyReused("this Idempotency-Key was used with another request",
                                               idempotency_key=key)
                if row.state == "done":
                    raise _Replay(row.status_code, row.response)
                if as_utc(row.locked_until) > now or not uow.idempotency.take_over(principal.key, key, now, lease):
                    raise IdempotencyKeyInUse("a request with this Idempotency-Key is still running",
                                              idempotency_key=key)
            leases.append(lease)

        uow.after_begin(claim)
        uow.before_commit(_storing(uow, principal, key, lambda: leases[-1], render, outcome))
        try:
            result = use_case(uow)
        except _Replay as replay:
            return _replayed(replay.status, replay.text)
        return self._answered(outcome, render, result)

    def _claim(self, principal: str, key: str, print_: str) -> Stored | datetime:
        """The stored answer of a finished twin, or this request's lease (its fencing token)."""
        uow = self._uow()
        try:
            with uow:
                now = uow.now()
                row = uow.idempotency.get(principal, key)
                lease = now + self._lease
                if row is None:
                    uow.idempotency.claim(principal, key, print_, now, lease)
                    uow.commit()
                    return lease
                if row.fingerprint != print_:
                    raise IdempotencyKeyReused("this Idempotency-Key was used with another request",
                                               idempotency_key=key)
                if row.state == "done":
                    return row.status_code, row.response
                if as_utc(row.locked_until) > now or not uow.idempotency.take_over(principal, key, now, lease):
                    raise IdempotencyKeyInUse("a request with this Idempotency-Key is still running",
                                              idempotency_key=key)
                uow.commit()
                return lease
        except IntegrityError as exc:  # a concurrent twin claimed it first
            raise IdempotencyKeyInUse("a request with this Idempotency-Key is still running",
                                      idempotency_key=key) from exc

    def _release(self, principal: str, key: str, lease: datetime) -> None:
        uow = self._uow()
        with uow:
            uow.idempotency.release(principal, key, lease)
            uow.commit()
