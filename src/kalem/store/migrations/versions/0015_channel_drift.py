"""channel_drift: orders whose state on a channel's platform differs from kalem's ledger, as the last
reconciliation found them

Revision ID: 0015_channel_drift
Revises: 0014_channel_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_channel_drift"
down_revision = "0014_channel_accounts"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_drift",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("seller_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("order_number", sa.String(64), nullable=False),
        sa.Column("lines", sa.Text, nullable=False),
        sa.Column("found_at", TS, nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.UniqueConstraint("account_id", "order_id", name="uq_channel_drift_account_order"),
    )


def downgrade() -> None:
    op.drop_table("channel_drift")
