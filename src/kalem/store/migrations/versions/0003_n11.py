"""n11: the face's orderLineIds, one per (package, line)

Revision ID: 0003
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = ("n11",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "n11_line_ids",
        sa.Column("order_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_line_id"),
        sa.UniqueConstraint("order_id", "package_id", "line_id", name="uq_n11_line_ids_part"),
    )


def downgrade() -> None:
    op.drop_table("n11_line_ids")
