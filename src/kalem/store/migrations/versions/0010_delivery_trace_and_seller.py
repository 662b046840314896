"""webhook_deliveries: the seller (the distribution key, so an outbox row lives with its event), and
the W3C traceparent of the request that queued the delivery

Revision ID: 0010
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_deliveries", sa.Column("seller_id", sa.String(64)))
    op.add_column("webhook_deliveries", sa.Column("trace_context", sa.String(64)))
    op.execute("UPDATE webhook_deliveries SET seller_id = "
               "(SELECT seller_id FROM events WHERE events.id = webhook_deliveries.event_id)")


def downgrade() -> None:
    op.drop_column("webhook_deliveries", "trace_context")
    op.drop_column("webhook_deliveries", "seller_id")
