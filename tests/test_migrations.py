"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kalem.bootstrap.platforms import metadata
from kalem.store.db import create_engine
from kalem.store.migrate import upgrade


def _differences(url: str) -> list:
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata())
    finally:
        engine.dispose()


def test_sqlite_migrations_match_the_schema(tmp_path):
    assert _differences(f"sqlite:///{tmp_path}/m.db") == []


def test_postgresql_migrations_match_the_schema(postgres):
    assert _differences(_fresh_postgres(postgres)) == []


def test_the_whole_schema_holds_every_platforms_tables():
    """A platform defines its own tables with it, on the store's metadata; the whole schema has them."""
    from kalem.bootstrap.platforms import PLATFORMS

    whole = metadata()
    own = [table for platform in PLATFORMS for table in platform.tables()]
    assert {t.name for t in own} == {"hebiar_ids", "n11_line_ids", "n11_carried_line_ids", "n11_packages", "akinon_ids"}
    assert all(whole.tables[t.name] is t for t in own)


def test_autogenerate_compares_with_the_whole_schema_it_is_given(tmp_path):
    """Alembic's environment compares with the schema its caller passes (the store cannot import the
    platforms' tables): with the whole schema there is nothing to generate; with none it refuses,
    rather than proposing to drop the tables it was not shown."""
    from alembic import command
    from alembic.util import CommandError

    from kalem.store.migrate import alembic_config

    url = f"sqlite:///{tmp_path}/m.db"
    upgrade(url)
    command.check(alembic_config(url, metadata()))  # raises when the migrations and the schema differ
    with pytest.raises(CommandError, match="does not provide a MetaData"):
        command.check(alembic_config(url))


def _fresh_postgres(postgres: str) -> str:
    name = "mig_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return postgres.rsplit("/", 1)[0] + "/" + name


def _billing_refunds_move_to_the_refunds_table(url: str) -> None:
    """Revision 0009: a refund of amounts kept in an order's billing body becomes a refund record."""
    import json
    from datetime import UTC, datetime
    from decimal import Decimal

    from kalem.domain.billing.landed_cost import load_default_rate_table
    from kalem.domain.billing.order_billing import initial_billing
    from kalem.domain.events.event import Actor
    from kalem.domain.orders.order import LineSpec, OrderSpec, place_order
    from kalem.domain.refunds.records import RefundCause, RefundStatus
    from kalem.store.db import Database
    from kalem.store.uow import UnitOfWork

    upgrade(url, "0004")
    upgrade(url, "0005")
    upgrade(url, "0014_channels")  # today's order rows (with their channel); 0009 is still to come
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = OrderSpec("acme", "M1", "USD", (LineSpec("a", "A", "A", 1, Decimal("19.99"), hs_code="610910"),),
                     shipping_amount=Decimal("5.00"), destination_country="US")
    order, _ = place_order(spec, order_id="ord_m1", actor=Actor("operator", "admin"), now=now)
    db = Database.connect(url)
    try:
        with UnitOfWork(db) as uow:
            uow.orders.add(order, "h")
            uow.billing.save(initial_billing(order, load_default_rate_table()), seller_id="acme", now=now)
            uow.commit()
        legacy = [["refund_1", "21.49", "USD", "damaged", [["ITEM", "19.99"], ["SHIPPING", "1.50"]],
                   now.isoformat(), "operator:admin"]]
        with db.engine.begin() as conn:
            body = json.loads(conn.execute(sa.text("SELECT body FROM order_billing")).scalar_one())
            conn.execute(sa.text("UPDATE order_billing SET body = :b"), {"b": json.dumps({**body, "refunds": legacy})})
        upgrade(url)
        with UnitOfWork(db, write=False) as uow:
            [refund] = uow.refunds.for_order("ord_m1")
            assert uow.billing.get("ord_m1") is not None
        with db.engine.connect() as conn:
            assert "refunds" not in json.loads(conn.execute(sa.text("SELECT body FROM order_billing")).scalar_one())
        assert (refund.id, refund.cause, refund.status, refund.amount) == (
            "refund_1", RefundCause.AMOUNTS, RefundStatus.PENDING, Decimal("21.49"))
        assert refund.breakdown["note"] == "damaged" and refund.created_at == now
        assert refund.breakdown["subtotals"] == [{"type": "ITEM", "amount": "19.99"},
                                                 {"type": "SHIPPING", "amount": "1.50"}]
        assert refund.breakdown["shipping_amount"] == "1.50"
    finally:
        db.dispose()


