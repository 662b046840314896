"""hub_session_ends: hub sessions ended by signing out, until their cookie would have expired;
users.disabled_at: a user who may no longer log in

Revision ID: 0012_sessions
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_sessions"
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
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.drop_column("disabled_at")
    op.drop_table("hub_session_ends")
