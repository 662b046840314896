"""refunds: refund records, return requests, seller cancellation strategies, Akinon integer ids

Revision ID: 0004
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("refunds",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_refunds_order", "refunds", ["order_id"])
    op.create_index("ix_refunds_seller_created", "refunds", ["seller_id", "created_at"])
    op.create_table(
        "return_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_return_requests_order", "return_requests", ["order_id"])
    op.create_index("ix_return_requests_seller_status", "return_requests", ["seller_id", "status", "created_at"])
    op.create_table(
        "seller_strategies",
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("seller_id"),
    )
    op.create_table(
        "akinon_ids",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("unit_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("order_id", "line_id", "unit_index", name="uq_akinon_ids_unit"),
    )


def downgrade() -> None:
    op.drop_table("akinon_ids")
    op.drop_table("seller_strategies")
    op.drop_index("ix_return_requests_seller_status", table_name="return_requests")
    op.drop_index("ix_return_requests_order", table_name="return_requests")
    op.drop_table("return_requests")
    op.drop_index("ix_refunds_seller_created", table_name="refunds")
    op.drop_index("ix_refunds_order", table_name="refunds")
    op.drop_table("refunds")
