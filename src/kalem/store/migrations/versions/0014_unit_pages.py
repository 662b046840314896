"""order_serials: every order's integer serial, numbered by a trigger when the order is inserted;
existing orders numbered in the order they were taken in

Revision ID: 0014_unit_pages
Revises: 0011_hebiar
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_unit_pages"
down_revision = "0011_hebiar"
branch_labels = None
depends_on = None

_NUMBER = "INSERT INTO order_serials (order_id, seller_id) VALUES (NEW.id, NEW.seller_id)"


def upgrade() -> None:
    op.create_table(
        "order_serials",
        sa.Column("serial", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("serial"),
        sa.UniqueConstraint("order_id", name="uq_order_serials_order"),
        sqlite_autoincrement=True,
    )
    op.execute("INSERT INTO order_serials (order_id, seller_id) "
               "SELECT id, seller_id FROM orders ORDER BY created_at, id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION kalem_number_order() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {_NUMBER}; RETURN NULL; END $$")
        op.execute("CREATE TRIGGER orders_number AFTER INSERT ON orders "
                   "FOR EACH ROW EXECUTE FUNCTION kalem_number_order()")
    else:
        op.execute(f"CREATE TRIGGER orders_number AFTER INSERT ON orders BEGIN {_NUMBER}; END")


def downgrade() -> None:
    op.execute("DROP TRIGGER orders_number" + (" ON orders" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION kalem_number_order()")
    op.drop_table("order_serials")
