"""refunds: the order's index also names the seller, so an order's refunds are found by both keys

The lock that reads an order's refunds with it names the order and its seller. With an index on the
order alone, the planner may take the seller's index instead when both look alike to it (a young
table, a cached generic plan), and then reads every refund of the seller for each decision: a cost
that grows with the database. The order's look-ups by its id alone use the same index.

Revision ID: 0017_refunds_by_order
Revises: 0014_refund_policy
"""
from alembic import op

revision = "0017_refunds_by_order"
down_revision = "0014_refund_policy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_refunds_order", table_name="refunds")
    op.create_index("ix_refunds_order", "refunds", ["order_id", "seller_id"])


def downgrade() -> None:
    op.drop_index("ix_refunds_order", table_name="refunds")
    op.create_index("ix_refunds_order", "refunds", ["order_id"])
