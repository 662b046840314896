"""A webhook delivery's statuses: one table in the domain, and the store's SQL derived from it."""

from __future__ import annotations

import pytest

from kalem.domain.errors import IllegalTransition
from kalem.domain.webhooks import (
    DELIVERY,
    FINISHED_STATUSES,
    OPEN_STATUSES,
    DeliveryStatus,
    DeliveryStep,
    from_statuses,
)
from kalem.store import schema
from kalem.store.webhooks import sql_in

S, A = DeliveryStatus, DeliveryStep


def test_every_status_is_reachable_and_only_a_requeue_reopens_a_finished_one():
    reached, todo = {S.PENDING}, [S.PENDING]
    while todo:
        state = todo.pop()
        for (source, _), target in DELIVERY.table.items():
            if source is state and target not in reached:
                reached.add(target)
                todo.append(target)
    assert reached == set(DeliveryStatus)
    assert OPEN_STATUSES == (S.PENDING, S.DELIVERING, S.FAILED)
    assert FINISHED_STATUSES == (S.DELIVERED, S.SKIPPED, S.DEAD)
    for status in FINISHED_STATUSES:
        assert DELIVERY.allowed(status) == [A.REQUEUE.value]


@pytest.mark.parametrize(("state", "step"), [(S.DELIVERING, A.REQUEUE), (S.PENDING, A.SUCCEED),
                                             (S.DELIVERED, A.CLAIM), (S.DEAD, A.RETRY),
                                             (S.PENDING, A.SKIP), (S.SKIPPED, A.CLAIM)])
def test_steps_outside_the_table_are_refused(state, step):
    with pytest.raises(IllegalTransition):
        DELIVERY.next(state, step)


def test_the_store_takes_its_status_lists_from_the_table():
    assert sql_in(from_statuses(A.CLAIM)) == "('pending', 'delivering', 'failed')"
    assert sql_in(from_statuses(A.REQUEUE)) == "('pending', 'delivered', 'skipped', 'failed', 'dead')"
    due = next(i for i in schema.webhook_deliveries.indexes if i.name == "ix_webhook_deliveries_due")
    assert str(due.dialect_options["postgresql"]["where"]) == f"status IN {sql_in(OPEN_STATUSES)}"
