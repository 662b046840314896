"""Webhook rows: subscriptions, deliveries (the outbox, see store/outbox.py), attempts, and the
change feed over `events`.

Claiming (docs/webhooks.md): a delivery is due when it is pending/failed and `next_attempt_at` has
come, or delivering and its lease ran out — a claim sets `next_attempt_at` to the lease's end, so one
indexed range covers both. A delivery waits while an earlier event of the same order to the same
subscription is still open. `lease_until` doubles as the claim's fencing token: a worker only
records the outcome of the claim it made, never of one a second worker took over.

Secrets at rest (store/sealed.py): a subscription's signing secrets and receiver credentials — the
`whsec_` secret and the one it replaced, a Basic password, a Bearer token, and the URL of a
`secret_url` subscription — are sealed here on the way in and opened on the way out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kalem.domain.webhooks import (
    FINISHED_STATUSES,
    OPEN_STATUSES,
    DeliveryStatus,
    DeliveryStep,
    from_statuses,
    target_of,
    wants,
)
from kalem.store import codec
from kalem.store.sealed import UNKEYED, Sealer, SecretsUnavailable


def sql_in(statuses: Iterable[DeliveryStatus]) -> str:
    """A SQL `IN` list of delivery statuses, from the domain's enum (never retyped here)."""
    return "(" + ", ".join(f"'{s.value}'" for s in statuses) + ")"


def sql_status(status: DeliveryStatus) -> str:
    return f"'{status.value}'"


def sql_after(step: DeliveryStep) -> str:
    """The status `step` leads to, as SQL: a statement sets a delivery's status only from the table."""
    return sql_status(target_of(step))


_SUB_COLUMNS = ("id, url, event_types, dialect, auth_kind, secret, previous_secret, previous_secret_until, "
                "basic_username, seller_id, enabled, disabled_reason, created_at, channels")
_DELIVERY_COLUMNS = ("id, subscription_id, event_id, event_position, order_id, sequence, status, attempts, "
                     "next_attempt_at, lease_until, last_status, last_error, created_at, delivered_at")
_OPEN = sql_in(OPEN_STATUSES)
_PENDING = sql_status(DeliveryStatus.PENDING)
_DELIVERING = sql_status(DeliveryStatus.DELIVERING)
_REQUEUE = (f"status = {sql_after(DeliveryStep.REQUEUE)}, attempts = 0, "
            "next_attempt_at = :now, lease_until = NULL")

_DUE = (
    "SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id "
    f"WHERE d.status IN {sql_in(from_statuses(DeliveryStep.CLAIM))} AND d.next_attempt_at <= :now AND s.enabled = :t "
    "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.subscription_id = d.subscription_id "
    f"AND p.order_id = d.order_id AND p.sequence < d.sequence AND p.status IN {_OPEN}) "
    "{held}ORDER BY d.next_attempt_at, d.id LIMIT :n")
_CLAIM = sa.text(f"UPDATE webhook_deliveries SET status = {sql_after(DeliveryStep.CLAIM)}, attempts = attempts + 1, "
                 "lease_until = :lease, next_attempt_at = :lease WHERE id IN :ids"
                 ).bindparams(sa.bindparam("ids", expanding=True))
_LOAD = sa.text(
    "SELECT d.id, d.attempts, d.lease_until, d.trace_context, d.subscription_id, s.url, s.dialect, s.auth_kind, "
    "s.secret, s.previous_secret, s.previous_secret_until, s.basic_username, e.id AS event_id, e.type, e.seller_id, "
    "e.sequence, e.occurred_at, e.actor, e.data, e.order_id, o.order_number, o.channel "
    "FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id "
    "JOIN events e ON e.id = d.event_id JOIN orders o ON o.id = e.order_id WHERE d.id IN :ids ORDER BY d.id"
).bindparams(sa.bindparam("ids", expanding=True))
_FINISH = sa.text(
    "UPDATE webhook_deliveries SET status = :status, next_attempt_at = :next, lease_until = NULL, "
    "last_status = :code, last_error = :error, delivered_at = :delivered "
    f"WHERE id = :id AND status = {_DELIVERING} AND lease_until = :fence")
