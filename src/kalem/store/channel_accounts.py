"""Channel accounts and the channel outbox (docs/channels.md).

An account is a seller's account on a platform kalem connects to: its base URL, its credentials (one
JSON object, sealed at rest with store/sealed.py and opened only when a connector needs them), its
settings for its connector (one JSON object, not secret), its health and its pull watermark. The
outbox (`channel_pushes`) is one row per (account, event) to send: `enqueue` is called by
`EventRepository.append`, on the business transaction's own connection, so a decision and its push
commit together or not at all — as webhook deliveries do (store/outbox.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.domain.events import Event
from kalem.store import codec
from kalem.store.hot import Hot
from kalem.store.schema import channel_accounts as accounts
from kalem.store.schema import channel_packages as links
from kalem.store.schema import channel_pushes as pushes
from kalem.store.sealed import Sealer

PENDING, DONE, DEAD = "pending", "done", "dead"

_ENABLED = Hot("SELECT id, seller_id, channel, push_types FROM channel_accounts WHERE enabled = :t")


def actor_label(account_id: str) -> str:
    """The actor of what an account's sync applies in kalem (`Principal("seller", account_id, …)`):
    an event it caused is never pushed back to the platform it came from."""
    return f"seller:{account_id}"


# (account id, seller, channel, the event types it pushes)
Pusher = tuple[str, str, str, frozenset[str]]


def pushers(conn: Connection) -> list[Pusher]:
    """The enabled accounts, as `owed` takes them."""
    return [pusher(r.id, r.seller_id, r.channel, r.push_types) for r in _ENABLED.rows(conn, {"t": True})]


def pusher(account_id: str, seller_id: str, channel: str, push_types: str) -> Pusher:
    """One enabled account's row (its push types as stored) as `owed` takes it."""
    return account_id, seller_id, channel, frozenset(json.loads(push_types))


def owed(found: Sequence[Pusher], events: Sequence[Event], event_ids: Sequence[str],
         channel_of: dict[str, str] | None = None) -> list[tuple[str, str, Event]]:
    """(account id, event id, event) of each push owed: an account of the event's seller that pushes
    its type, on the order's channel, unless the event is the account's own doing. `channel_of`: each
    order's channel (None: only which accounts could be owed one, before the orders are read)."""
    return [(a[0], eid, e) for eid, e in zip(event_ids, events, strict=True) for a in found
            if a[1] == e.seller_id and e.type in a[3] and e.actor != actor_label(a[0])
            and (channel_of is None or channel_of.get(e.order_id) == a[2])]


