"""n11_packages: every package of the n11 channel's orders with its status and last change, kept by
triggers on `orders` (so the n11 face selects a page of a date window in SQL); existing orders indexed

Revision ID: 0016_n11_packages
Revises: 0014_channels, 0014_unit_pages
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_n11_packages"
down_revision = ("0014_channels", "0014_unit_pages")
branch_labels = None
depends_on = None

CHANNEL = "n11"

# A package in an order's body is [id, status, items, history, cargo tracking number, parent id], its
# history [[status, ISO 8601 time], ...], the last entry its last change. The times are aware ISO 8601
# (`+HH:MM`, microseconds when not zero); SQLite's date functions round to milliseconds, so its
# microseconds are read from the text.
_SQLITE_PACKAGES = (
    "SELECT {id} AS order_id, pid AS package_id, {seller} AS seller_id, st AS status, "
    "CAST(strftime('%s', substr(at, 1, 19) || substr(at, -6)) AS INTEGER) * 1000000 "
    "+ CASE WHEN substr(at, 20, 1) = '.' THEN CAST(substr(at, 21, 6) AS INTEGER) ELSE 0 END AS modified_us "
    "FROM (SELECT json_extract(value, '$[0]') AS pid, json_extract(value, '$[1]') AS st, "
    "json_extract(value, '$[3][#-1][1]') AS at FROM json_each({body}, '$.packages'))")
_PG_PACKAGES = (
    "SELECT {id}, p->>0, {seller}, p->>1, (extract(epoch FROM (p->3->-1->>1)::timestamptz) * 1000000)::bigint "
    "FROM jsonb_array_elements(({body})::jsonb->'packages') AS p")
_INSERT = "INSERT INTO n11_packages (order_id, package_id, seller_id, status, modified_us) "


def upgrade() -> None:
    op.create_table(
        "n11_packages",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("modified_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "package_id"),
    )
    op.create_index("ix_n11_packages_seller_modified", "n11_packages", ["seller_id", "modified_us", "package_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_INSERT + "SELECT x.* FROM orders o CROSS JOIN LATERAL ("
                   + _PG_PACKAGES.format(id="o.id", seller="o.seller_id", body="o.body")
                   + f") AS x WHERE o.channel = '{CHANNEL}'")
        fill = _INSERT + _PG_PACKAGES.format(id="NEW.id", seller="NEW.seller_id", body="NEW.body")
        op.execute("CREATE FUNCTION kalem_n11_packages() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF TG_OP = 'UPDATE' THEN DELETE FROM n11_packages WHERE order_id = NEW.id; END IF; "
                   f"{fill}; RETURN NULL; END $$")
        op.execute("CREATE TRIGGER orders_n11_packages AFTER INSERT OR UPDATE OF body ON orders FOR EACH ROW "
                   f"WHEN (NEW.channel = '{CHANNEL}') EXECUTE FUNCTION kalem_n11_packages()")
    else:
        fill = _INSERT + _SQLITE_PACKAGES.format(id="NEW.id", seller="NEW.seller_id", body="NEW.body")
        op.execute(f"CREATE TRIGGER orders_n11_packages_insert AFTER INSERT ON orders "
                   f"WHEN NEW.channel = '{CHANNEL}' BEGIN {fill}; END")
        op.execute(f"CREATE TRIGGER orders_n11_packages_update AFTER UPDATE OF body ON orders "
                   f"WHEN NEW.channel = '{CHANNEL}' BEGIN DELETE FROM n11_packages WHERE order_id = NEW.id; "
                   f"{fill}; END")
        # The existing orders, through the trigger just made.
        op.execute(f"UPDATE orders SET body = body WHERE channel = '{CHANNEL}'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER orders_n11_packages ON orders")
        op.execute("DROP FUNCTION kalem_n11_packages()")
    else:
        op.execute("DROP TRIGGER orders_n11_packages_insert")
        op.execute("DROP TRIGGER orders_n11_packages_update")
    op.drop_index("ix_n11_packages_seller_modified", table_name="n11_packages")
    op.drop_table("n11_packages")
