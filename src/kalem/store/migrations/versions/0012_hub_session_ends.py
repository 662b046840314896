"""hub_session_ends: hub sessions ended by signing out, until their cookie would have expired

Revision ID: 0012_hub_sessions
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_hub_sessions"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_session_ends",
        sa.Column("sid", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hub_session_ends_expires_at", "hub_session_ends", ["expires_at"])


def downgrade() -> None:
    op.drop_table("hub_session_ends")