def test_sqlite_billing_refunds_move_to_the_refunds_table(tmp_path):
    _billing_refunds_move_to_the_refunds_table(f"sqlite:///{tmp_path}/m.db")


def test_postgresql_billing_refunds_move_to_the_refunds_table(postgres):
    _billing_refunds_move_to_the_refunds_table(_fresh_postgres(postgres))


def _orders_get_the_channel_they_came_from(url: str) -> None:
    """Revision 0014_channels: each existing order's channel is the one it can be known to have come
    from — its intake's named channel, a marketplace face a change came through, n11's ids — else direct."""
    import json
    from datetime import UTC, datetime

    at = datetime(2026, 1, 1, tzinfo=UTC)
    for revision in ("0013_sealed", "0003"):
        upgrade(url, revision)
    engine = create_engine(url)
    rows = {"o_web": "WEB", "o_bad": "A B", "o_zonos": None, "o_n11": None, "o_plain": None, "o_hg": "hepsiglobal"}
    try:
        with engine.begin() as conn:
            for order_id, channel in rows.items():
                body = {"currency": "TRY", "shipping_amount": "0", "attributes": {}, "lines": [], "packages": [],
                        **({"channel": channel} if channel else {})}
                conn.execute(sa.text(
                    "INSERT INTO orders (id, seller_id, order_number, status, version, last_sequence, intake_hash, "
                    "created_at, updated_at, body) VALUES (:id, 'acme', :id, 'open', 1, 1, 'h', :at, :at, :b)"),
                    {"id": order_id, "at": at, "b": json.dumps(body)})
            conn.execute(sa.text(
                "INSERT INTO events (id, order_id, seller_id, sequence, type, occurred_at, actor, data) "
                "VALUES ('e1', 'o_zonos', 'acme', 2, 'order.cancelled', :at, 'seller:t', :d)"),
                {"at": at, "d": json.dumps({"via": "zonos"})})
            conn.execute(sa.text(
                "INSERT INTO n11_line_ids (seller_id, order_id, package_id, line_id, created_at) "
                "VALUES ('acme', 'o_n11', 'p', 'l', :at)"), {"at": at})
        upgrade(url)
        with engine.connect() as conn:
            found = dict(conn.execute(sa.text("SELECT id, channel FROM orders")).all())
        assert found == {"o_web": "WEB", "o_bad": "direct", "o_zonos": "zonos", "o_n11": "n11", "o_plain": "direct",
                         "o_hg": "hepsiglobal"}
    finally:
        engine.dispose()


def test_sqlite_orders_get_the_channel_they_came_from(tmp_path):
    _orders_get_the_channel_they_came_from(f"sqlite:///{tmp_path}/m.db")


def test_postgresql_orders_get_the_channel_they_came_from(postgres):
    _orders_get_the_channel_they_came_from(_fresh_postgres(postgres))


#: The triggers on `orders`: they number new orders and their channels, and keep the n11 package index.
_TRIGGERS = {
    "sqlite": ("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'orders'",
               {"orders_number", "orders_channel_number", "orders_n11_packages_insert", "orders_n11_packages_update"}),
    "postgresql": ("SELECT tgname FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal",
                   {"orders_number", "orders_channel_number", "orders_n11_packages"}),
}


def _orders_keep_their_numbering_trigger(url: str) -> None:
    """Every trigger on `orders` outlives every later migration of it (a table rebuild on SQLite would
    drop them silently: new orders would go unnumbered, or unlisted on the n11 face)."""
    upgrade(url)
    engine = create_engine(url)
    try:
        query, expected = _TRIGGERS[engine.dialect.name]
        with engine.connect() as conn:
            assert set(conn.execute(sa.text(query)).scalars()) == expected
    finally:
        engine.dispose()


def test_sqlite_orders_keep_their_numbering_trigger(tmp_path):
    _orders_keep_their_numbering_trigger(f"sqlite:///{tmp_path}/m.db")


