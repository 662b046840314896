"""api_tokens.created_by: the credential that made a token through the API (a token id, `user:<name>`,
or `admin`), so that revoking it revokes what it made; NULL for tokens made with `kalem token create`

Revision ID: 0014_token_creators
Revises: 0012_sessions
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_token_creators"
down_revision = "0012_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as tokens:
        tokens.add_column(sa.Column("created_by", sa.String(140)))
    op.create_index("ix_api_tokens_created_by", "api_tokens", ["created_by"])
    op.create_index("ix_api_tokens_seller_id", "api_tokens", ["seller_id"])


def downgrade() -> None:
    op.drop_index("ix_api_tokens_seller_id", "api_tokens")
    op.drop_index("ix_api_tokens_created_by", "api_tokens")
    with op.batch_alter_table("api_tokens") as tokens:
        tokens.drop_column("created_by")