# A claim given back unsent (the worker is stopping): the attempt it counted is undone.
_RELEASE = sa.text(
    f"UPDATE webhook_deliveries SET status = CASE WHEN attempts > 1 THEN {sql_after(DeliveryStep.RELEASE_RETRY)} "
    f"ELSE {sql_after(DeliveryStep.RELEASE)} END, attempts = attempts - 1, next_attempt_at = :now, "
    f"lease_until = NULL WHERE id = :id AND status IN {sql_in(from_statuses(DeliveryStep.RELEASE))} "
    "AND lease_until = :fence")
# The claim reads due rows from ix_webhook_deliveries_due in order and stops at its limit. Statistics
# that count few due rows (the table analyzed while its queue was empty, before a backlog) would have
# PostgreSQL fetch and sort the whole backlog at every claim instead: O(backlog) per batch, just when
# the worker has most to catch up. Sorting is off for the claim's own transaction only.
_READ_IN_INDEX_ORDER = sa.text("SELECT set_config('enable_sort', 'off', true)")
_ATTEMPT = sa.text(
    "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms, response_excerpt, error) "
    "VALUES (:delivery_id, :attempted_at, :status_code, :duration_ms, :response_excerpt, :error)")


@cache
def _due_statements(postgres: bool) -> tuple[sa.TextClause, sa.TextClause]:
    """The claim's statements, all due rows and all but those held, built once per process: every unit
    of work has a webhook repository, most never claim."""
    lock = " FOR UPDATE OF d SKIP LOCKED" if postgres else ""
    return (sa.text(_DUE.format(held="") + lock),
            sa.text(_DUE.format(held="AND d.id NOT IN :held ") + lock).bindparams(
                sa.bindparam("held", expanding=True)))


#: The columns that hold a credential (`url` only when `auth_kind` is secret_url), and those that decide.
_SEALED = ("secret", "previous_secret", "url")
_SEALING = frozenset((*_SEALED, "auth_kind"))


