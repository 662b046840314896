"""refund_policies: a seller's refund policy per channel (channel '' is the seller-wide row);
an index for listing refunds by status

Revision ID: 0014_refund_policy
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_refund_policy"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "refund_policies",
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("seller_id", "channel"),
    )
    op.create_index("ix_refunds_status_created", "refunds", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_refunds_status_created", table_name="refunds")
    op.drop_table("refund_policies")
