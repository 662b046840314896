"""Channel drift: per channel account, the orders whose state on the platform differs from kalem's
ledger, as the last reconciliation found them (app/channel_reconcile.py), and each account's health
in numbers for the hub, `kalem doctor` and the metrics scrape."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.store import codec
from kalem.store.channel_accounts import DEAD, PENDING
from kalem.store.schema import channel_accounts as accounts
from kalem.store.schema import channel_drift as drift
from kalem.store.schema import channel_pushes as pushes


@dataclass(frozen=True, slots=True)
class Drift:
    id: str
    account_id: str
    seller_id: str
    order_id: str
    order_number: str
    lines: list[dict[str, Any]]   # each: line_id, kalem {counts}, platform {counts}
    found_at: datetime
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class AccountHealth:
    """One account's health in numbers (never its credentials)."""

    id: str
    seller_id: str
    platform: str
    channel: str
    consecutive_failures: int
    last_error_kind: str | None
    last_success_at: datetime | None
    next_pull_at: datetime
    dead_pushes: int
    drift: int


class ChannelDriftRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @staticmethod
    def _drift(row: Any) -> Drift:
        return Drift(id=row.id, account_id=row.account_id, seller_id=row.seller_id, order_id=row.order_id,
                     order_number=row.order_number, lines=json.loads(row.lines),
                     found_at=codec.as_utc(row.found_at), seen_at=codec.as_utc(row.seen_at))

    def found(self, *, drift_id: str, account_id: str, seller_id: str, order_id: str, order_number: str,
              lines: Sequence[dict[str, Any]], now: datetime) -> None:
        """Records what a reconciliation found on one order (kept as first found, with what it is now)."""
        body = json.dumps(list(lines), sort_keys=True)
        updated = self._conn.execute(drift.update().where(
            drift.c.account_id == account_id, drift.c.order_id == order_id).values(lines=body, seen_at=now))
        if updated.rowcount == 0:
            self._conn.execute(drift.insert().values(
                id=drift_id, account_id=account_id, seller_id=seller_id, order_id=order_id,
                order_number=order_number, lines=body, found_at=now, seen_at=now))

    def agreed(self, account_id: str, order_id: str) -> None:
        """The platform and kalem agree on the order now: its drift, if any, is gone."""
        self._conn.execute(drift.delete().where(drift.c.account_id == account_id, drift.c.order_id == order_id))

    def get(self, drift_id: str, seller_id: str | None = None) -> Drift | None:
        query = sa.select(drift).where(drift.c.id == drift_id)
        if seller_id is not None:
            query = query.where(drift.c.seller_id == seller_id)
        row = self._conn.execute(query).first()
        return None if row is None else self._drift(row)

    def listed(self, account_id: str | None = None, seller_id: str | None = None, limit: int = 500) -> list[Drift]:
        query = sa.select(drift).order_by(drift.c.found_at, drift.c.id).limit(limit)
        if account_id is not None:
            query = query.where(drift.c.account_id == account_id)
        if seller_id is not None:
            query = query.where(drift.c.seller_id == seller_id)
        return [self._drift(r) for r in self._conn.execute(query)]

    def remove_account(self, account_id: str) -> None:
        self._conn.execute(drift.delete().where(drift.c.account_id == account_id))

    def pending_orders(self, account_id: str) -> set[str]:
        """Orders with a push still on its way to the platform: not compared until it lands."""
        return set(self._conn.execute(sa.select(pushes.c.order_id).where(
            pushes.c.account_id == account_id, pushes.c.status == PENDING)).scalars())

    def health(self, seller_id: str | None = None) -> list[AccountHealth]:
        dead = (sa.select(pushes.c.account_id, sa.func.count().label("n")).where(pushes.c.status == DEAD)
                .group_by(pushes.c.account_id).subquery())
        drifting = (sa.select(drift.c.account_id, sa.func.count().label("n")).group_by(drift.c.account_id)
                    .subquery())
        query = (sa.select(accounts.c.id, accounts.c.seller_id, accounts.c.platform, accounts.c.channel,
                           accounts.c.consecutive_failures, accounts.c.last_error_kind, accounts.c.last_success_at,
                           accounts.c.next_pull_at, sa.func.coalesce(dead.c.n, 0).label("dead"),
                           sa.func.coalesce(drifting.c.n, 0).label("drift"))
                 .outerjoin(dead, dead.c.account_id == accounts.c.id)
                 .outerjoin(drifting, drifting.c.account_id == accounts.c.id)
                 .order_by(accounts.c.seller_id, accounts.c.channel))
        if seller_id is not None:
            query = query.where(accounts.c.seller_id == seller_id)
        return [AccountHealth(id=r.id, seller_id=r.seller_id, platform=r.platform, channel=r.channel,
                              consecutive_failures=r.consecutive_failures, last_error_kind=r.last_error_kind,
                              last_success_at=None if r.last_success_at is None else codec.as_utc(r.last_success_at),
                              next_pull_at=codec.as_utc(r.next_pull_at), dead_pushes=int(r.dead), drift=int(r.drift))
                for r in self._conn.execute(query)]

    def push_again(self, *, account_id: str, event_id: str, order_id: str, seller_id: str, sequence: int,
                   event_type: str, now: datetime) -> None:
        """The event's push to the account queued (again, from its first attempt, when it was sent or
        given up before): the connector sends what the platform does not show yet."""
        again = self._conn.execute(pushes.update().where(
            pushes.c.account_id == account_id, pushes.c.event_id == event_id).values(
            status=PENDING, attempts=0, next_attempt_at=now, finished_at=None))
        if again.rowcount == 0:
            self._conn.execute(pushes.insert().values(
                account_id=account_id, event_id=event_id, order_id=order_id, seller_id=seller_id, sequence=sequence,
                event_type=event_type, status=PENDING, attempts=0, next_attempt_at=now, created_at=now))