def enqueue(conn: Connection, events: Sequence[Event], event_ids: Sequence[str],
            found: Sequence[Pusher] | None = None) -> int:
    """Queue a push of each freshly appended event that an enabled account of the order's channel
    pushes; returns how many. Costs one read of a table of a handful of rows when no account exists
    (none when this transaction has read the accounts already: `found`, store/routing.py)."""
    accounts_found = pushers(conn) if found is None else found
    candidates = owed(accounts_found, events, event_ids)
    if not candidates:
        return 0
    order_ids = {e.order_id for _, _, e in candidates}
    rows = conn.execute(sa.text("SELECT id, channel FROM orders WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True)), {"ids": sorted(order_ids)}).all()
    now = datetime.now(UTC)
    inserts = [{"account_id": account_id, "event_id": eid, "order_id": e.order_id, "seller_id": e.seller_id,
                "sequence": e.sequence, "event_type": e.type, "status": PENDING, "attempts": 0,
                "next_attempt_at": now, "created_at": now}
               for account_id, eid, e in owed(accounts_found, events, event_ids,
                                              {r.id: r.channel for r in rows})]
    if inserts:
        conn.execute(pushes.insert(), inserts)
    return len(inserts)


@dataclass(frozen=True, slots=True)
class ChannelAccount:
    id: str
    seller_id: str
    platform: str
    channel: str
    base_url: str
    enabled: bool
    created_at: datetime
    watermark: str | None
    next_pull_at: datetime
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_kind: str | None
    last_error: str | None
    consecutive_failures: int
    credential_names: tuple[str, ...]   # what is stored, never the values
    credentials: dict[str, str] | None = None  # opened only by `get(..., open_credentials=True)`
    #: Options for its connector, such as `reason_map` (kalem reason code → the platform's reason id).
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Push:
    id: int
    account_id: str
    event_id: str
    order_id: str
    seller_id: str
    sequence: int
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error_kind: str | None
    last_error: str | None
    last_body: str | None
    created_at: datetime
    finished_at: datetime | None


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else codec.as_utc(value)


class ChannelAccountRepository:
    def __init__(self, conn: Connection, sealer: Sealer) -> None:
        self._conn = conn
        self._sealer = sealer

    # --- accounts ---------------------------------------------------------------------------

    def add(self, *, account_id: str, seller_id: str, platform: str, channel: str, base_url: str,
            credentials: dict[str, str], push_types: Sequence[str], now: datetime,
            settings: Mapping[str, Any] | None = None) -> None:
        self._conn.execute(accounts.insert().values(
            id=account_id, seller_id=seller_id, platform=platform, channel=channel, base_url=base_url,
            credentials=self._sealer.seal(json.dumps(credentials, sort_keys=True)),
            settings=json.dumps(dict(settings), sort_keys=True) if settings else None,
            push_types=json.dumps(sorted(push_types)), enabled=True, created_at=now, next_pull_at=now,
            consecutive_failures=0))

    def exists(self, seller_id: str, channel: str) -> bool:
        return self._conn.execute(sa.select(accounts.c.id).where(
            accounts.c.seller_id == seller_id, accounts.c.channel == channel)).first() is not None

    def _account(self, row: Any, open_credentials: bool) -> ChannelAccount:
        opened: dict[str, str] = json.loads(self._sealer.open(row.credentials))
        return ChannelAccount(
            id=row.id, seller_id=row.seller_id, platform=row.platform, channel=row.channel, base_url=row.base_url,
            enabled=row.enabled, created_at=codec.as_utc(row.created_at), watermark=row.watermark,
            next_pull_at=codec.as_utc(row.next_pull_at), last_success_at=_utc(row.last_success_at),
            last_error_at=_utc(row.last_error_at), last_error_kind=row.last_error_kind, last_error=row.last_error,
            consecutive_failures=row.consecutive_failures, credential_names=tuple(sorted(opened)),
            credentials=opened if open_credentials else None,
            settings=MappingProxyType(json.loads(row.settings) if row.settings else {}))

    def get(self, account_id: str, seller_id: str | None = None, *,
            open_credentials: bool = False) -> ChannelAccount | None:
        query = sa.select(accounts).where(accounts.c.id == account_id)
        if seller_id is not None:
            query = query.where(accounts.c.seller_id == seller_id)
        row = self._conn.execute(query).first()
        return None if row is None else self._account(row, open_credentials)

    def listed(self, seller_id: str | None = None) -> list[ChannelAccount]:
        query = sa.select(accounts).order_by(accounts.c.created_at, accounts.c.id)
        if seller_id is not None:
            query = query.where(accounts.c.seller_id == seller_id)
        return [self._account(row, False) for row in self._conn.execute(query)]

    def remove(self, account_id: str) -> None:
        """The account and its outbox: what was never sent to it is no longer owed to anyone."""
        self._conn.execute(pushes.delete().where(pushes.c.account_id == account_id))
        self._conn.execute(links.delete().where(links.c.account_id == account_id))
        self._conn.execute(accounts.delete().where(accounts.c.id == account_id))

    def due(self, now: datetime, limit: int = 50) -> list[str]:
        return list(self._conn.execute(sa.select(accounts.c.id).where(
            accounts.c.enabled.is_(True), accounts.c.next_pull_at <= now).order_by(
            accounts.c.next_pull_at).limit(limit)).scalars())

    def pulled(self, account_id: str, *, now: datetime, watermark: str | None, next_pull_at: datetime) -> None:
        self._conn.execute(accounts.update().where(accounts.c.id == account_id).values(
            watermark=watermark, last_success_at=now, consecutive_failures=0, next_pull_at=next_pull_at))

    def failed(self, account_id: str, *, now: datetime, kind: str, message: str, next_pull_at: datetime | None) -> int:
        """Records a failure on the account's health; returns the consecutive failures so far."""
        values: dict[str, Any] = {"last_error_at": now, "last_error_kind": kind, "last_error": message[:500],
                                  "consecutive_failures": accounts.c.consecutive_failures + 1}
        if next_pull_at is not None:
            values["next_pull_at"] = next_pull_at
        self._conn.execute(accounts.update().where(accounts.c.id == account_id).values(**values))
        return int(self._conn.execute(sa.select(accounts.c.consecutive_failures).where(
            accounts.c.id == account_id)).scalar_one())

    def succeeded(self, account_id: str, now: datetime) -> None:
        self._conn.execute(accounts.update().where(accounts.c.id == account_id).values(
            last_success_at=now, consecutive_failures=0))

    # --- the outbox ---------------------------------------------------------------------------

    def claim(self, now: datetime, lease_until: datetime, limit: int = 20) -> list[Push]:
        """Due pushes, each leased (its next attempt moved to `lease_until`) and its attempt counted
        before it is sent: a sync killed mid-push leaves it due again once the lease ends, and the
        attempt count tells the connector that a previous attempt may have landed."""
        query = (sa.select(pushes).where(pushes.c.status == PENDING, pushes.c.next_attempt_at <= now)
                 .order_by(pushes.c.next_attempt_at, pushes.c.id).limit(limit))
        if self._conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = self._conn.execute(query).all()
        if not rows:
            return []
        self._conn.execute(pushes.update().where(pushes.c.id.in_([r.id for r in rows])).values(
            attempts=pushes.c.attempts + 1, next_attempt_at=lease_until))
        return [self._push(r, attempts=r.attempts + 1) for r in rows]

    @staticmethod
    def _push(row: Any, *, attempts: int | None = None) -> Push:
        return Push(id=row.id, account_id=row.account_id, event_id=row.event_id, order_id=row.order_id,
                    seller_id=row.seller_id, sequence=row.sequence, event_type=row.event_type, status=row.status,
                    attempts=row.attempts if attempts is None else attempts,
                    next_attempt_at=codec.as_utc(row.next_attempt_at), last_error_kind=row.last_error_kind,
                    last_error=row.last_error, last_body=row.last_body, created_at=codec.as_utc(row.created_at),
                    finished_at=_utc(row.finished_at))

    def finish(self, push_id: int, *, status: str, now: datetime, kind: str | None = None,
               message: str | None = None, body: str | None = None) -> None:
        self._conn.execute(pushes.update().where(pushes.c.id == push_id).values(
            status=status, finished_at=now, last_error_kind=kind, last_error=None if message is None else message[:500],
            last_body=body))

    def retry_at(self, push_id: int, *, at: datetime, kind: str, message: str) -> None:
        self._conn.execute(pushes.update().where(pushes.c.id == push_id).values(
            next_attempt_at=at, last_error_kind=kind, last_error=message[:500]))

    def put_off(self, push_id: int, *, at: datetime, kind: str, message: str) -> None:
        """A claimed push not sent after all: due again `at`, its claim's attempt not counted."""
        self._conn.execute(pushes.update().where(pushes.c.id == push_id).values(
            next_attempt_at=at, attempts=pushes.c.attempts - 1, last_error_kind=kind, last_error=message[:500]))

    def replay(self, push_id: int, now: datetime, seller_id: str | None = None) -> bool:
        """A dead push sent again (attempts restart); False when there is no such dead push."""
        query = pushes.update().where(pushes.c.id == push_id, pushes.c.status == DEAD)
        if seller_id is not None:
            query = query.where(pushes.c.seller_id == seller_id)
        return self._conn.execute(query.values(status=PENDING, attempts=0, next_attempt_at=now,
                                               finished_at=None)).rowcount == 1

    def pushes(self, account_id: str | None = None, status: str | None = None, limit: int = 100) -> list[Push]:
        query = sa.select(pushes).order_by(pushes.c.id.desc()).limit(limit)
        if account_id is not None:
            query = query.where(pushes.c.account_id == account_id)
        if status is not None:
            query = query.where(pushes.c.status == status)
        return [self._push(r) for r in self._conn.execute(query)]

    def event(self, event_id: str) -> tuple[str, str, dict[str, Any]] | None:
        """(type, actor, data) of one stored event."""
        row = self._conn.execute(sa.text("SELECT type, actor, data FROM events WHERE id = :id"),
                                 {"id": event_id}).first()
        return None if row is None else (row.type, row.actor, codec.load_event_data(row.type, row.data))

    # --- the platform's package ids -------------------------------------------------------------

    def packages(self, account_id: str, order_id: str) -> dict[str, str]:
        """kalem package id → the platform's, for the order's packages a push has learnt."""
        rows = self._conn.execute(sa.select(links.c.package_id, links.c.platform_package_id).where(
            links.c.account_id == account_id, links.c.order_id == order_id))
        return {r.package_id: r.platform_package_id for r in rows}

    def learnt_packages(self, account_id: str, order_id: str, found: dict[str, str], now: datetime) -> None:
        """Keeps what a push learnt of the platform's package ids (a package learnt again takes the new id)."""
        if not found:
            return
        self._conn.execute(links.delete().where(links.c.account_id == account_id, links.c.order_id == order_id,
                                                links.c.package_id.in_(sorted(found))))
        self._conn.execute(links.insert(), [
            {"account_id": account_id, "order_id": order_id, "package_id": package_id,
             "platform_package_id": platform_id, "created_at": now} for package_id, platform_id in found.items()])