class WebhookRepository:
    def __init__(self, conn: Connection, *, postgres: bool, sealer: Sealer = UNKEYED) -> None:
        self._conn = conn
        self._postgres = postgres
        self._sealer = sealer
        self._due, self._due_not_held = _due_statements(postgres)

    # -- subscriptions -------------------------------------------------------------------------

    def add_subscription(self, sub: dict[str, Any]) -> None:
        names = [c.strip() for c in _SUB_COLUMNS.split(",")]
        self._conn.execute(sa.text(f"INSERT INTO webhook_subscriptions ({_SUB_COLUMNS}) VALUES "
                                   f"({', '.join(':' + n for n in names)})"),
                           {**sub, **self._sealed(sub), "event_types": json.dumps(sub["event_types"]),
                            "channels": _channels(sub.get("channels"))})

    def subscription(self, sub_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
        lock = " FOR UPDATE" if for_update and self._postgres else ""
        row = self._conn.execute(sa.text(f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions WHERE id = :id{lock}"),
                                 {"id": sub_id}).first()
        return self._opened(_subscription(row)) if row else None

    def subscriptions(self, seller_id: str | None = None) -> list[dict[str, Any]]:
        """Every subscription, or one seller's own (those that name it)."""
        where = "WHERE seller_id = :s " if seller_id is not None else ""
        rows = self._conn.execute(sa.text(f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions {where}"
                                          "ORDER BY created_at, id"), {"s": seller_id}).all()
        return [self._opened(_subscription(r)) for r in rows]

    def update_subscription(self, sub_id: str, changes: dict[str, Any]) -> None:
        if "event_types" in changes:
            changes = {**changes, "event_types": json.dumps(changes["event_types"])}
        if "channels" in changes:
            changes = {**changes, "channels": _channels(changes["channels"])}
        if changes.keys() & _SEALING:  # what is sealed follows the auth kind the row ends up with
            current = self.subscription(sub_id) or {}
            changes = {**changes, **self._sealed({**current, **changes})}
        sets = ", ".join(f"{name} = :{name}" for name in changes)
        self._conn.execute(sa.text(f"UPDATE webhook_subscriptions SET {sets} WHERE id = :id"),
                           {**changes, "id": sub_id})

    def delete_subscription(self, sub_id: str) -> None:
        self._conn.execute(sa.text("DELETE FROM webhook_attempts WHERE delivery_id IN "
                                   "(SELECT id FROM webhook_deliveries WHERE subscription_id = :s)"), {"s": sub_id})
        self._conn.execute(sa.text("DELETE FROM webhook_deliveries WHERE subscription_id = :s"), {"s": sub_id})
        self._conn.execute(sa.text("DELETE FROM webhook_subscriptions WHERE id = :s"), {"s": sub_id})

    # -- the worker's side -------------------------------------------------------------------------

    def claim(self, now: datetime, lease_until: datetime, limit: int, held: Sequence[int] = ()) -> list[int]:
        """Take up to `limit` due deliveries (PostgreSQL: rows other workers hold are skipped), but none of
        `held`: deliveries whose lease ran out while the claiming worker itself still holds them."""
        if self._postgres:
            self._conn.execute(_READ_IN_INDEX_ORDER)
        due, params = self._due, {"now": now, "t": True, "n": limit}
        if held:
            due, params = self._due_not_held, {**params, "held": list(held)}
        ids = list(self._conn.execute(due, params).scalars())
        if ids:
            self._conn.execute(_CLAIM, {"ids": ids, "lease": lease_until})
        return ids

    def load(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """What sending the claimed deliveries needs: the event, its order number, the subscription.
        A subscription whose secrets the keys cannot open comes with `unopened` (the error)
        instead of them, for the worker to record that delivery as failed."""
        if not ids:
            return []
        out = []
        for r in self._conn.execute(_LOAD, {"ids": list(ids)}):
            row = dict(r._mapping)
            try:
                row = self._opened(row)
            except SecretsUnavailable as exc:
                row.update(dict.fromkeys(_SEALED), unopened=exc)
            row["data"] = codec.load_event_data(row["type"], row["data"])
            row["occurred_at"] = codec.as_utc(row["occurred_at"])
            # `lease_until` stays as the database returned it: it goes back verbatim as the fence.
            if row["previous_secret_until"] is not None:
                row["previous_secret_until"] = codec.as_utc(row["previous_secret_until"])
            out.append(row)
        return out

    def finish(self, outcomes: Sequence[dict[str, Any]], attempts: Sequence[dict[str, Any]]) -> None:
        """Record attempts and, for claims still ours (`fence`), the outcome."""
        if attempts:
            self._conn.execute(_ATTEMPT, list(attempts))
        if outcomes:
            self._conn.execute(_FINISH, list(outcomes))  # executemany: one pipelined round trip

    def release(self, claims: Sequence[dict[str, Any]]) -> None:
        """Give back claims never sent (`id`, `fence`, `now`): due at once, the claim's attempt undone."""
        if claims:
            self._conn.execute(_RELEASE, list(claims))

    def rotate_secrets(self) -> tuple[int, int]:
        """Seal every subscription's credentials with the first key (`Sealer.rotate`): plain ones and
        those sealed with an older key. Returns (subscriptions changed, subscriptions)."""
        lock = " FOR UPDATE" if self._postgres else ""
        rows = self._conn.execute(sa.text("SELECT id, auth_kind, url, secret, previous_secret "
                                          f"FROM webhook_subscriptions ORDER BY id{lock}")).all()
        changed = 0
        for row in rows:
            now = {name: getattr(row, name) for name in _sealed_columns(row.auth_kind) if getattr(row, name)}
            rotated = {name: self._sealer.rotate(value) for name, value in now.items()}
            rotated = {name: value for name, value in rotated.items() if value != now[name]}
            if rotated:
                sets = ", ".join(f"{name} = :{name}" for name in rotated)
                self._conn.execute(sa.text(f"UPDATE webhook_subscriptions SET {sets} WHERE id = :id"),
                                   {**rotated, "id": row.id})
                changed += 1
        return changed, len(rows)

    def _sealed(self, sub: dict[str, Any]) -> dict[str, Any]:
        """The credential columns of `sub` as they are stored: sealed (the URL only if it is the credential)."""
        sealing = _sealed_columns(sub["auth_kind"])
        return {name: self._sealer.seal(sub[name]) if name in sealing and sub[name] is not None else sub[name]
                for name in _SEALED}

    def _opened(self, sub: dict[str, Any]) -> dict[str, Any]:
        for name in _SEALED:
            if sub[name] is not None:
                sub[name] = self._sealer.open(sub[name])
        return sub

    def disable(self, sub_id: str, reason: str) -> None:
        self._conn.execute(sa.text("UPDATE webhook_subscriptions SET enabled = :f, disabled_reason = :r "
                                   "WHERE id = :id"), {"f": False, "r": reason[:200], "id": sub_id})

    # -- the operator's side -----------------------------------------------------------------------

    def deliveries(self, *, subscription_id: str | None, status: DeliveryStatus | None, limit: int,
                   before_id: int | None = None, ids: Iterable[int] | None = None,
                   order_id: str | None = None, owner: str | None = None) -> list[dict[str, Any]]:
        """Newest first, with their attempts (oldest first); with `owner`, only deliveries of the
        subscriptions of that seller."""
        clauses: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        if owner is not None:
            clauses.append("subscription_id IN (SELECT id FROM webhook_subscriptions WHERE seller_id = :owner)")
            params["owner"] = owner
        if order_id is not None:
            clauses.append("order_id = :o")
            params["o"] = order_id
        if subscription_id is not None:
            clauses.append("subscription_id = :s")
            params["s"] = subscription_id
        if status is not None:
            clauses.append("status = :st")
            params["st"] = DeliveryStatus(status).value
        if before_id is not None:
            clauses.append("id < :b")
            params["b"] = before_id
        stmt_ids = None
        if ids is not None:
            clauses.append("id IN :ids")
            stmt_ids = list(ids)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        stmt = sa.text(f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries {where} ORDER BY id DESC LIMIT :limit")
        if stmt_ids is not None:
            stmt = stmt.bindparams(sa.bindparam("ids", expanding=True))
            params["ids"] = stmt_ids
        found = [dict(r._mapping) for r in self._conn.execute(stmt, params)]
        if found:
            attempts: dict[int, list[dict[str, Any]]] = {}
            rows = self._conn.execute(sa.text(
                "SELECT delivery_id, attempted_at, status_code, duration_ms, response_excerpt, error "
                "FROM webhook_attempts WHERE delivery_id IN :ids ORDER BY attempted_at, id"
            ).bindparams(sa.bindparam("ids", expanding=True)), {"ids": [d["id"] for d in found]})
            for a in rows:
                attempts.setdefault(a.delivery_id, []).append(
                    {"attempted_at": codec.as_utc(a.attempted_at), "status_code": a.status_code,
                     "duration_ms": a.duration_ms, "response_excerpt": a.response_excerpt, "error": a.error})
            for d in found:
                d["attempt_log"] = attempts.get(d["id"], [])
                for name in ("next_attempt_at", "lease_until", "created_at", "delivered_at"):
                    if d[name] is not None:
                        d[name] = codec.as_utc(d[name])
        return found

    def redeliver(self, delivery_id: int, now: datetime) -> bool:
        """Queue a delivery again (a fresh retry budget), unless a worker holds it right now."""
        result = self._conn.execute(sa.text(
            f"UPDATE webhook_deliveries SET {_REQUEUE} "
            f"WHERE id = :id AND status IN {sql_in(from_statuses(DeliveryStep.REQUEUE))}"),
            {"id": delivery_id, "now": now})
        return result.rowcount == 1

    def redeliver_dead(self, sub_id: str, now: datetime) -> int:
        """Queue every dead delivery of a subscription again (a fresh retry budget each); how many."""
        return self._conn.execute(sa.text(
            f"UPDATE webhook_deliveries SET {_REQUEUE} WHERE subscription_id = :s "
            f"AND status = {sql_status(DeliveryStatus.DEAD)}"), {"s": sub_id, "now": now}).rowcount

    def replay(self, sub: dict[str, Any], since: datetime, now: datetime) -> int:
        """Queue every event since `since` the subscription wants: finished deliveries again, missing
        ones anew (events from before the subscription existed, too). In-flight ones are left alone."""
        seller = "AND e.seller_id = :seller " if sub["seller_id"] else ""
        params = {"s": sub["id"], "since": since, "now": now, "seller": sub["seller_id"]}
        missing = self._conn.execute(sa.text(
            f"SELECT e.id, e.type, o.channel FROM events e JOIN orders o ON o.id = e.order_id "
            f"WHERE e.occurred_at >= :since {seller}"
            "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.subscription_id = :s AND d.event_id = e.id)"),
            params).all()
        channels = sub.get("channels")
        new = [{"s": sub["id"], "e": r.id, "now": now} for r in missing
               if wants(sub["event_types"], r.type) and (channels is None or r.channel in channels)]
        if new:
            self._conn.execute(sa.text(
                "INSERT INTO webhook_deliveries (subscription_id, event_id, event_position, order_id, seller_id, "
                "sequence, status, attempts, next_attempt_at, created_at) SELECT :s, id, position, order_id, "
                f"seller_id, sequence, {_PENDING}, 0, :now, :now FROM events WHERE id = :e"), new)
        again = self._conn.execute(sa.text(
            f"UPDATE webhook_deliveries SET {_REQUEUE} "
            f"WHERE subscription_id = :s AND status IN {sql_in(FINISHED_STATUSES)} AND event_id IN "
            "(SELECT id FROM events WHERE occurred_at >= :since)"), params)
        return len(new) + again.rowcount

    # -- the change feed ---------------------------------------------------------------------------

    def feed(self, after: tuple[int, int], limit: int, seller_id: str | None,
             channel: str | None = None) -> list[dict[str, Any]]:
        """Events in feed order after the cursor `(xid, position)`; see docs/webhooks.md.

        PostgreSQL: ordered by the writing transaction's id, and only events of transactions older
        than every transaction still running — so nothing can ever appear behind a cursor.
        SQLite: writers are serialized, so position order is commit order."""
        seller = " AND e.seller_id = :seller" if seller_id else ""
        if channel is not None:
            seller += " AND o.channel = :channel"
        if self._postgres:
            sql = ("SELECT e.xid, e.position, e.id, e.type, e.order_id, o.order_number, e.seller_id, e.sequence, "
                   "e.occurred_at, e.actor, e.data, o.channel FROM events e JOIN orders o ON o.id = e.order_id "
                   "WHERE e.xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint "
                   f"AND (e.xid, e.position) > (:ax, :ap){seller} ORDER BY e.xid, e.position LIMIT :n")
        else:
            sql = ("SELECT 0 AS xid, e.position, e.id, e.type, e.order_id, o.order_number, e.seller_id, "
                   "e.sequence, e.occurred_at, e.actor, e.data, o.channel "
                   "FROM events e JOIN orders o ON o.id = e.order_id "
                   f"WHERE e.position > :ap{seller} ORDER BY e.position LIMIT :n")
        rows = self._conn.execute(sa.text(sql), {"ax": after[0], "ap": after[1], "n": limit, "seller": seller_id,
                                                 "channel": channel})
        return [{**dict(r._mapping), "occurred_at": codec.as_utc(r.occurred_at),
                 "data": codec.load_event_data(r.type, r.data)} for r in rows]


def _sealed_columns(auth_kind: str) -> tuple[str, ...]:
    return _SEALED if auth_kind == "secret_url" else _SEALED[:2]


def _channels(channels: list[str] | None) -> str | None:
    """A subscription's channels as stored: a JSON list, or null for every channel."""
    return None if channels is None else json.dumps(sorted(set(channels)))


def _subscription(row: Any) -> dict[str, Any]:
    sub = dict(row._mapping)
    sub["event_types"] = json.loads(sub["event_types"])
    sub["channels"] = None if sub["channels"] is None else json.loads(sub["channels"])
    sub["enabled"] = bool(sub["enabled"])
    for name in ("created_at", "previous_secret_until"):
        if sub[name] is not None:
            sub[name] = codec.as_utc(sub[name])
    return sub
