"""webhook_subscriptions: room for sealed values (store/sealed.py) in the columns that hold a credential
(a sealed value is a third longer than its plain text, and about 100 characters more)

Revision ID: 0013_sealed
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_sealed"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = {"url": sa.String(2000), "secret": sa.String(512), "previous_secret": sa.String(512)}


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as subscriptions:
        for name, was in COLUMNS.items():
            subscriptions.alter_column(name, type_=sa.Text(), existing_type=was, existing_nullable=name != "url")


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as subscriptions:
        for name, was in COLUMNS.items():
            subscriptions.alter_column(name, type_=was, existing_type=sa.Text(), existing_nullable=name != "url")
