"""webhook_deliveries.trace_context: the W3C traceparent of the request that queued the delivery

Revision ID: 0009_trace
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_trace"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_deliveries", sa.Column("trace_context", sa.String(64)))


def downgrade() -> None:
    op.drop_column("webhook_deliveries", "trace_context")
