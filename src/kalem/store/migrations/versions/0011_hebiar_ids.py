"""hebiar_ids: the Hebiar face's integer ids for the objects of an order

Revision ID: 0011_hebiar
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_hebiar"
down_revision = "0001"
branch_labels = ("hebiar",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hebiar_ids",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("order_id", "key", name="uq_hebiar_ids_key"),
    )


def downgrade() -> None:
    op.drop_table("hebiar_ids")
