"""orders.channel: every order's sales channel, a real column indexed with its seller; webhook
subscriptions may name the channels they hear of (`channels`, null: every channel)

Existing orders are given the channel they can be known to have come from, first rule that applies:
1. the channel their intake named (kept in the order's body until now), when it is a valid name;
2. the marketplace or platform face a change of theirs came through (an event's `via`);
3. n11's face numbered their lines (n11 ids were minted for them): `n11`;
4. otherwise `direct`, the seller's own sale.

Revision ID: 0014_channels
Revises: 0013_sealed, 0003
"""
import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0014_channels"
# After the webhooks' branch (subscriptions gain `channels`) and n11's ids (0003), which the backfill reads.
down_revision = ("0013_sealed", "0003")
branch_labels = None
depends_on = None

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
#: The faces whose own channel an order changed through them belongs to (`via` on its events).
_MARKETPLACES = ("n11", "hepsiglobal", "zonos")
_BATCH = 500


def upgrade() -> None:
    # Plain ADD COLUMN with a constant default: no table is rebuilt on SQLite (a rebuild would copy every
    # order and drop the orders table's trigger that numbers new orders).
    op.add_column("orders", sa.Column("channel", sa.String(40), nullable=False, server_default="direct"))
    _backfill(op.get_bind())
    op.create_index("ix_orders_seller_channel_created", "orders", ["seller_id", "channel", "created_at"])
    op.add_column("webhook_subscriptions", sa.Column("channels", sa.Text(), nullable=True))


def _backfill(conn: sa.engine.Connection) -> None:
    via: dict[str, str] = {}
    for order_id, data in conn.execute(sa.text("SELECT order_id, data FROM events WHERE data LIKE '%\"via\"%' "
                                               "ORDER BY position")):
        face = json.loads(data).get("via")
        if face in _MARKETPLACES:
            via.setdefault(order_id, face)
    numbered_by_n11 = set(conn.execute(sa.text("SELECT DISTINCT order_id FROM n11_line_ids")).scalars())
    after = ""
    while True:
        rows = conn.execute(sa.text("SELECT id, body FROM orders WHERE id > :after ORDER BY id LIMIT :n"),
                            {"after": after, "n": _BATCH}).all()
        if not rows:
            return
        changes = [{"id": order_id, "channel": channel} for order_id, body in rows
                   if (channel := _channel(order_id, body, via, numbered_by_n11)) != "direct"]
        if changes:
            conn.execute(sa.text("UPDATE orders SET channel = :channel WHERE id = :id"), changes)
        after = rows[-1][0]


def _channel(order_id: str, body: str, via: dict[str, str], numbered_by_n11: set[str]) -> str:
    named = json.loads(body).get("channel")
    if isinstance(named, str) and _NAME.match(named.strip()):
        return named.strip()
    if order_id in via:
        return via[order_id]
    if order_id in numbered_by_n11:
        return "n11"
    return "direct"


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as subscriptions:
        subscriptions.drop_column("channels")
    with op.batch_alter_table("orders") as orders:
        orders.drop_index("ix_orders_seller_channel_created")
        orders.drop_column("channel")
