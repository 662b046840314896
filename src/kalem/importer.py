"""`kalem import FILE`: orders from a JSON-lines file (one native `POST /v1/orders` body per line).

The file is read as a stream, a batch at a time (memory stays flat whatever its size), and each
batch is taken in by `app.ingest.place_orders`: every order is stored entirely or not at all, and
judged as `POST /v1/orders` would judge it. So a run that stopped half-way is simply run again: the
orders already stored are recognised as identical and skipped, and a line whose order number is
stored with another body is reported, not overwritten. Refused lines are reported by line number,
with the stable code and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from kalem.api.errors import invalid_fields, kalem_error
from kalem.api.routes.orders import spec_of
from kalem.api.schemas import OrderIn
from kalem.app.ingest import Intake, place_orders
from kalem.app.orders import PlaceOrder
from kalem.app.principals import Principal
from kalem.store.uow import UnitOfWork

BATCH = 500


@dataclass(frozen=True, slots=True)
class Refused:
    line: int
    code: str
    message: str


#: (line number, command) of up to a batch of orders, the lines refused on the way, the bytes read.
_Batch = tuple[list[tuple[int, PlaceOrder]], list[Refused], int]


@dataclass
class Summary:
    created: int = 0
    existing: int = 0
    refused: list[Refused] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return self.created + self.existing + len(self.refused)


def import_orders(path: Path, uow: Callable[[], UnitOfWork], *, batch: int = BATCH,
                  advanced: Callable[[int], None] = lambda _bytes: None) -> Summary:
    """Take in every order of the file; `advanced` is told the bytes read after each batch."""
    principal = Principal("operator", "import")
    summary = Summary()
    with open(path, "rb") as handle:
        for pending, refused, read in _batches(handle, principal, batch):
            summary.refused.extend(refused)
            if pending:
                _take_in(uow, pending, summary)
            advanced(read)
    summary.refused.sort(key=lambda r: r.line)
    return summary


def _batches(handle: BinaryIO, principal: Principal, size: int) -> Iterator[_Batch]:
    """(line number, command) of up to `size` orders, the lines refused on the way, bytes read."""
    pending: list[tuple[int, PlaceOrder]] = []
    refused: list[Refused] = []
    read = 0
    for number, raw in enumerate(handle, start=1):
        read += len(raw)
        if not raw.strip():
            continue
        try:
            pending.append((number, PlaceOrder(spec_of(OrderIn.model_validate(json.loads(raw))), principal)))
        except ValueError as exc:   # ValidationError is a ValueError too
            refused.append(_unreadable(number, exc))
        if len(pending) >= size:
            yield pending, refused, read
            pending, refused, read = [], [], 0
    if pending or refused or read:
        yield pending, refused, read


def _unreadable(number: int, exc: ValueError) -> Refused:
    if isinstance(exc, ValidationError):
        message, _ = invalid_fields(exc.errors(include_url=False, include_context=False))
        return Refused(number, "invalid_request", message)
    return Refused(number, "malformed_json", f"not a JSON order: {exc}")


def _take_in(uow: Callable[[], UnitOfWork], pending: list[tuple[int, PlaceOrder]], summary: Summary) -> None:
    cmds = [cmd for _, cmd in pending]
    try:
        outcomes = place_orders(uow(), cmds)
    except IntegrityError:
        # Another writer took in one of these numbers or line ids meanwhile; nothing of this batch was
        # stored. Judged again, that order is now "already there" (or refused), the others go in.
        outcomes = place_orders(uow(), cmds)
    for (number, _), outcome in zip(pending, outcomes, strict=True):
        _count(summary, number, outcome)


def _count(summary: Summary, number: int, outcome: Intake) -> None:
    if outcome.error is not None:
        error = kalem_error(outcome.error)
        summary.refused.append(Refused(number, error["code"], error["message"]))
    elif outcome.created:
        summary.created += 1
    else:
        summary.existing += 1
