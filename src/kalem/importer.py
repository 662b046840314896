"""`kalem import FILE`: orders from a JSON-lines file (one native `POST /v1/orders` body per line).

The file is read as a stream, a batch of lines at a time (memory stays flat whatever its size), and
each batch is taken in by `app.ingest.place_orders`: every order is stored entirely or not at all,
and judged as `POST /v1/orders` would judge it. So a run that stopped half-way is simply run again:
the orders already stored are recognised as identical and skipped, and a line whose order number is
stored with another body is reported, not overwritten. Refused lines are reported by line number,
with the stable code and the reason.

With `jobs` above one, worker processes take the batches in (reading, validating and placing an
order is CPU in Python, one core per process); the file is still read once, in order, by this
process, with at most two batches per worker in flight. Batches then commit in any order, which
changes nothing above: each is judged against what is stored when it commits.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError

from kalem.api.error_bodies import INVALID_REQUEST, MALFORMED_JSON, invalid_fields, kalem_error
from kalem.api.order_spec import spec_of
from kalem.api.schemas import OrderIn
from kalem.app.ingest import Intake, place_orders
from kalem.app.orders import PlaceOrder
from kalem.app.principals import Principal
from kalem.domain.orders import IntakeLimits
from kalem.store.optimistic import deadlocked
from kalem.store.uow import UnitOfWork

BATCH = 500
PRINCIPAL = Principal("operator", "import")


@dataclass(frozen=True, slots=True)
class Refused:
    line: int
    code: str
    message: str


@dataclass
class Summary:
    created: int = 0
    existing: int = 0
    refused: list[Refused] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return self.created + self.existing + len(self.refused)

    def add(self, other: Summary) -> None:
        self.created += other.created
        self.existing += other.existing
        self.refused.extend(other.refused)


#: Up to a batch of (line number, line) and the bytes read for them (blank lines included).
_Lines = tuple[list[tuple[int, bytes]], int]


def import_orders(path: Path, connect: Callable[[], Callable[[], UnitOfWork]], *, batch: int = BATCH,
                  jobs: int = 1, advanced: Callable[[int], None] = lambda _bytes: None,
                  limits: IntakeLimits = IntakeLimits(), new_seller: bool = False) -> Summary:
    """Take in every order of the file; `connect` gives the units of work (called once per process);
    `advanced` is told the bytes read as each batch is done. An order for a seller kalem does not know
    is refused (`unknown_seller`) unless `new_seller` or the order's own `create_seller` says to create it."""
    summary = Summary()
    with open(path, "rb") as handle:
        if jobs <= 1:
            uow = connect()
            for lines, read in _batches(handle, batch):
                summary.add(take_in(uow, lines, limits, new_seller))
                advanced(read)
        else:
            _in_workers(_batches(handle, batch), connect, jobs, summary, advanced, limits, new_seller)
    summary.refused.sort(key=lambda r: r.line)
    return summary


def _in_workers(batches: Iterator[_Lines], connect: Callable[[], Callable[[], UnitOfWork]], jobs: int,
                summary: Summary, advanced: Callable[[int], None], limits: IntakeLimits, new_seller: bool) -> None:
    # fork: the workers start with every module this process has loaded, and no connection (none is open yet).
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                             initargs=(connect, limits, new_seller)) as pool:
        pending: dict[Future[Summary], int] = {}
        for lines, read in batches:
            pending[pool.submit(_take_in_worker, lines)] = read
            if len(pending) >= 2 * jobs:
                _collect(pending, summary, advanced, wait(pending, return_when=FIRST_COMPLETED).done)
        _collect(pending, summary, advanced, wait(pending).done)


def _collect(pending: dict[Future[Summary], int], summary: Summary, advanced: Callable[[int], None],
             done: set[Future[Summary]]) -> None:
    for future in done:
        summary.add(future.result())
        advanced(pending.pop(future))


_worker_uow: Callable[[], UnitOfWork] | None = None
_worker_limits = IntakeLimits()
_worker_new_seller = False


def _start_worker(connect: Callable[[], Callable[[], UnitOfWork]], limits: IntakeLimits, new_seller: bool) -> None:
    global _worker_uow, _worker_limits, _worker_new_seller
    _worker_uow, _worker_limits, _worker_new_seller = connect(), limits, new_seller
    gc.freeze()   # the modules inherited from the parent stay out of the collector's scans


def _take_in_worker(lines: list[tuple[int, bytes]]) -> Summary:
    assert _worker_uow is not None, "started by _start_worker"
    return take_in(_worker_uow, lines, _worker_limits, _worker_new_seller)


def _batches(handle: BinaryIO, size: int) -> Iterator[_Lines]:
    lines: list[tuple[int, bytes]] = []
    read = 0
    for number, raw in enumerate(handle, start=1):
        read += len(raw)
        if raw.strip():
            lines.append((number, raw))
        if len(lines) >= size:
            yield lines, read
            lines, read = [], 0
    if lines or read:
        yield lines, read


def take_in(uow: Callable[[], UnitOfWork], lines: list[tuple[int, bytes]],
            limits: IntakeLimits = IntakeLimits(), new_seller: bool = False) -> Summary:
    """Read, judge and store one batch of lines: one transaction for the orders taken in."""
    summary = Summary()
    pending: list[tuple[int, PlaceOrder]] = []
    for number, raw in lines:
        try:
            order = OrderIn.model_validate(json.loads(raw))
            pending.append((number, PlaceOrder(spec_of(order), PRINCIPAL, limits,
                                               new_seller=new_seller or order.create_seller)))
        except (ValueError, RecursionError) as exc:   # ValidationError is a ValueError too
            summary.refused.append(_unreadable(number, exc))
    if not pending:
        return summary
    cmds = [cmd for _, cmd in pending]
    try:
        outcomes = place_orders(uow(), cmds)
    except DBAPIError as exc:
        # A deadlock: another batch's rows wait on this one's and the other way round (only with
        # `jobs` > 1, when two batches hold the same numbers or line ids in crossing order).
        if not isinstance(exc, IntegrityError) and not deadlocked(exc):
            raise
        # Another writer took in one of these numbers or line ids meanwhile; nothing of this batch was
        # stored. Judged again, that order is now "already there" (or refused), the others go in.
        outcomes = place_orders(uow(), cmds)
    for (number, _), outcome in zip(pending, outcomes, strict=True):
        _count(summary, number, outcome)
    return summary


def _unreadable(number: int, exc: ValueError | RecursionError) -> Refused:
    if isinstance(exc, ValidationError):
        message, _ = invalid_fields(exc.errors(include_url=False, include_context=False))
        return Refused(number, INVALID_REQUEST, message)
    return Refused(number, MALFORMED_JSON, f"not a JSON order: {exc}")


def _count(summary: Summary, number: int, outcome: Intake) -> None:
    if outcome.error is not None:
        error = kalem_error(outcome.error)
        summary.refused.append(Refused(number, error["code"], error["message"]))
    elif outcome.created:
        summary.created += 1
    else:
        summary.existing += 1
