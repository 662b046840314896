"""users.password_changed_at: when a user's password was last set by someone (not a rehash at login), so
that hub sessions and face JWTs issued before it stop working

Revision ID: 0016_password_changes
Revises: 0014_token_creators
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_password_changes"
down_revision = "0014_token_creators"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.drop_column("password_changed_at")