def test_postgresql_orders_keep_their_numbering_trigger(postgres):
    _orders_keep_their_numbering_trigger(_fresh_postgres(postgres))


def _n11_accounts_push_splits(url: str) -> None:
    """Revision 0016_channel_packages: n11 accounts made before it push the splits decided in kalem
    too; other platforms' accounts push what they did."""
    import json
    from datetime import UTC, datetime

    at = datetime(2026, 1, 1, tzinfo=UTC)
    upgrade(url, "0015_channel_drift")
    engine = create_engine(url)
    types = {"cha_n11": ("n11", ["cancel_request.approved", "lines.cancelled"]),
             "cha_zonos": ("zonos", ["lines.cancelled", "order.cancelled"])}
    try:
        with engine.begin() as conn:
            for account_id, (platform, pushed) in types.items():
                conn.execute(sa.text(
                    "INSERT INTO channel_accounts (id, seller_id, platform, channel, base_url, credentials, "
                    "push_types, enabled, created_at, next_pull_at, consecutive_failures) VALUES "
                    "(:id, 'acme', :p, :p, 'http://x', 'sealed', :t, :e, :at, :at, 0)"),
                    {"id": account_id, "p": platform, "t": json.dumps(pushed), "e": True, "at": at})
        upgrade(url)
        with engine.connect() as conn:
            found = {r.id: json.loads(r.push_types) for r in conn.execute(sa.text(
                "SELECT id, push_types FROM channel_accounts"))}
        assert found == {"cha_n11": ["cancel_request.approved", "lines.cancelled", "package.split"],
                         "cha_zonos": ["lines.cancelled", "order.cancelled"]}
    finally:
        engine.dispose()


def _channels_are_numbered(url: str) -> None:
    """Revision 0016_channel_numbers: the channels kalem knows by name keep fixed numbers, the seller's own
    channels of existing orders are numbered from 100 in the order their first order came, and a new
    channel is numbered when its first order is inserted — once, whatever inserts it."""
    from datetime import UTC, datetime, timedelta

    at = datetime(2026, 1, 1, tzinfo=UTC)
    upgrade(url, "0014_channels")
    engine = create_engine(url)
    insert = sa.text("INSERT INTO orders (id, seller_id, order_number, status, version, last_sequence, intake_hash, "
                     "created_at, updated_at, body, channel) VALUES (:id, 'acme', :id, 'open', 1, 1, 'h', :at, :at, "
                     "'{}', :channel)")
    try:
        with engine.begin() as conn:
            for minutes, (order_id, channel) in enumerate((("o1", "n11"), ("o2", "app"), ("o3", "WEB"),
                                                           ("o4", "app"), ("o5", "direct"))):
                conn.execute(insert, {"id": order_id, "at": at + timedelta(minutes=minutes), "channel": channel})
        upgrade(url)
        numbers = "SELECT channel, number FROM channel_numbers"
        with engine.connect() as conn:
            assert dict(conn.execute(sa.text(numbers)).all()) == {
                "direct": 1, "n11": 2, "hepsiglobal": 3, "zonos": 4, "hebiar": 5, "akinon": 6, "app": 100, "WEB": 101}
        with engine.begin() as conn:
            for order_id, channel in (("o6", "WEB"), ("o7", "zonos"), ("o8", "new-shop"), ("o9", "new-shop"),
                                      ("o10", "other")):
                conn.execute(insert, {"id": order_id, "at": at, "channel": channel})
        with engine.connect() as conn:
            found = dict(conn.execute(sa.text(numbers)).all())
        assert (len(found), found["WEB"], found["zonos"], found["new-shop"], found["other"]) == (10, 101, 4, 102, 103)
    finally:
        engine.dispose()


def test_sqlite_n11_accounts_push_splits(tmp_path):
    _n11_accounts_push_splits(f"sqlite:///{tmp_path}/m.db")


def test_postgresql_n11_accounts_push_splits(postgres):
    _n11_accounts_push_splits(_fresh_postgres(postgres))


def test_sqlite_channels_are_numbered(tmp_path):
    _channels_are_numbered(f"sqlite:///{tmp_path}/m.db")


def test_postgresql_channels_are_numbered(postgres):
    _channels_are_numbered(_fresh_postgres(postgres))
