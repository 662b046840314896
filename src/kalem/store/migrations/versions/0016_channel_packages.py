"""channel_packages: the platform's id of each package of an order a push has learnt (a platform that
numbers packages itself, such as n11, splits them under ids of its own); n11 accounts push package splits

Revision ID: 0016_channel_packages
Revises: 0015_channel_drift
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0016_channel_packages"
down_revision = "0015_channel_drift"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
SPLIT = "package.split"


def _push_types(add: bool) -> None:
    """n11's connector pushes a split decided in kalem from now on: its accounts say so."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, push_types FROM channel_accounts WHERE platform = 'n11'")).all()
    for row in rows:
        types = set(json.loads(row.push_types))
        types = types | {SPLIT} if add else types - {SPLIT}
        conn.execute(sa.text("UPDATE channel_accounts SET push_types = :t WHERE id = :id"),
                     {"t": json.dumps(sorted(types)), "id": row.id})


def upgrade() -> None:
    op.create_table(
        "channel_packages",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("package_id", sa.String(64), nullable=False),
        sa.Column("platform_package_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "order_id", "package_id"),
    )
    _push_types(add=True)


def downgrade() -> None:
    _push_types(add=False)
    op.drop_table("channel_packages")
