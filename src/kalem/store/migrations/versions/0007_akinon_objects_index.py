"""akinon_ids: a partial index for listing Akinon cancellation requests

Revision ID: 0007
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_akinon_ids_objects", "akinon_ids", ["seller_id", "pk"],
                    postgresql_where=sa.text("unit_index = -1"), sqlite_where=sa.text("unit_index = -1"))


def downgrade() -> None:
    op.drop_index("ix_akinon_ids_objects", table_name="akinon_ids")
