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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError

from kalem.app.principals import Principal
from kalem.domain.errors import IdempotencyKeyInUse, IdempotencyKeyReused, IdempotencyKeyTooLong
from kalem.store.codec import as_utc, dumps
from kalem.store.on_loop import on_loop
from kalem.store.uow import UnitOfWork

Rendered = tuple[int, Any]


def fingerprint(request: Any) -> str:
    """What makes two requests "the same": the route and the parsed body, not its whitespace."""
    return hashlib.sha256(dumps(request).encode()).hexdigest()


class _Replay(Exception):
    """The key's first request has finished: leave the transaction and answer what it answered."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


class Idempotency:
    def __init__(self, uow_factory: Callable[..., UnitOfWork], lease_seconds: int) -> None:
        self._uow = uow_factory
        self._lease = timedelta(seconds=lease_seconds)

    def run(self, key: str | None, principal: Principal, fingerprint_of: Any,
            use_case: Callable[[UnitOfWork], Any], render: Callable[[Any], Rendered],
            respond: Callable[[int, Any], Response] | None = None) -> Response:
        respond = respond or (lambda status, body: JSONResponse(body, status_code=status))
        if not key:
            status, body = render(use_case(self._uow()))
            return respond(status, body)
        if len(key) > 255:
            raise IdempotencyKeyTooLong("Idempotency-Key is longer than 255 characters", field="Idempotency-Key")
        if on_loop():
            return self._run_claiming_inside(key, principal, fingerprint(fingerprint_of), use_case, render, respond)
        claimed = self._claim(principal.key, key, fingerprint(fingerprint_of))
        if not isinstance(claimed, datetime):
            response = respond(*claimed)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        uow = self._uow()
        outcome: list[Rendered] = []

        def store(result: Any) -> None:
            outcome.append(render(result))
            if not uow.idempotency.complete(principal.key, key, claimed, outcome[0][0], dumps(outcome[0][1])):
                # This request outlived its lease and a retry took the key over: commit nothing, or
                # the change would be applied twice.
                raise IdempotencyKeyInUse("this request's Idempotency-Key lease ran out and a retry took "
                                          "it over", idempotency_key=key)

        uow.before_commit(store)
        try:
            result = use_case(uow)
        except BaseException:
            self._release(principal.key, key, claimed)
            raise
        status, body = outcome[0] if outcome else render(result)
        return respond(status, body)

    def _run_claiming_inside(self, key: str, principal: Principal, print_: str, use_case: Callable[[UnitOfWork], Any],
                             render: Callable[[Any], Rendered], respond: Callable[[int, Any], Response]) -> Response:
        uow = self._uow()
        leases: list[datetime] = []
        outcome: list[Rendered] = []

        def claim() -> None:
            now = uow.now()
            lease = now + self._lease
            if not uow.idempotency.claim_or_wait(principal.key, key, print_, now, lease):
                row = uow.idempotency.get(principal.key, key)
                if row.fingerprint != print_:
                    raise IdempotencyKeyReused("this Idempotency-Key was used with another request",
                                               idempotency_key=key)
                if row.state == "done":
                    raise _Replay(row.status_code, json.loads(row.response))
                if as_utc(row.locked_until) > now or not uow.idempotency.take_over(principal.key, key, now, lease):
                    raise IdempotencyKeyInUse("a request with this Idempotency-Key is still running",
                                              idempotency_key=key)
            leases.append(lease)

        def store(result: Any) -> None:
            outcome.append(render(result))
            if not uow.idempotency.complete(principal.key, key, leases[-1], outcome[0][0], dumps(outcome[0][1])):
                raise IdempotencyKeyInUse("this request's Idempotency-Key lease ran out and a retry took "
                                          "it over", idempotency_key=key)

        uow.after_begin(claim)
        uow.before_commit(store)
        try:
            result = use_case(uow)
        except _Replay as replay:
            response = respond(replay.status, replay.body)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        status, body = outcome[0] if outcome else render(result)
        return respond(status, body)

    def _claim(self, principal: str, key: str, print_: str) -> Rendered | datetime:
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
                    return row.status_code, json.loads(row.response)
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
