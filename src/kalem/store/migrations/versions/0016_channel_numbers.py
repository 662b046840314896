"""channel_numbers: every sales channel's integer number, given when the channel's first order is
inserted (a trigger on `orders`) and never changed, for the faces whose platforms key channels by integers

The channels kalem knows by name keep fixed small numbers: direct 1, n11 2, hepsiglobal 3, zonos 4,
hebiar 5, akinon 6. A seller's own channel names are numbered from 100 up in the order their first
order was taken in; 7–99 stay free for channels kalem comes to know by name later.

Revision ID: 0016_channel_numbers
Revises: 0014_channels
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_channel_numbers"
down_revision = "0014_channels"
branch_labels = None
depends_on = None

_KNOWN = ("direct", "n11", "hepsiglobal", "zonos", "hebiar", "akinon")
_FIRST_OWN = 100
# The NOT EXISTS keeps an insert of an order of a numbered channel from writing (or, on PostgreSQL, from
# drawing a number from the sequence); ON CONFLICT settles two first orders of a channel at once.
_NUMBER = ("INSERT INTO channel_numbers (channel) SELECT NEW.channel WHERE NOT EXISTS "
           "(SELECT 1 FROM channel_numbers WHERE channel = NEW.channel) ON CONFLICT (channel) DO NOTHING")


def upgrade() -> None:
    op.create_table(
        "channel_numbers",
        sa.Column("number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("number"),
        sa.UniqueConstraint("channel", name="uq_channel_numbers_channel"),
        sqlite_autoincrement=True,
    )
    table = sa.table("channel_numbers", sa.column("number", sa.Integer), sa.column("channel", sa.String))
    op.bulk_insert(table, [{"number": n, "channel": name} for n, name in enumerate(_KNOWN, start=1)])
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(f"SELECT setval(pg_get_serial_sequence('channel_numbers', 'number'), {_FIRST_OWN - 1})")
    else:  # AUTOINCREMENT never gives a number below the largest ever used
        op.execute(f"INSERT INTO channel_numbers (number, channel) VALUES ({_FIRST_OWN - 1}, '')")
        op.execute(f"DELETE FROM channel_numbers WHERE number = {_FIRST_OWN - 1}")
    op.execute("INSERT INTO channel_numbers (channel) SELECT channel FROM orders "
               "WHERE channel NOT IN (SELECT channel FROM channel_numbers) "
               "GROUP BY channel ORDER BY MIN(created_at), channel")
    if postgresql:
        op.execute(f"CREATE FUNCTION kalem_number_channel() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {_NUMBER}; RETURN NULL; END $$")
        op.execute("CREATE TRIGGER orders_channel_number AFTER INSERT ON orders "
                   "FOR EACH ROW EXECUTE FUNCTION kalem_number_channel()")
    else:
        op.execute(f"CREATE TRIGGER orders_channel_number AFTER INSERT ON orders BEGIN {_NUMBER}; END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER orders_channel_number" + (" ON orders" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION kalem_number_channel()")
    op.drop_table("channel_numbers")
