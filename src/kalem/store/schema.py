"""The tables. An order is one row (its lines and packages in a JSON body, so one lock, one read and
one write per change); side tables index what is looked up by something other than the order."""

from __future__ import annotations

import sqlalchemy as sa

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
    sa.UniqueConstraint("seller_id", "order_number", name="uq_orders_seller_number"),
    sa.Index("ix_orders_number", "order_number"),
    sa.Index("ix_orders_seller_created", "seller_id", "created_at"),
)

order_lines = sa.Table(
    "order_lines", metadata,
    sa.Column("seller_id", sa.String(64), primary_key=True),
    sa.Column("line_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Index("ix_order_lines_line", "line_id"),
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
    sa.UniqueConstraint("order_id", "sequence", name="uq_events_order_sequence"),
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
)

users = sa.Table(
    "users", metadata,
    sa.Column("username", sa.String(128), primary_key=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("seller_id", sa.String(64)),
    sa.Column("created_at", TS, nullable=False),
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
)
