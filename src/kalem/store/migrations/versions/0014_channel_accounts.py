"""channel_accounts: a seller's accounts on the platforms kalem connects to (sealed credentials, health,
pull watermark); channel_pushes: the outbox of decisions to send to them

Revision ID: 0014_channel_accounts
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_channel_accounts"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_accounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("seller_id", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("base_url", sa.String(2000), nullable=False),
        sa.Column("credentials", sa.Text, nullable=False),
        sa.Column("push_types", sa.Text, nullable=False),
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
    )
    op.create_index("ix_channel_accounts_due", "channel_accounts", ["next_pull_at"])
    op.create_table(
        "channel_pushes",
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
        sa.Column("last_body", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.UniqueConstraint("account_id", "event_id", name="uq_channel_pushes_account_event"),
    )
    op.create_index("ix_channel_pushes_due", "channel_pushes", ["status", "next_attempt_at", "id"])
    op.create_index("ix_channel_pushes_account", "channel_pushes", ["account_id", "status", "id"])


def downgrade() -> None:
    op.drop_table("channel_pushes")
    op.drop_table("channel_accounts")
