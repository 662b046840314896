"""The tables. An order is one row (its lines and packages in a JSON body, so one lock, one read and
one write per change); side tables index what is looked up by something other than the order.

A platform's own tables (the ids its face shows) are defined with the platform, on this `metadata`:
the whole schema is `kalem.bootstrap.platforms.metadata()`."""

from __future__ import annotations

import sqlalchemy as sa

from kalem.domain.webhooks import OPEN_STATUSES
from kalem.store.webhooks import sql_in

metadata = sa.MetaData()

TS = sa.DateTime(timezone=True)

sellers = sa.Table(
    "sellers", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", TS, nullable=False),
)

orders = sa.Table(
    "orders", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("order_number", sa.String(64), nullable=False),
    sa.Column("account_order_number", sa.String(64)),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("last_sequence", sa.Integer, nullable=False),
    sa.Column("intake_hash", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    # Where the order was sold (domain/orders/channels.py); set at intake, never changed (migration 0014_channels).
    sa.Column("channel", sa.String(40), nullable=False, server_default="direct"),
    sa.UniqueConstraint("seller_id", "order_number", name="uq_orders_seller_number"),
    sa.Index("ix_orders_number", "order_number"),
    sa.Index("ix_orders_seller_created", "seller_id", "created_at"),
    sa.Index("ix_orders_seller_channel_created", "seller_id", "channel", "created_at"),
)

order_lines = sa.Table(
    "order_lines", metadata,
    sa.Column("seller_id", sa.String(64), primary_key=True),
    sa.Column("line_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Index("ix_order_lines_line", "line_id"),
)

# Every order's integer serial, in the order orders were taken in: for the faces whose platforms key an
# order and its parts by integers (they compute those from it, so that reading an order never writes).
# Filled by a trigger on `orders` (migration 0014_unit_pages), so every way an order is inserted numbers
# it in the intake transaction; `sqlite_autoincrement` so a serial is never given twice.
order_serials = sa.Table(
    "order_serials", metadata,
    sa.Column("serial", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.UniqueConstraint("order_id", name="uq_order_serials_order"),
    sqlite_autoincrement=True,
)

# Every sales channel's integer number, for the faces whose platforms key channels by integers: given by a
# trigger on `orders` when a channel's first order is inserted (migration 0016_channel_numbers, which also
# fixes the numbers of the channels kalem knows by name), never changed.
channel_numbers = sa.Table(
    "channel_numbers", metadata,
    sa.Column("number", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.UniqueConstraint("channel", name="uq_channel_numbers_channel"),
    sqlite_autoincrement=True,
)

cancel_requests = sa.Table(
    "cancel_requests", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("order_number", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("ix_cancel_requests_seller_status", "seller_id", "status", "created_at"),
    sa.Index("ix_cancel_requests_status", "status", "created_at"),
    sa.Index("ix_cancel_requests_order", "order_id"),
)

events = sa.Table(
    "events", metadata,
    sa.Column("position", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("occurred_at", TS, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    # PostgreSQL: the writing transaction's id (migration 0006, docs/webhooks.md) orders the change feed.
    sa.Column("xid", sa.BigInteger),
    sa.UniqueConstraint("order_id", "sequence", name="uq_events_order_sequence"),
    sa.Index("ix_events_feed", "xid", "position"),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("seller_id", sa.String(64)),
    sa.Column("name", sa.String(128)),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS),
    sa.Column("revoked_at", TS),
    # Who made it through the API (a token id, `user:<name>`, `admin`): revoking that revokes this too.
    sa.Column("created_by", sa.String(140)),
    sa.Index("ix_api_tokens_created_by", "created_by"),
    sa.Index("ix_api_tokens_seller_id", "seller_id"),
)

users = sa.Table(
    "users", metadata,
    sa.Column("username", sa.String(128), primary_key=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("seller_id", sa.String(64)),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("disabled_at", TS),
    sa.Column("password_changed_at", TS),  # credentials issued before it (sessions, JWTs) stop working
)

# A hub session is a signed cookie; signing out ends it here, until the cookie would have expired anyway.
hub_session_ends = sa.Table(
    "hub_session_ends", metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("expires_at", TS, nullable=False),
    sa.Index("ix_hub_session_ends_expires_at", "expires_at"),
)

idempotency_keys = sa.Table(
    "idempotency_keys", metadata,
    sa.Column("principal", sa.String(80), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("response", sa.Text),
    sa.Column("locked_until", TS, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    # The worker forgets keys older than the retention, oldest first, in small batches.
    sa.Index("ix_idempotency_keys_created_at", "created_at"),
)

# Billing of an order (invoices, credit notes, landed-cost history, refunds): one JSON body per
# order, written in the transaction that changes the order and under the order's lock.
order_billing = sa.Table(
    "order_billing", metadata,
    sa.Column("order_id", sa.String(40), primary_key=True),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)


# Webhooks (migration 0006, docs/webhooks.md): subscriptions, the outbox of deliveries written in the
# business transaction, and every attempt.
webhook_subscriptions = sa.Table(
    "webhook_subscriptions", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    # Text: these hold sealed values (store/sealed.py), longer than the plain text the API takes in.
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("event_types", sa.Text, nullable=False),
    sa.Column("dialect", sa.String(16), nullable=False),
    sa.Column("auth_kind", sa.String(16), nullable=False),
    sa.Column("secret", sa.Text),
    sa.Column("previous_secret", sa.Text),
    sa.Column("previous_secret_until", TS),
    sa.Column("basic_username", sa.String(256)),
    sa.Column("seller_id", sa.String(64)),
    # JSON list of the channels whose orders it hears of; null: every channel (migration 0014_channels).
    sa.Column("channels", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.String(200)),
    sa.Column("created_at", TS, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("subscription_id", sa.String(40), nullable=False),
    sa.Column("event_id", sa.String(40), nullable=False),
    sa.Column("event_position", sa.BigInteger, nullable=False),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("lease_until", TS),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.String(500)),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("delivered_at", TS),
    sa.Column("seller_id", sa.String(64)),  # the event's: the distribution key (docs/scaling.md)
    # The W3C traceparent of the request that queued it, while tracing is on (links the worker's spans).
    sa.Column("trace_context", sa.String(64)),
    sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_sub_event"),
    # The claim walks open deliveries in due order and stops after a batch: a partial index keeps
    # delivered history (the bulk of the table) out of it.
    sa.Index("ix_webhook_deliveries_due", "next_attempt_at", "id",
             postgresql_where=sa.text(f"status IN {sql_in(OPEN_STATUSES)}"),
             sqlite_where=sa.text(f"status IN {sql_in(OPEN_STATUSES)}")),
    sa.Index("ix_webhook_deliveries_order", "subscription_id", "order_id", "sequence"),
)

webhook_attempts = sa.Table(
    "webhook_attempts", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.BigInteger, nullable=False),
    sa.Column("attempted_at", TS, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("response_excerpt", sa.String(1000)),
    sa.Column("error", sa.String(500)),
    sa.Index("ix_webhook_attempts_delivery", "delivery_id", "attempted_at"),
)

# Refunds, returns and per-seller cancellation strategies (migration 0004, docs/refunds.md). A
# refund's IBAN has a column of its own so the JSON body never holds it.
refunds = sa.Table(
    "refunds", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("order_number", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("iban", sa.String(34)),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("ix_refunds_order", "order_id", "seller_id"),
    sa.Index("ix_refunds_seller_created", "seller_id", "created_at"),
    sa.Index("ix_refunds_status_created", "status", "created_at"),
)

return_requests = sa.Table(
    "return_requests", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("order_number", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("ix_return_requests_order", "order_id"),
    sa.Index("ix_return_requests_seller_status", "seller_id", "status", "created_at"),
)

seller_strategies = sa.Table(
    "seller_strategies", metadata,
    sa.Column("seller_id", sa.String(64), primary_key=True),
    sa.Column("strategy", sa.Text, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
)

# A seller's refund policy per channel (migration 0014_refund_policy, docs/refunds.md); channel ''
# is the seller-wide row.
refund_policies = sa.Table(
    "refund_policies", metadata,
    sa.Column("seller_id", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("policy", sa.String(16), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
)

# Channel accounts and their outbound outbox (migration 0014_channel_accounts, docs/channels.md). Credentials
# are one sealed JSON object (store/sealed.py); health and the pull watermark live on the account.
channel_accounts = sa.Table(
    "channel_accounts", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("base_url", sa.String(2000), nullable=False),
    sa.Column("credentials", sa.Text, nullable=False),
    sa.Column("push_types", sa.Text, nullable=False),   # JSON list of the event types its connector pushes
    sa.Column("settings", sa.Text),   # JSON object of options for its connector (migration 0016_channel_settings)
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("watermark", sa.String(200)),
    sa.Column("next_pull_at", TS, nullable=False),
    sa.Column("last_success_at", TS),
    sa.Column("last_error_at", TS),
    sa.Column("last_error_kind", sa.String(64)),
    sa.Column("last_error", sa.String(500)),
    sa.Column("consecutive_failures", sa.Integer, nullable=False),
    sa.UniqueConstraint("seller_id", "channel", name="uq_channel_accounts_seller_channel"),
    sa.Index("ix_channel_accounts_due", "next_pull_at"),
)

channel_pushes = sa.Table(
    "channel_pushes", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(40), nullable=False),
    sa.Column("event_id", sa.String(40), nullable=False),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("last_error_kind", sa.String(64)),
    sa.Column("last_error", sa.String(500)),
    sa.Column("last_body", sa.Text),    # the platform's answer a dead letter was given up on, kept whole
    sa.Column("created_at", TS, nullable=False),
    sa.Column("finished_at", TS),
    sa.UniqueConstraint("account_id", "event_id", name="uq_channel_pushes_account_event"),
    sa.Index("ix_channel_pushes_due", "status", "next_attempt_at", "id"),
    sa.Index("ix_channel_pushes_account", "account_id", "status", "id"),
)

# The platform's id of each of an order's packages that a push learnt, per account (migration
# 0016_channel_packages): a platform that numbers packages itself splits them under ids of its own.
channel_packages = sa.Table(
    "channel_packages", metadata,
    sa.Column("account_id", sa.String(40), primary_key=True),
    sa.Column("order_id", sa.String(40), primary_key=True),
    sa.Column("package_id", sa.String(64), primary_key=True),
    sa.Column("platform_package_id", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

channel_drift = sa.Table(
    "channel_drift", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("account_id", sa.String(40), nullable=False),
    sa.Column("seller_id", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("order_number", sa.String(64), nullable=False),
    sa.Column("lines", sa.Text, nullable=False),    # JSON: per differing line, kalem's counts and the platform's
    sa.Column("found_at", TS, nullable=False),
    sa.Column("seen_at", TS, nullable=False),
    sa.UniqueConstraint("account_id", "order_id", name="uq_channel_drift_account_order"),
)
