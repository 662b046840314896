"""n11: an orderLineId carried over a split to the new package that holds the part's first unit

Revision ID: 0011_n11_carried
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_n11_carried"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "n11_carried_line_ids",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("order_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "package_id", "line_id"),
    )
    op.create_index("ix_n11_carried_line_ids_id", "n11_carried_line_ids", ["order_line_id"])


def downgrade() -> None:
    op.drop_index("ix_n11_carried_line_ids_id", table_name="n11_carried_line_ids")
    op.drop_table("n11_carried_line_ids")
