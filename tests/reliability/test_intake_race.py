"""PostgreSQL: the same order committed by another writer while an intake reads what it collides with.

Each read of a transaction at READ COMMITTED sees what had committed when that statement began. An
intake reads the line ids in use and the orders under its numbers in two statements; the other
writer's commit is made to fall exactly between them. The order must then be "already there" (the
same order again), never refused because its own line ids are in use. SQLite has one writer at a
time, so there the interleaving cannot happen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from kalem.api.order_spec import spec_of
from kalem.api.schemas import OrderIn
from kalem.app.ingest import place_orders
from kalem.app.orders import PlaceOrder, place_order
from kalem.app.principals import Principal
from kalem.store.intake import IntakeRepository
from kalem.store.repositories import EventRepository
from kalem.store.uow import UnitOfWork
from tests.conftest import empty
from tests.support import two_line_order

OPERATOR = Principal("operator", "race")


def command(number: str) -> PlaceOrder:
    return PlaceOrder(spec_of(OrderIn.model_validate(two_line_order(number))), OPERATOR)


class Interrupted(IntakeRepository):
    """The real repository; the other writer commits right after this transaction's first read."""

    def __init__(self, conn: Connection, events: Callable[[], EventRepository], meanwhile: Callable[[], None]) -> None:
        super().__init__(conn, events)
        self._meanwhile: Callable[[], None] | None = meanwhile

    def _any(self, *args: Any) -> Any:
        rows = list(super()._any(*args))
        if self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        return iter(rows)


@pytest.fixture
def db(servers: dict[str, Any]) -> Any:
    chosen = servers["postgresql"]
    empty(chosen.db)
    return chosen.db


def interrupted(db: Any, meanwhile: Callable[[], None]) -> UnitOfWork:
    class Uow(UnitOfWork):
        def __enter__(self) -> UnitOfWork:
            super().__enter__()
            self.intake = Interrupted(self._conn, lambda: self.events, meanwhile)
            return self
    return Uow(db)


def test_order_committed_between_the_reads_of_one_intake_is_already_there(db):
    theirs: list[Any] = []
    uow = interrupted(db, lambda: theirs.append(place_order(UnitOfWork(db), command("RACE-1"))))
    ours = place_order(uow, command("RACE-1"))
    assert theirs[0].created and not ours.created
    assert ours.order.id == theirs[0].order.id


def test_order_committed_between_the_reads_of_a_batch_is_already_there(db):
    theirs: list[Any] = []
    uow = interrupted(db, lambda: theirs.append(place_order(UnitOfWork(db), command("RACE-2"))))
    first, second = place_orders(uow, [command("RACE-2"), command("RACE-3")])
    assert first.error is None and not first.created and first.order_id == theirs[0].order.id
    assert second.error is None and second.created
