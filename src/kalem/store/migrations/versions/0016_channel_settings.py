"""channel_accounts.settings: an account's options for its connector, one JSON object (such as the map from
kalem's reason codes to the platform's reason ids); null: none

Revision ID: 0016_channel_settings
Revises: 0015_channel_drift
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_channel_settings"
down_revision = "0015_channel_drift"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("channel_accounts", sa.Column("settings", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_accounts") as accounts:
        accounts.drop_column("settings")
