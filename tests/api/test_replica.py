"""KALEM_DATABASE_REPLICA_URL: the read-only list endpoints read the replica; reads of one order and
writes stay on the primary. Proved with a "replica" that holds other data than the primary."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from kalem.store.db import Database
from kalem.store.migrate import upgrade
from tests.conftest import ADMIN, serving
from tests.support import order


def _other_database(server, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if server.db.is_sqlite:
        url = f"sqlite:///{tmp_path}/replica.db"
    else:
        name = f"replica_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(server.settings.database_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = server.settings.database_url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    return url


def test_listings_read_the_replica(server, api, tmp_path):
    replica_url = _other_database(server, tmp_path)
    replica = Database.connect(replica_url)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    try:
        with serving(server.settings, replica) as only_replica, httpx.Client(base_url=only_replica,
                                                                               headers=headers) as direct:
            # a database of its own: its sellers are not the primary's
            assert direct.post("/v1/orders", json={**order("4200000002"), "create_seller": True}).status_code == 201
            assert direct.post("/v1/cancel-requests", json={"order_number": "4200000002", "lines": [
                {"line_id": "item000002", "quantity": 1, "reason_id": 137}]}).status_code == 201
        assert api.post("/v1/orders", json=order("4200000001")).status_code == 201
        settings = server.settings.model_copy(update={"database_replica_url": replica_url})
        with serving(settings, server.db) as base, httpx.Client(base_url=base, headers=headers) as client:
            listed = [o["order_number"] for o in client.get("/v1/orders").json()["data"]]
            queue = [r["order_number"] for r in client.get("/v1/cancel-requests").json()["data"]]
            own = client.get("/v1/orders/4200000001")
            not_on_primary = client.get("/v1/orders/4200000002")
            written = client.post("/v1/orders", json=order("4200000003"))
    finally:
        replica.dispose()
    assert listed == ["4200000002"] and queue == ["4200000002"]  # from the replica
    assert own.status_code == 200 and not_on_primary.status_code == 404  # one order: the primary
    assert written.status_code == 201
    assert {o["order_number"] for o in api.get("/v1/orders").json()["data"]} == {"4200000001", "4200000003"}
