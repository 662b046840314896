"""What an operator asks of the database before trusting a process with traffic: is it reachable,
is its schema at the migration head this code expects, how far behind is the outbox. Read by
`/readyz`, `kalem doctor` and the metrics scrape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.domain.orders import RequestStatus
from kalem.domain.webhooks import OPEN_STATUSES, DeliveryStatus
from kalem.store.codec import as_utc
from kalem.store.webhooks import sql_in, sql_status

_OUTBOX = sa.text("SELECT count(*) AS depth, min(created_at) AS oldest FROM webhook_deliveries "
                  f"WHERE status IN {sql_in(OPEN_STATUSES)}")
_DEAD = sa.text(f"SELECT count(*) FROM webhook_deliveries WHERE status = {sql_status(DeliveryStatus.DEAD)}")
_PENDING_REQUESTS = sa.text("SELECT seller_id, min(created_at) AS oldest FROM cancel_requests "
                            f"WHERE status = '{RequestStatus.PENDING.value}' GROUP BY seller_id")


@cache
def expected_heads() -> frozenset[str]:
    """The migration heads of this code (one per capability branch)."""
    # Alembic is imported when first asked for (every unit of work holds this repository; few ask).
    from alembic.script import ScriptDirectory

    from kalem.store.migrate import alembic_config
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


@dataclass(frozen=True)
class Migrations:
    current: set[str]
    expected: frozenset[str]

    @property
    def at_head(self) -> bool:
        return self.current == self.expected


@dataclass(frozen=True)
class Outbox:
    depth: int  # deliveries not yet delivered nor given up
    oldest_age_seconds: float  # age of the oldest of them; 0 when none
    dead: int  # deliveries given up (dead letters)


class HealthRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def migrations(self) -> Migrations:
        from alembic.runtime.migration import MigrationContext
        return Migrations(set(MigrationContext.configure(self._conn).get_current_heads()), expected_heads())

    def outbox(self, now: datetime) -> Outbox:
        row = self._conn.execute(_OUTBOX).one()
        age = (now - as_utc(row.oldest)).total_seconds() if row.oldest is not None else 0.0
        return Outbox(row.depth, max(age, 0.0), self._conn.execute(_DEAD).scalar_one())

    def oldest_pending_cancel_requests(self, now: datetime) -> dict[str, float]:
        """Per seller, the age in seconds of its oldest cancel request still awaiting an answer."""
        return {row.seller_id: max((now - as_utc(row.oldest)).total_seconds(), 0.0)
                for row in self._conn.execute(_PENDING_REQUESTS)}
